// colorize_file: read batches -> coordinates -> Colorizer -> RGB/NIR fields (and ndvi) ->
// writer. Memory is bounded by one batch plus the caches.
#include <chrono>
#include <cmath>
#include <cstring>
#include <optional>

#include "lidarhd/core/error.hpp"
#include "lidarhd/io/reader.hpp"
#include "lidarhd/io/writer.hpp"
#include "lidarhd/raster/colorize.hpp"

namespace lidarhd::raster {
namespace {

constexpr uint64_t kBatchPoints = uint64_t(1) << 20;

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

int colour_point_format(int format, bool rgb, bool nir) {
  if (nir) return (format == 4 || format == 5 || format == 9 || format == 10) ? 10 : 8;
  if (!rgb) return format;
  switch (format) {
    case 0: return 2;
    case 1: return 3;
    case 4: return 5;
    case 6: return 7;
    case 9: return 10;
    default: return format;  // 2, 3, 5, 7, 8, 10 have RGB already
  }
}

uint16_t las_colour_value(float v) {
  const double scaled = std::nearbyint(double(v) * 256.0);
  return static_cast<uint16_t>(scaled < 0 ? 0 : (scaled > 65535 ? 65535 : scaled));
}

namespace {

void put_u16(uint8_t* at, uint16_t v) {
  at[0] = static_cast<uint8_t>(v & 0xFF);
  at[1] = static_cast<uint8_t>(v >> 8);
}

int32_t get_i32(const uint8_t* at) {
  uint32_t v;
  std::memcpy(&v, at, 4);  // little-endian hosts only (as the rest of io/)
  return static_cast<int32_t>(v);
}

}  // namespace

std::string points_crs(const io::LasFileInfo& info) {
  if (info.crs.epsg) return "EPSG:" + std::to_string(info.crs.epsg);
  return info.crs.wkt;
}

ColorizeSummary colorize_file(const std::string& input, const std::string& output,
                              const ColorizeOptions& options) {
  const auto start = Clock::now();
  ColorizeSummary s;
  s.input = input, s.output = output;
  s.device = options.device.to_string();
  s.method = sample_method_name(options.method);
  const bool laz = io::output_is_laz(output, "colorize");

  io::ReadOptions ro;
  ro.threads = options.threads;
  io::PointReader reader(input, ro);
  const io::LasFileInfo& info = reader.info();
  Colorizer colorizer(options, points_crs(info));

  io::WriteOptions wo;
  wo.compressed = laz;
  wo.threads = options.threads;
  wo.point_format = colour_point_format(info.header.point_format, colorizer.has_rgb(), colorizer.has_irc());
  io::LasWriter writer(output, info, wo);
  std::optional<io::ExtraDim> ndvi_dim;
  if (options.ndvi) {
    if (!colorizer.has_rgb() || !colorizer.has_irc()) {
      throw ArgumentError("colorize", "ndvi needs both an RGB and an IRC source");
    }
    io::ExtraDim d;
    d.name = "ndvi";
    d.type = io::ExtraType::kF32;
    d.description = "(nir - red) / (nir + red)";
    ndvi_dim = writer.add_extra_dim(d);
  }
  const io::RecordConverter convert(info, writer.header());
  const io::PointLayout layout = io::point_layout(writer.point_format());
  const auto& scale = writer.header().scale;
  const auto& offset = writer.header().offset;
  const uint32_t len = writer.record_length();
  s.point_format_in = info.header.point_format;
  s.point_format_out = writer.point_format();

  std::vector<uint8_t> batch, records;
  std::vector<double> x, y;
  const uint64_t total = info.header.point_count;
  while (true) {
    auto t = Clock::now();
    const uint64_t n = reader.read_batch(batch, kBatchPoints);
    s.seconds_read += since(t);
    if (n == 0) break;
    t = Clock::now();
    records.resize(n * len);
    convert.convert(batch.data(), n, records.data(), s.points);
    x.resize(n), y.resize(n);
    for (uint64_t i = 0; i < n; ++i) {
      const uint8_t* r = &records[i * len];
      x[i] = get_i32(r) * scale[0] + offset[0];
      y[i] = get_i32(r + 4) * scale[1] + offset[1];
    }
    const ColorSamples c = colorizer.sample(x.data(), y.data(), n);
    for (uint64_t i = 0; i < n; ++i) {
      uint8_t* r = &records[i * len];
      if (!c.rgb.empty()) {
        for (int b = 0; b < 3; ++b) put_u16(r + layout.rgb + 2 * b, las_colour_value(c.rgb[i * 3 + b]));
      }
      if (!c.nir.empty()) put_u16(r + layout.nir, las_colour_value(c.nir[i]));
      if (ndvi_dim) io::set_extra_value(r, *ndvi_dim, ndvi(c.rgb[i * 3], c.nir[i]));
    }
    s.seconds_sample += since(t);
    t = Clock::now();
    writer.write_records(records.data(), n);
    s.seconds_write += since(t);
    s.points += n;
    if (options.progress) options.progress(s.points, total);
  }
  const auto t = Clock::now();
  writer.close();
  s.seconds_write += since(t);
  s.rgb = colorizer.rgb_report();
  s.irc = colorizer.irc_report();
  s.cache = colorizer.cache_stats();
  s.wms = colorizer.wms_stats();
  s.seconds_total = since(start);
  return s;
}

}  // namespace lidarhd::raster
