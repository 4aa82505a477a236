// `lidarhd process INPUT... -o OUT`: the end-to-end pipeline (include/lidarhd/pipeline/process.hpp)
// and `lidarhd config show`: the configuration a run would use, as YAML.
#include <unistd.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "lidarhd/core/error.hpp"

#if LIDARHD_WITH_DATASETS
#include "lidarhd/pipeline/process.hpp"
#endif

namespace lidarhd::cli {
namespace {

struct ProcessCli {
  std::vector<std::string> inputs, sets;
  std::string output, config, preset, device, mode, neighbors, memory_budget, device_memory_budget;
  bool force = false, json = false, quiet = false;
};

#if LIDARHD_WITH_DATASETS
// "800M", "2G", "1.5G", "500000000": bytes, the suffixes K, M, G, T being powers of 1024.
uint64_t parse_bytes(const std::string& option, const std::string& text) {
  size_t used = 0;
  double v = -1;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
  }
  std::string unit = text.substr(used);
  if (!unit.empty() && (unit.back() == 'B' || unit.back() == 'b')) unit.pop_back();
  if (unit.size() > 1 && (unit.back() == 'i')) unit.pop_back();
  const std::string units = "KMGT";
  const size_t power = unit.empty() ? 0 : (unit.size() == 1 ? units.find(char(std::toupper(unit[0]))) + 1 : 0);
  if (!(v > 0) || (power == 0 && !unit.empty()) || power > units.size()) {
    throw ArgumentError("process", option + " '" + text + "': expected a size such as 800M or 2G");
  }
  return static_cast<uint64_t>(v * std::pow(1024.0, double(power)));
}

pipeline::Config load(const ProcessCli& c) {
  std::vector<std::string> sets = c.sets;
  if (!c.device.empty()) sets.push_back("device=" + c.device);
  if (!c.mode.empty()) sets.push_back("mode=" + c.mode);
  return pipeline::load_config(c.preset, c.config, sets);
}

void show(const ProcessCli& c) { std::printf("%s", pipeline::to_yaml(load(c)).c_str()); }

void run(const ProcessCli& c) {
  pipeline::ProcessOptions o;
  o.inputs = c.inputs;
  o.output = c.output;
  o.config = load(c);
  o.neighbors = c.neighbors;
  o.force = c.force;
  if (!c.memory_budget.empty()) o.memory_budget = parse_bytes("--memory-budget", c.memory_budget);
  if (!c.device_memory_budget.empty()) {
    o.device_memory_budget = parse_bytes("--device-memory-budget", c.device_memory_budget);
  }
  // On a terminal, a warning first clears the progress bar's line.
  const char* clear = (!c.quiet && isatty(fileno(stderr))) ? "\r\033[K" : "";
  o.warn = [clear](const std::string& line) {
    std::fprintf(stderr, "%sprocess: warning: %s\n", clear, line.c_str());
  };
  if (!c.quiet) {
    o.progress = [](size_t done, size_t total, uint64_t points) {
      const int width = 30, filled = total ? static_cast<int>(width * done / total) : width;
      std::fprintf(stderr, "\rprocess: [%s%s] %zu/%zu tiles, %.2f M points", std::string(filled, '#').c_str(),
                   std::string(width - filled, '.').c_str(), done, total, double(points) / 1e6);
      if (done == total) std::fprintf(stderr, "\n");
    };
  }
  const pipeline::RunSummary s = pipeline::run_process(o);
  if (s.rank != 0) return;  // under MPI, rank 0 reports for the whole run
  if (c.json) {
    std::FILE* f = std::fopen(s.summary_path.c_str(), "r");
    for (int ch; f && (ch = std::fgetc(f)) != EOF;) std::fputc(ch, stdout);
    if (f) std::fclose(f);
  } else {
    std::printf("%s: %zu tiles done, %zu skipped (finished earlier), %zu failed; %.2f M points, "
                "%llu patches, %.1f s\n",
                s.output.c_str(), s.done, s.skipped, s.failed, double(s.points) / 1e6,
                static_cast<unsigned long long>(s.patches), s.seconds);
    for (const auto& t : s.tiles) {
      if (t.status == "failed") {
        std::printf("  FAILED %s: %s\n", t.name.c_str(), t.error.c_str());
      } else if (t.status == "done") {
        std::printf("  %-40s %9llu points %5llu patches  %-5s read %.1fs colours %.1fs features "
                    "%.1fs patches %.1fs write %.1fs\n",
                    t.name.c_str(), static_cast<unsigned long long>(t.points),
                    static_cast<unsigned long long>(t.patches), t.split.c_str(), t.seconds_read,
                    t.seconds_colors, t.seconds_features, t.seconds_patches, t.seconds_write);
      }
    }
    std::printf("  summary: %s\n", s.summary_path.c_str());
  }
  if (s.failed) throw Error("process", std::to_string(s.failed) + " tile(s) failed (see above)");
}
#else
[[noreturn]] void not_built(const ProcessCli&) {
  throw ArgumentError("process", "this build has no dataset support (configured with "
                                 "-DLIDARHD_DATASETS=OFF); install libhdf5-dev, libzip-dev and "
                                 "libyaml-cpp-dev and rebuild");
}
void show(const ProcessCli& c) { not_built(c); }
void run(const ProcessCli& c) { not_built(c); }
#endif

void add_config_options(CLI::App* cmd, ProcessCli& c) {
  cmd->add_option("--config", c.config, "YAML configuration file (lidarhd config show prints one)");
  cmd->add_option("--preset", c.preset, "Named preset: minimal, lod2 (default), lod3, full, asprs");
  // One value per --set (repeatable), so a following input file is not taken for a setting.
  cmd->add_option("--set", c.sets, "Override one key, e.g. --set patches.size=100 (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--device,--devices", c.device,
                  "Workers: cpu (default), cpu:N (N CPU workers), cuda:N, a list cuda:0,cuda:1, "
                  "or all (every GPU); = --set device=...");
  cmd->add_option("--mode", c.mode, "patches, enriched or both (= --set mode=...)")
      ->check(CLI::IsMember({"patches", "enriched", "both"}));
}

}  // namespace

void register_process(CLI::App& app) {
  auto c = std::make_shared<ProcessCli>();
  CLI::App* cmd = app.add_subcommand(
      "process", "Tiles -> features, colours, labels -> training patches and/or enriched LAZ");
  cmd->add_option("inputs", c->inputs, "LAS/LAZ/COPC tiles or folders of them")->required();
  cmd->add_option("-o,--output", c->output, "Output folder")->required();
  add_config_options(cmd, *c);
  cmd->add_option("--neighbors", c->neighbors,
                  "Folder of neighbouring tiles used only for halos at tile edges");
  cmd->add_option("--memory-budget", c->memory_budget,
                  "Host memory for the run, e.g. 800M or 4G: larger tiles are streamed from disk "
                  "in spatial chunks (same outputs)");
  cmd->add_option("--device-memory-budget", c->device_memory_budget,
                  "Memory for each worker's feature computation on its device, e.g. 20G: larger "
                  "tiles are computed in spatial chunks (same outputs)");
  cmd->add_flag("--force", c->force, "Redo tiles the manifest lists as finished");
  cmd->add_flag("--json", c->json, "Print the run summary as JSON");
  cmd->add_flag("--quiet", c->quiet, "No progress bar");
  cmd->callback([c] { run(*c); });

  auto s = std::make_shared<ProcessCli>();
  CLI::App* config = app.add_subcommand("config", "Configurations of lidarhd process");
  config->require_subcommand(1);
  CLI::App* show_cmd = config->add_subcommand("show", "Print the full configuration (YAML)");
  add_config_options(show_cmd, *s);
  show_cmd->callback([s] { show(*s); });
}

}  // namespace lidarhd::cli
