// One tile through the pipeline: read (+ halo) -> colours -> features -> labels -> outputs.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <future>

#include "lidarhd/core/error.hpp"
#include "lidarhd/io/point_table.hpp"
#include "lidarhd/io/reader.hpp"
#include "lidarhd/io/writer.hpp"
#include "lidarhd/patches/dataset.hpp"
#include "lidarhd/patches/patches.hpp"
#include "pipeline/tiles.hpp"

namespace lidarhd::pipeline::detail {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

Cloud cloud_of(const io::LasFileInfo& info, const uint8_t* records, uint64_t n) {
  const uint32_t len = info.header.record_length;
  const auto& sc = info.header.scale;
  const auto& of = info.header.offset;
  const bool extended = info.header.point_format >= 6;
  Cloud c;
  c.x.resize(n), c.y.resize(n), c.z.resize(n), c.cls.resize(n);
#if defined(_OPENMP)
#pragma omp parallel for
#endif
  for (int64_t i = 0; i < static_cast<int64_t>(n); ++i) {
    const uint8_t* r = records + uint64_t(i) * len;
    int32_t xyz[3];
    std::memcpy(xyz, r, sizeof xyz);  // little-endian, as the rest of io/
    c.x[size_t(i)] = xyz[0] * sc[0] + of[0];
    c.y[size_t(i)] = xyz[1] * sc[1] + of[1];
    c.z[size_t(i)] = xyz[2] * sc[2] + of[2];
    // PDRF 6-10: a byte of its own; 0-5: the low 5 bits of byte 15 (LAS 1.4 section 2.6).
    c.cls[size_t(i)] = extended ? r[16] : uint8_t(r[15] & 0x1F);
  }
  return c;
}

void read_halo(const TileInput& tile, const RunContext& ctx, unsigned threads,
               const std::function<void(const Cloud&)>& take) {
  const double h = ctx.config.halo;
  if (h <= 0) return;
  const double x0 = tile.min[0] - h, x1 = tile.max[0] + h, y0 = tile.min[1] - h, y1 = tile.max[1] + h;
  for (const TileInput& other : ctx.halo_sources) {
    if (other.path == tile.path || !other.error.empty()) continue;
    if (other.max[0] < x0 || other.min[0] > x1 || other.max[1] < y0 || other.min[1] > y1) continue;
    io::ReadOptions ro;
    ro.threads = threads;
    io::Box box;
    box.min = {x0, y0, -1e300};
    box.max = {x1, y1, 1e300};
    ro.box = box;  // COPC reads only the nodes it needs; other files are filtered below
    io::PointReader reader(other.path, ro);
    std::vector<uint8_t> records;
    while (const uint64_t count = reader.read_batch(records, uint64_t(1) << 16)) {
      const Cloud c = cloud_of(reader.info(), records.data(), count);
      Cloud kept;
      for (size_t i = 0; i < c.size(); ++i) {
        if (c.x[i] >= x0 && c.x[i] <= x1 && c.y[i] >= y0 && c.y[i] <= y1) kept.add(c.x[i], c.y[i], c.z[i], c.cls[i]);
      }
      take(kept);
    }
  }
}

raster::ColorSamples sample_colours(RunContext& ctx, const io::LasFileInfo& info, const double* x,
                                    const double* y, size_t n, uint64_t& missing) {
  raster::Colorizer& colorizer = colorizer_for(ctx, info);
  // The reports count over the run: these points' share is the difference.
  auto misses = [&] {
    const raster::SourceReport& a = colorizer.rgb_report();
    const raster::SourceReport& b = colorizer.irc_report();
    return a.outside + a.nodata + b.outside + b.nodata;
  };
  const uint64_t before = misses();
  raster::ColorSamples c = colorizer.sample(x, y, n);
  missing += misses() - before;
  return c;
}

std::string missing_colours_warning(uint64_t missing, const RunContext& ctx) {
  return std::to_string(missing) + " colour samples outside the rasters or on NoData (given the fill value " +
         std::to_string(int(ctx.config.colors.fill)) + ")";
}

void LasColourColumns::set(size_t i, const raster::ColorSamples& c, size_t k) {
  if (!c.rgb.empty()) {
    red[i] = raster::las_colour_value(c.rgb[k * 3]);
    green[i] = raster::las_colour_value(c.rgb[k * 3 + 1]);
    blue[i] = raster::las_colour_value(c.rgb[k * 3 + 2]);
  }
  if (!c.nir.empty()) nir[i] = raster::las_colour_value(c.nir[k]);
}

void LasColourColumns::attach(features::PointColumns& cols) const {
  cols.red = red.data(), cols.green = green.data(), cols.blue = blue.data(), cols.nir = nir.data();
}

raster::Colorizer& colorizer_for(RunContext& ctx, const io::LasFileInfo& info) {
  const std::string crs = raster::points_crs(info);
  auto& slot = ctx.colorizers[crs];
  if (!slot) {
    const ColorConfig& c = ctx.config.colors;
    raster::ColorizeOptions o;
    o.rgb = c.rgb, o.irc = c.irc;
    o.raster_crs = c.raster_crs;
    o.method = raster::parse_sample_method(c.method);
    o.device = ctx.device;
    o.fill = static_cast<float>(c.fill);
    // Under a memory budget, decoded imagery gets an eighth of it (a streamed chunk needs a few
    // blocks at a time).
    if (ctx.memory_budget) o.host_cache_bytes = std::max<size_t>(size_t(16) << 20, ctx.memory_budget / 8);
    const std::string cache = c.cache.empty() ? (fs::path(ctx.output) / "cache" / "wms").string() : c.cache;
    for (auto* w : {&o.wms_rgb, &o.wms_irc}) w->cache_dir = cache, w->offline = c.offline;
    o.wms_irc.layer = raster::kIgnIrcLayer;
    slot = std::make_unique<raster::Colorizer>(o, crs);
  }
  return *slot;
}

patches::PatchOptions patch_options(const RunContext& ctx) {
  const PatchConfig& c = ctx.config.patches;
  patches::PatchOptions o;
  o.size = c.size, o.overlap = c.overlap, o.min_points = c.min_points, o.num_points = c.num_points;
  o.sampling = patches::parse_sampling(c.sampling);
  o.voxel_size = c.voxel_size;
  o.normalize = patches::parse_normalize(c.normalize);
  o.augment.copies = c.augment.copies;
  o.augment.rotate = c.augment.rotate;
  o.augment.jitter_sigma = c.augment.jitter_sigma;
  o.augment.jitter_clip = c.augment.jitter_clip;
  o.augment.scale_min = c.augment.scale_min;
  o.augment.scale_max = c.augment.scale_max;
  o.augment.dropout = c.augment.dropout;
  o.seed = ctx.config.seed;
  o.device = ctx.device;
  return o;
}



std::string enriched_path(const std::string& tile) { return "enriched/" + tile + ".laz"; }
std::string patch_folder(const std::string& split, const std::string& tile) {
  return "patches/" + split + "/" + tile;
}

LoadedTile load_tile(const TileInput& tile, const RunContext& ctx) {
  LoadedTile l;
  l.tile = tile;
  const auto start = Clock::now();
  try {
    if (!tile.error.empty()) throw FormatError("process", tile.error);
    if (ctx.memory_budget && in_core_bytes(tile, ctx) > ctx.memory_budget) {
      l.streamed = true;  // read by stream_tile, a part at a time
      return l;
    }
    const unsigned threads = ctx.features.threads ? ctx.features.threads : 1;
    io::ReadOptions ro;
    ro.threads = threads;
    io::PointReader reader(tile.path, ro);
    l.info = reader.info();
    l.records = reader.read_all_records();
    const uint64_t n = l.info.header.record_length ? l.records.size() / l.info.header.record_length : 0;
    l.cloud = cloud_of(l.info, l.records.data(), n);
    read_halo(tile, ctx, threads, [&](const Cloud& c) {
      for (size_t i = 0; i < c.size(); ++i) l.halo.add(c.x[i], c.y[i], c.z[i], c.cls[i]);
    });
  } catch (...) {
    l.error = std::current_exception();
  }
  l.seconds = since(start);
  return l;
}

ComputedTile compute_tile(std::shared_ptr<const LoadedTile> shared, RunContext& ctx, int chunks_per_side) {
  const LoadedTile& loaded = *shared;
  if (loaded.error) std::rethrow_exception(loaded.error);
  ComputedTile out;
  out.loaded = shared;
  if (loaded.streamed) {
    out.report = stream_tile(loaded.tile, ctx);
    out.written = true;
    return out;
  }
  const auto start = Clock::now();
  const TileInput& tile = loaded.tile;
  const io::LasFileInfo& info = loaded.info;
  const Cloud& cloud = loaded.cloud;
  const Cloud& halo = loaded.halo;
  const uint64_t n = cloud.size();
  TileReport& r = out.report;
  r.name = tile.name, r.input = tile.path;
  r.points = n, r.halo_points = halo.size();
  r.seconds_read = loaded.seconds;

  auto t = Clock::now();
  raster::ColorSamples colours;
  if (ctx.colours && n) {
    uint64_t missing = 0;
    colours = sample_colours(ctx, info, cloud.x.data(), cloud.y.data(), n, missing);
    if (missing) r.warnings.push_back(missing_colours_warning(missing, ctx));
  }
  r.seconds_colors = since(t);

  // Features over tile + halo, in local float32 coordinates from a whole-metre origin at the
  // tile's minimum (the merged cloud with the same origin gives the same bits).
  t = Clock::now();
  const size_t total = n + halo.size();
  std::vector<float> lx(total), ly(total), lz(total);
  std::vector<uint8_t> all_cls(total);
  std::array<double, 3> origin{0, 0, 0};
  if (n) {
    origin = {std::floor(*std::min_element(cloud.x.begin(), cloud.x.end())),
              std::floor(*std::min_element(cloud.y.begin(), cloud.y.end())),
              std::floor(*std::min_element(cloud.z.begin(), cloud.z.end()))};
  }
  for (size_t i = 0; i < total; ++i) {
    const Cloud& c = i < n ? cloud : halo;
    const size_t k = i < n ? i : i - n;
    lx[i] = static_cast<float>(c.x[k] - origin[0]);
    ly[i] = static_cast<float>(c.y[k] - origin[1]);
    lz[i] = static_cast<float>(c.z[k] - origin[2]);
    all_cls[i] = c.cls[k];
  }
  LasColourColumns las_colours(total);
  for (uint64_t i = 0; i < n; ++i) las_colours.set(i, colours, i);
  features::PointColumns cols;
  cols.x = lx.data(), cols.y = ly.data(), cols.z = lz.data(), cols.classification = all_cls.data();
  las_colours.attach(cols);
  cols.n = total;
  features::FeatureTable ft;
  const int budget_chunks = chunks_for_budget(total, ctx.features, ctx.device_budget);
  if (budget_chunks > chunks_per_side) {
    chunks_per_side = budget_chunks;
    r.warnings.push_back("features in " + std::to_string(budget_chunks) + " x " + std::to_string(budget_chunks) +
                         " chunks to fit the device memory budget");
  }
  if (total) ft = tile_features(cols, n, ctx.features, chunks_per_side, std::max(ctx.config.halo, 20.0));
  // Rows past n (the halo, in a whole-tile table) are not read.
  std::vector<uint8_t> labels = labels_of(ctx, ft, cloud.cls.data(), n, [](size_t k) { return k; });
  if (ft.summary.ground_requested && !ft.summary.ground_available) r.warnings.push_back(kNoGroundWarning);
  r.seconds_features = since(t);
  out.colours = std::move(colours);
  out.features = std::move(ft);
  out.labels = std::move(labels);
  r.seconds_total = since(start) + loaded.seconds;
  return out;
}

TileReport write_tile(ComputedTile& computed, const RunContext& ctx) {
  TileReport& r = computed.report;
  if (computed.written) return r;
  const auto start = Clock::now();
  const LoadedTile& loaded = *computed.loaded;
  const TileInput& tile = loaded.tile;
  const io::LasFileInfo& info = loaded.info;
  const std::vector<uint8_t>& records = loaded.records;
  const Cloud& cloud = loaded.cloud;
  const uint64_t n = cloud.size();
  const unsigned threads = ctx.features.threads ? ctx.features.threads : 1;
  const raster::ColorSamples& colours = computed.colours;
  const features::FeatureTable& ft = computed.features;
  const Attributes attributes{colours, ft, computed.labels.data()};
  auto t = Clock::now();
  const std::string mode = ctx.config.mode;
  r.split = patches::split_for_tile(tile.name, ctx.config.seed, ctx.config.split.train,
                                    ctx.config.split.val);
  // The enriched LAZ is written on its own thread while patches are cut and written: its record
  // assembly is serial, so the two stages fill each other's idle cores.
  std::future<double> enriched;
  if (mode == "enriched" || mode == "both") {
    const std::string rel = enriched_path(tile.name);
    fs::create_directories(fs::path(ctx.output) / "enriched");
    const std::string path = (fs::path(ctx.output) / rel).string();
    enriched = std::async(std::launch::async, [&, path] {
      const auto w = Clock::now();
      EnrichedWriter writer(path, info, !colours.rgb.empty(), !colours.nir.empty(), ft.features, ctx, threads);
      constexpr uint64_t kBatch = uint64_t(1) << 18;
      for (uint64_t first = 0; first < n; first += kBatch) {
        const uint64_t count = std::min(kBatch, n - first);
        writer.write(records.data() + first * info.header.record_length, count, first, attributes, first);
      }
      writer.close();
      return since(w);
    });
    r.outputs.push_back(rel);
  }
  try {
    if (mode == "patches" || mode == "both") {
      t = Clock::now();
      const std::vector<patches::Patch> list = patches::extract_patches(
          cloud.x.data(), cloud.y.data(), cloud.z.data(), n, patch_options(ctx));
      r.seconds_patches = since(t);
      t = Clock::now();
      PatchSink sink(tile, ctx, r, ft.features, threads);
      sink.add(list, cloud, attributes);
      sink.close();
      r.seconds_write += since(t);
    }
  } catch (...) {
    if (enriched.valid()) enriched.wait();  // it reads this function's data
    throw;
  }
  if (enriched.valid()) r.seconds_write += enriched.get();
  r.status = "done";
  r.seconds_total += since(start);
  computed.written = true;
  return r;
}

}  // namespace lidarhd::pipeline::detail
