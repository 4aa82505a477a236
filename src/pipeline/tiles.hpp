// Internals of run_process: the tile list, the shared per-run state, and one tile's processing.
#pragma once

#include <array>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lidarhd/core/device.hpp"
#include "lidarhd/features/features.hpp"
#include "lidarhd/io/las.hpp"
#include "lidarhd/io/writer.hpp"
#include "lidarhd/patches/dataset.hpp"
#include "lidarhd/patches/patches.hpp"
#include "lidarhd/patches/labels.hpp"
#include "lidarhd/pipeline/process.hpp"
#include "lidarhd/raster/colorize.hpp"

namespace lidarhd::pipeline::detail {

struct TileInput {
  std::string path, name;  // name: the file name without .las/.laz/.copc.laz
  std::array<double, 3> min{}, max{};  // header bounds
  uint64_t points = 0;                 // header point count
  std::string error;                   // why its header could not be read ("" = fine)
};

// Files and folders (their *.las, *.laz, *.copc.laz, not recursive) -> tiles sorted by name.
// Throws ArgumentError for a missing path, a folder without tiles, or two inputs with one name;
// a file whose header cannot be read is listed with its error.
std::vector<TileInput> list_tiles(const std::vector<std::string>& paths);

// What every tile of a run shares: options resolved once, colour caches, the label mapping.
struct RunContext {
  Config config;
  std::string output;
  Device device;
  features::FeatureOptions features;          // output features + what labels need
  std::vector<features::Feature> output_features;
  patches::LabelMap labels;
  bool colours = false;
  std::vector<TileInput> halo_sources;        // inputs and --neighbors tiles
  std::map<std::string, std::unique_ptr<raster::Colorizer>> colorizers;  // by point CRS
  uint64_t memory_budget = 0;  // bytes; 0 = none (ProcessOptions::memory_budget)
  uint64_t device_budget = 0;  // bytes; 0 = none (ProcessOptions::device_memory_budget)
};

// What compute_features holds on its device per point (coordinates, colours, the neighbour
// grid, the output columns): sizes the chunks of a device memory budget.
uint64_t device_bytes_per_point(const features::FeatureOptions& options);
// A chunk holds every point of [x0, x1] x [y0, y1] (local coordinates); `limits` says which of
// its sides (x0, x1, y0, y1) have points of the cloud beyond them. For a point of the chunk at
// (x, y) whose features looked sqrt(reach2) far: 0 when nothing within that reach can be
// missing, else the reach (+inf when unbounded): the margin must grow past it.
double unseen_reach(double x, double y, float reach2, const double box[4], const bool limits[4]);
// Chunks per side so that n points (with margins) fit `budget` bytes; 1 without a budget.
int chunks_for_budget(uint64_t n, const features::FeatureOptions& options, uint64_t budget);

// Points of a tile, world coordinates in double (Lambert-93 needs more than float32).
struct Cloud {
  std::vector<double> x, y, z;
  std::vector<uint8_t> cls;
  size_t size() const { return x.size(); }
  void add(double px, double py, double pz, uint8_t c) {
    x.push_back(px), y.push_back(py), z.push_back(pz), cls.push_back(c);
  }
};

// A tile read from disk with its halo: the decode stage, which the runner overlaps with the
// previous tile's computation.
struct LoadedTile {
  TileInput tile;
  io::LasFileInfo info;
  std::vector<uint8_t> records;
  Cloud cloud, halo;
  double seconds = 0;
  std::exception_ptr error;  // reading failed: compute_tile rethrows it
  bool streamed = false;     // over the memory budget: nothing read, compute_tile streams it
};
// Never throws (errors go into `error`); only reads `ctx`, so it may run on another thread.
LoadedTile load_tile(const TileInput& tile, const RunContext& ctx);

// A tile with its colours, features and labels: what its outputs are made of.
struct ComputedTile {
  std::shared_ptr<const LoadedTile> loaded;
  raster::ColorSamples colours;
  features::FeatureTable features;
  std::vector<uint8_t> labels;
  TileReport report;
  bool written = false;  // outputs done (streamed tiles write as they go)
};
// Colours, features and labels of a loaded tile; throws on failure. chunks_per_side > 1
// computes the features in that many x that many spatial chunks (less device memory at once: a
// device out of memory retries so).
ComputedTile compute_tile(std::shared_ptr<const LoadedTile> loaded, RunContext& ctx, int chunks_per_side = 1);
// Its outputs (enriched LAZ, patches); throws on failure. Only reads `ctx`, so it may run
// while the worker computes its next tile.
TileReport write_tile(ComputedTile& tile, const RunContext& ctx);

// Features of the first n points of `all` (the tile; the others are its halo), whole or in
// per_side x per_side chunks each with at least `margin` metres of context; the same values
// either way. Rows < n are the tile's.
features::FeatureTable tile_features(const features::PointColumns& all, size_t n,
                                     const features::FeatureOptions& options, int per_side,
                                     double margin);

// X, Y, Z and classification of n LAS records (world coordinates).
Cloud cloud_of(const io::LasFileInfo& info, const uint8_t* records, uint64_t n);
// The points of the other tiles within ctx.config.halo metres of the tile's bounds, in
// tile-list order (so a merged cloud built in that order breaks distance ties the same way),
// streamed: `take` gets them a batch at a time.
void read_halo(const TileInput& tile, const RunContext& ctx, unsigned threads,
               const std::function<void(const Cloud&)>& take);

// Colours of n points from the run's colorizer; `missing` counts the samples outside the
// rasters or on NoData (the fill value's).
raster::ColorSamples sample_colours(RunContext& ctx, const io::LasFileInfo& info, const double* x,
                                    const double* y, size_t n, uint64_t& missing);
std::string missing_colours_warning(uint64_t missing, const RunContext& ctx);
constexpr const char* kNoGroundWarning = "no ground points: height_above_ground is NaN";

// The LAS colour columns (8-bit value x 256) compute_features reads, zero where unset.
struct LasColourColumns {
  std::vector<uint16_t> red, green, blue, nir;
  explicit LasColourColumns(size_t n) : red(n, 0), green(n, 0), blue(n, 0), nir(n, 0) {}
  // Row i gets point k's samples.
  void set(size_t i, const raster::ColorSamples& c, size_t k);
  void attach(features::PointColumns& cols) const;
};

// Training labels of n points whose features are rows row(0), ..., row(n - 1) of ft.
template <class Row>
std::vector<uint8_t> labels_of(const RunContext& ctx, const features::FeatureTable& ft,
                               const uint8_t* cls, size_t n, Row row) {
  const int p = ft.find(features::Feature::kPlanarity), z = ft.find(features::Feature::kNormalZ);
  std::vector<float> planarity(p >= 0 ? n : 0), normal_z(z >= 0 ? n : 0);
  for (size_t k = 0; k < n; ++k) {
    if (p >= 0) planarity[k] = ft.value(size_t(p), row(k));
    if (z >= 0) normal_z[k] = ft.value(size_t(z), row(k));
  }
  std::vector<uint8_t> labels(n, ctx.labels.ignore);
  patches::apply_labels(ctx.labels, cls, p >= 0 ? planarity.data() : nullptr,
                        z >= 0 ? normal_z.data() : nullptr, n, labels.data());
  return labels;
}
// The run's colorizer for points in info's CRS (made on first use).
raster::Colorizer& colorizer_for(RunContext& ctx, const io::LasFileInfo& info);
patches::PatchOptions patch_options(const RunContext& ctx);

// Per-point results that outputs read, row i of each for point i (from `at` on, below).
struct Attributes {
  const raster::ColorSamples& colours;  // rgb / nir empty when not sampled
  const features::FeatureTable& features;
  const uint8_t* labels;
};

// enriched/<tile>.laz: the input records with colours, the output features as float32 extra
// dimensions and the label.
class EnrichedWriter {
 public:
  EnrichedWriter(const std::string& path, const io::LasFileInfo& info, bool rgb, bool nir,
                 const std::vector<features::Feature>& columns, const RunContext& ctx,
                 unsigned threads);
  ~EnrichedWriter();
  // Records [first, first + count) of the tile; their attributes are rows [at, at + count).
  void write(const uint8_t* records, uint64_t count, uint64_t first, const Attributes& a, uint64_t at);
  void close();

 private:
  unsigned threads_;
  uint32_t in_len_;
  std::unique_ptr<io::LasWriter> writer_;
  std::unique_ptr<io::RecordConverter> convert_;
  std::vector<std::pair<size_t, io::ExtraDim>> dims_;  // feature column, dimension
  io::ExtraDim label_;
  io::PointLayout layout_;
  std::vector<uint8_t> out_;
};

// The patches of a tile, added in (gy, gx, augmentation) order, one record per patch: NPZ or
// LAZ files in a per-tile folder (emptied first, so a rerun never leaves patches of an earlier
// run) or one HDF5 file per tile. close() lists the outputs in the report.
class PatchSink {
 public:
  PatchSink(const TileInput& tile, const RunContext& ctx, TileReport& report,
            const std::vector<features::Feature>& columns, unsigned threads);
  ~PatchSink();
  // Patch indices point into `cloud` and the attribute rows.
  void add(const std::vector<patches::Patch>& list, const Cloud& cloud, const Attributes& a);
  void close();

 private:
  const TileInput& tile_;
  const RunContext& ctx_;
  TileReport& report_;
  unsigned threads_;
  std::string format_, folder_;
  std::vector<std::string> names_, outputs_;
  std::vector<size_t> columns_;
  std::unique_ptr<patches::Hdf5TileWriter> h5_;
  int64_t originals_ = 0;
  uint64_t patches_ = 0;
};

// Tiles whose in-core footprint exceeds ctx.memory_budget are streamed (stream_tile.cpp):
// spilled to disk by spatial buckets, their features computed in chunks with halos, outputs
// equal to the in-core ones.
uint64_t in_core_bytes(const TileInput& tile, const RunContext& ctx);
TileReport stream_tile(const TileInput& tile, RunContext& ctx);

// The output folder's layout.
std::string enriched_path(const std::string& tile);               // enriched/<tile>.laz
std::string patch_folder(const std::string& split, const std::string& tile);  // patches/<split>/<tile>

}  // namespace lidarhd::pipeline::detail
