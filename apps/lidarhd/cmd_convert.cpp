// `lidarhd convert IN OUT`: LAS <-> LAZ by the output extension, point format and version
// changes, COPC -> plain LAZ/LAS, keeping every dimension, extra dimension and VLR. Streams batches
// (memory bounded by the batch and the LAZ chunks in flight); the output appears atomically.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "commands.hpp"
#include "lidarhd/core/error.hpp"
#include "lidarhd/io/reader.hpp"
#include "lidarhd/io/writer.hpp"

namespace lidarhd::cli {
namespace {

constexpr uint64_t kBatchPoints = uint64_t(1) << 18;

struct ConvertOptions {
  std::string input, output;
  int point_format = -1;
  std::string las_version;
  uint32_t chunk_size = io::kDefaultChunkSize;
  unsigned threads = 1;
  std::vector<std::string> extra_dims;  // hidden test option NAME:TYPE[:SCALE]
};

bool ends_with(const std::string& s, const std::string& tail) {
  if (s.size() < tail.size()) return false;
  for (size_t i = 0; i < tail.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[s.size() - tail.size() + i])) != tail[i])
      return false;
  return true;
}

bool output_is_laz(const std::string& out) {
  if (ends_with(out, ".copc.laz"))
    throw ArgumentError("convert", out + ": writing COPC is not supported; name the output "
                                         ".laz (plain LAZ) or .las");
  if (ends_with(out, ".laz")) return true;
  if (ends_with(out, ".las")) return false;
  throw ArgumentError("convert", out + ": the output name must end in .las or .laz (it chooses "
                                       "uncompressed or LAZ)");
}

int parse_version(const std::string& v) {
  if (v.empty()) return -1;
  if (v == "1.2") return 2;
  if (v == "1.3") return 3;
  if (v == "1.4") return 4;
  throw ArgumentError("convert", "--las-version " + v + " is not supported (1.2, 1.3 or 1.4)");
}

// A test-only column: NAME:TYPE[:SCALE] filled with a deterministic pattern that
// tests/python/test_writer_interop.py recomputes (see pattern_value).
struct PatternDim {
  io::ExtraDim dim;
  bool is_unsigned = false;
};

PatternDim parse_pattern_dim(const std::string& spec) {
  const size_t a = spec.find(':');
  if (a == std::string::npos || a == 0)
    throw ArgumentError("convert", "--add-extra-dim '" + spec + "': expected NAME:TYPE[:SCALE]");
  const size_t b = spec.find(':', a + 1);
  PatternDim p;
  p.dim.name = spec.substr(0, a);
  p.dim.type = io::parse_extra_type(spec.substr(a + 1, b == std::string::npos ? b : b - a - 1));
  p.dim.description = "lidarhd test pattern";
  if (b != std::string::npos) {
    try {
      p.dim.scale[0] = std::stod(spec.substr(b + 1));
    } catch (const std::exception&) {
      throw ArgumentError("convert", "--add-extra-dim '" + spec + "': SCALE is not a number");
    }
  }
  const auto t = p.dim.type;
  p.is_unsigned = t == io::ExtraType::kU8 || t == io::ExtraType::kU16 ||
                  t == io::ExtraType::kU32 || t == io::ExtraType::kU64;
  return p;
}

// k = (37 i + 11) mod 101; value = (k - 50) * scale, or k * scale for unsigned types.
double pattern_value(const PatternDim& p, uint64_t i) {
  const double k = double((i * 37 + 11) % 101);
  return (p.is_unsigned ? k : k - 50) * p.dim.scale[0];
}

void run_convert(const ConvertOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  io::WriteOptions wo;
  wo.compressed = output_is_laz(o.output);
  wo.version_minor = parse_version(o.las_version);
  wo.point_format = o.point_format;
  wo.chunk_size = o.chunk_size;
  wo.threads = o.threads;
  io::ReadOptions ro;
  ro.threads = o.threads;
  io::PointReader reader(o.input, ro);
  const io::LasFileInfo& in = reader.info();

  io::LasWriter writer(o.output, in, wo);
  std::vector<PatternDim> patterns;
  for (const auto& spec : o.extra_dims) {
    PatternDim p = parse_pattern_dim(spec);
    p.dim = writer.add_extra_dim(p.dim);
    patterns.push_back(p);
  }
  const io::RecordConverter conv(in, writer.header());
  const uint32_t out_len = writer.record_length();
  std::vector<uint8_t> batch, out;
  uint64_t n, done = 0;
  while ((n = reader.read_batch(batch, kBatchPoints)) > 0) {
    const uint8_t* records = batch.data();
    if (!conv.identity() || !patterns.empty()) {
      out.resize(size_t(n) * out_len);
      conv.convert(batch.data(), n, out.data(), done);
      for (const PatternDim& p : patterns)
        for (uint64_t i = 0; i < n; ++i)
          io::set_extra_value(out.data() + i * out_len, p.dim, pattern_value(p, done + i));
      records = out.data();
    }
    writer.write_records(records, n);
    done += n;
  }
  writer.close();

  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto describe = [](bool laz, bool copc, uint8_t minor, uint8_t pf) {
    return std::string(copc ? "COPC" : laz ? "LAZ" : "LAS") + " 1." + std::to_string(minor) +
           " format " + std::to_string(pf);
  };
  std::string dropped;
  for (const auto& f : conv.dropped_fields()) dropped += (dropped.empty() ? "" : ", ") + f;
  std::printf("converted %s (%s) -> %s (%s): %llu points, %zu extra dim(s), %zu VLR(s), "
              "%.2f s (%.2f M points/s)%s%s\n",
              o.input.c_str(),
              describe(in.laszip.has_value(), in.copc.has_value(), in.header.version_minor,
                       in.header.point_format)
                  .c_str(),
              o.output.c_str(),
              describe(wo.compressed, false, writer.header().version_minor, writer.point_format())
                  .c_str(),
              static_cast<unsigned long long>(done), writer.extra_dims().size(),
              size_t(writer.header().vlr_count), s, s > 0 ? done / s / 1e6 : 0.0,
              dropped.empty() ? "" : "; dropped fields: ", dropped.c_str());
}

}  // namespace

void register_convert(CLI::App& app) {
  auto o = std::make_shared<ConvertOptions>();
  CLI::App* cmd = app.add_subcommand(
      "convert",
      "Rewrite a LAS/LAZ/COPC file as LAS (.las) or LAZ (.laz): point format and LAS version "
      "changes, COPC to plain LAZ; keeps every dimension, extra dimension and VLR");
  cmd->add_option("input", o->input, "LAS, LAZ or COPC file")->required()->check(CLI::ExistingFile);
  cmd->add_option("output", o->output, "Output file; .las writes uncompressed, .laz LAZ")
      ->required();
  cmd->add_option("--point-format", o->point_format,
                  "Output point format 0-10 (default: the input's). Legacy <-> 6-10 conversions "
                  "map returns, classification, flags and scan angle; values the target cannot "
                  "hold are refused")
      ->check(CLI::Range(0, 10));
  cmd->add_option("--las-version", o->las_version,
                  "Output LAS version 1.2, 1.3 or 1.4 (default: the input's, raised to what the "
                  "point format needs)");
  cmd->add_option("--chunk-size", o->chunk_size,
                  "LAZ points per chunk (default 50000; 4294967295 = variable-size chunks)")
      ->check(CLI::Range(1u, 0xFFFFFFFFu));
  o->threads = std::max(1u, std::thread::hardware_concurrency());
  cmd->add_option("--threads", o->threads,
                  "Threads decoding and encoding chunks (default: all cores; the output bytes "
                  "do not depend on it)")
      ->check(CLI::Range(1u, 1024u));
  // Test hook: adds a column filled with a known pattern (interop tests). Hidden from --help.
  cmd->add_option("--add-extra-dim", o->extra_dims, "NAME:TYPE[:SCALE] test pattern column")
      ->group("");
  cmd->callback([o] { run_convert(*o); });
}

}  // namespace lidarhd::cli
