// Colorizer: sources, CRS matching, caches and the sampler, batch by batch.
#include "lidarhd/raster/colorize.hpp"

#include <optional>

#include "lidarhd/core/error.hpp"
#include "lidarhd/raster/file_source.hpp"
#include "raster/crs_transform.hpp"

namespace lidarhd::raster {
namespace {

std::string epsg_label(const std::string& crs) {
  const int code = crs_epsg(crs);
  return code ? "EPSG:" + std::to_string(code) : std::string("a CRS without EPSG code");
}

struct Channel {
  std::unique_ptr<RasterSource> source;
  WmsSource* wms = nullptr;  // source, when it is a WMS
  std::unique_ptr<CoordTransform> transform;
  SourceReport report;
  std::vector<double> sums;
  int bands = 0;  // sampled: 3 for RGB, 1 for NIR
};

}  // namespace

struct Colorizer::Impl {
  Impl(const ColorizeOptions& o) : options(o), cache(o.host_cache_bytes), sampler(o.device, o.device_cache_bytes) {}
  ColorizeOptions options;
  BlockCache cache;
  Sampler sampler;
  std::optional<Channel> rgb, irc;

  Channel open(const std::string& spec, const WmsOptions& wms, int bands,
               const std::string& points_crs) {
    Channel ch;
    ch.bands = bands;
    if (spec == "wms") {
      WmsOptions w = wms;
      w.bands = bands;
      auto source = WmsSource::open(w);
      ch.wms = source.get();
      ch.source = std::move(source);
    } else {
      FileSourceOptions f;
      f.crs = options.raster_crs;
      f.bands = bands;
      f.gdal_cache_bytes = options.host_cache_bytes / 4;
      ch.source = open_raster_file(spec, f);
    }
    if (ch.source->bands() < bands) {
      throw FormatError("raster", ch.source->describe() + ": " + std::to_string(bands) +
                                      " bands needed, the raster has " +
                                      std::to_string(ch.source->bands()));
    }
    const std::string raster_crs = ch.source->crs_wkt();
    ch.report.source = ch.source->describe();
    if (raster_crs.empty()) {
      ch.report.crs_note = "the raster has no CRS: assumed to be the point cloud's";
    } else if (points_crs.empty()) {
      throw ArgumentError("colorize", "the point cloud has no CRS but " + ch.report.source +
                                          " is in " + epsg_label(raster_crs) +
                                          ": give the cloud's CRS (--crs EPSG:2154)");
    }
    ch.transform = std::make_unique<CoordTransform>(points_crs, raster_crs);
    if (!raster_crs.empty()) {
      ch.report.crs_note = ch.transform->identity()
                               ? "same CRS (" + epsg_label(raster_crs) + ")"
                               : "points reprojected from " + epsg_label(points_crs) + " to " +
                                     epsg_label(raster_crs);
    }
    ch.report.mean.assign(size_t(bands), 0.0);
    ch.sums.assign(size_t(bands), 0.0);
    return ch;
  }

  void sample(Channel& ch, const double* x, const double* y, size_t n, std::vector<float>& values,
              std::vector<uint8_t>& status) {
    std::vector<double> tx, ty;
    if (!ch.transform->identity()) {
      tx.assign(x, x + n);
      ty.assign(y, y + n);
      ch.transform->apply(tx.data(), ty.data(), n);
      x = tx.data(), y = ty.data();
    }
    const WindowPlan plan = plan_window(*ch.source, x, y, n, options.method);
    const BlockWindow window = make_window(*ch.source, plan, cache.fetch(*ch.source, plan.keys));
    values.resize(n * size_t(ch.bands));
    status.resize(n);
    sampler.sample(window, x, y, n, options.method, ch.bands, options.fill, values.data(),
                   status.data());
    for (size_t i = 0; i < n; ++i) {
      switch (static_cast<SampleStatus>(status[i])) {
        case SampleStatus::kOk:
          ++ch.report.sampled;
          for (int b = 0; b < ch.bands; ++b) ch.sums[size_t(b)] += values[i * size_t(ch.bands) + size_t(b)];
          break;
        case SampleStatus::kOutside: ++ch.report.outside; break;
        case SampleStatus::kNoData: ++ch.report.nodata; break;
      }
    }
    for (int b = 0; b < ch.bands; ++b) {
      ch.report.mean[size_t(b)] = ch.report.sampled ? ch.sums[size_t(b)] / double(ch.report.sampled) : 0.0;
    }
  }
};

Colorizer::Colorizer(const ColorizeOptions& options, const std::string& points_crs)
    : impl_(std::make_unique<Impl>(options)) {
  if (options.rgb.empty() && options.irc.empty()) {
    throw ArgumentError("colorize", "no raster source: give --rgb and/or --irc");
  }
  const std::string crs = options.points_crs.empty() ? points_crs : options.points_crs;
  if (!options.rgb.empty()) impl_->rgb = impl_->open(options.rgb, options.wms_rgb, 3, crs);
  if (!options.irc.empty()) impl_->irc = impl_->open(options.irc, options.wms_irc, 1, crs);
}

Colorizer::~Colorizer() = default;
bool Colorizer::has_rgb() const { return impl_->rgb.has_value(); }
bool Colorizer::has_irc() const { return impl_->irc.has_value(); }

ColorSamples Colorizer::sample(const double* x, const double* y, size_t n) {
  ColorSamples out;
  if (impl_->rgb) impl_->sample(*impl_->rgb, x, y, n, out.rgb, out.rgb_status);
  if (impl_->irc) impl_->sample(*impl_->irc, x, y, n, out.nir, out.nir_status);
  return out;
}

const SourceReport& Colorizer::rgb_report() const {
  static const SourceReport none;
  return impl_->rgb ? impl_->rgb->report : none;
}
const SourceReport& Colorizer::irc_report() const {
  static const SourceReport none;
  return impl_->irc ? impl_->irc->report : none;
}
CacheStats Colorizer::cache_stats() const { return impl_->cache.stats(); }

std::vector<std::pair<std::string, WmsStats>> Colorizer::wms_stats() const {
  std::vector<std::pair<std::string, WmsStats>> out;
  for (const auto* ch : {&impl_->rgb, &impl_->irc}) {
    if (*ch && (*ch)->wms) out.emplace_back((*ch)->report.source, (*ch)->wms->stats());
  }
  return out;
}

}  // namespace lidarhd::raster
