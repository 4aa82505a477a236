#include "pipeline/manifest.hpp"

#include <signal.h>

#include <cerrno>

#include <filesystem>
#include <fstream>
#include <cctype>
#include <sstream>

#include "io/atomic_file.hpp"
#include "lidarhd/core/error.hpp"
#include "util/sha256.hpp"

namespace lidarhd::pipeline::detail {

namespace fs = std::filesystem;
using json = nlohmann::json;

void write_text_atomic(const std::string& path, const std::string& text) {
  io::detail::AtomicFile file(path);
  file.write(text.data(), text.size());
  file.commit();
}

Manifest::Manifest(const std::string& output, const std::string& config_hash)
    : path_((fs::path(output) / "manifest.json").string()), output_(output), hash_(config_hash) {
  std::ifstream in(path_);
  if (!in) return;
  json j;
  try {
    in >> j;
  } catch (const json::exception& e) {
    throw FormatError("process", path_ + ": not a valid manifest (" + e.what() +
                                     "); remove it or use --force");
  }
  if (!j.contains("tiles") || !j["tiles"].is_object()) return;
  if (j.value("config_hash", "") != hash_) {
    stale_ = j["tiles"].size();
    return;
  }
  tiles_ = j["tiles"];
}

bool Manifest::finished(const std::string& tile) const {
  if (!tiles_.contains(tile)) return false;
  for (const auto& out : tiles_[tile].value("outputs", json::array())) {
    if (!fs::exists(fs::path(output_) / out.get<std::string>())) return false;
  }
  return true;
}

void Manifest::record(const TileReport& r) {
  tiles_[r.name] = json{{"input", r.input}, {"points", r.points}, {"patches", r.patches},
                        {"split", r.split}, {"outputs", r.outputs}, {"seconds", r.seconds_total}};
  save();
}

void Manifest::save() const {
  const json j{{"lidarhd", "0.1.0"}, {"config_hash", hash_}, {"tiles", tiles_}};
  write_text_atomic(path_, j.dump(1) + "\n");
}

std::string config_hash(const Config& config) {
  Config c = config;
  c.device = "";
  c.threads = 0;
  const std::string yaml = to_yaml(c);
  return util::sha256_hex(yaml.data(), yaml.size());
}

namespace {

// Whether a process is still running: kill(pid, 0) succeeds for it, and it is not a zombie (a
// killed rank whose parent is gone can stay defunct in a container without a reaping init).
bool running(long pid) {
  if (pid <= 0) return false;
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;  // no /proc: trust kill()
  const size_t paren = line.rfind(')');
  return !(paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z');
}

// The writer's pid in a temporary name ".<name>.tmp-<pid>-<hex>", or -1 for other names.
long temporary_pid(const std::string& name) {
  const size_t at = name.rfind(".tmp-");
  if (name.size() < 2 || name[0] != '.' || at == std::string::npos || at < 2) return -1;
  const size_t dash = name.find('-', at + 5);
  if (dash == std::string::npos || dash == at + 5 || dash - at - 5 > 9 || dash + 1 == name.size()) return -1;
  for (size_t i = at + 5; i < dash; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(name[i]))) return -1;
  }
  for (size_t i = dash + 1; i < name.size(); ++i) {
    if (!std::isxdigit(static_cast<unsigned char>(name[i]))) return -1;
  }
  return std::stol(name.substr(at + 5, dash - at - 5));
}

}  // namespace

size_t remove_stale_temporaries(const std::string& folder) {
  size_t removed = 0;
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) return 0;
  for (auto it = fs::recursive_directory_iterator(folder, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const long pid = temporary_pid(it->path().filename().string());
    if (pid < 0 || !it->is_regular_file(ec)) continue;
    if (!running(pid)) {
      fs::remove(it->path(), ec);
      removed += ec ? 0 : 1;
    }
  }
  return removed;
}

}  // namespace lidarhd::pipeline::detail
