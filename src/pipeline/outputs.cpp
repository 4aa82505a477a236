// A tile's outputs: the enriched LAZ and its patch files (tiles.hpp).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "lidarhd/io/writer.hpp"
#include "lidarhd/patches/dataset.hpp"
#include "pipeline/tiles.hpp"

namespace lidarhd::pipeline::detail {
namespace {

namespace fs = std::filesystem;

bool is_colour_field(features::Feature f) {
  const std::string n = features::feature_name(f);
  return n == "red" || n == "green" || n == "blue" || n == "nir";
}

}  // namespace

EnrichedWriter::EnrichedWriter(const std::string& path, const io::LasFileInfo& info, bool rgb,
                               bool nir, const std::vector<features::Feature>& columns,
                               const RunContext& ctx, unsigned threads)
    : threads_(threads), in_len_(info.header.record_length) {
  io::WriteOptions wo;
  wo.compressed = true;
  wo.threads = threads;
  if (ctx.memory_budget) wo.chunks_per_round = 2;  // about 10 MB per thread instead of 80
  if (ctx.colours) wo.point_format = raster::colour_point_format(info.header.point_format, rgb, nir);
  writer_ = std::make_unique<io::LasWriter>(path, info, wo);
  for (size_t j = 0; j < columns.size(); ++j) {
    const features::Feature f = columns[j];
    // Colour features are the LAS RGB/NIR fields themselves; the same name as an extra
    // dimension would clash with them.
    if (is_colour_field(f)) continue;
    if (std::find(ctx.output_features.begin(), ctx.output_features.end(), f) == ctx.output_features.end()) continue;
    io::ExtraDim d;
    d.name = features::feature_name(f);
    d.type = io::ExtraType::kF32;
    dims_.emplace_back(j, writer_->add_extra_dim(d));
  }
  io::ExtraDim label;
  label.name = "label";
  label.type = io::ExtraType::kU8;
  label.description = "training label (" + ctx.labels.name + ")";
  label_ = writer_->add_extra_dim(label);
  convert_ = std::make_unique<io::RecordConverter>(info, writer_->header());
  layout_ = io::point_layout(writer_->point_format());
}

EnrichedWriter::~EnrichedWriter() = default;

void EnrichedWriter::write(const uint8_t* records, uint64_t count, uint64_t first, const Attributes& a,
                           uint64_t at) {
  const uint32_t out_len = writer_->record_length();
  out_.assign(count * out_len, 0);
  std::exception_ptr error;
  std::mutex error_mutex;
  // Record assembly is the serial part of writing: spread over the encoder's threads in slices.
  constexpr int64_t kSlice = 16384;
  const int64_t slices = static_cast<int64_t>((count + kSlice - 1) / kSlice);
#if defined(_OPENMP)
#pragma omp parallel for num_threads(static_cast<int>(threads_))
#endif
  for (int64_t sl = 0; sl < slices; ++sl) {
    const uint64_t lo = uint64_t(sl) * kSlice, hi = std::min<uint64_t>(count, lo + kSlice);
    try {  // an exception must not leave an OpenMP region
      convert_->convert(records + lo * in_len_, hi - lo, out_.data() + lo * out_len, first + lo);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      continue;
    }
    for (uint64_t i = lo; i < hi; ++i) {
      uint8_t* r = out_.data() + i * out_len;
      const uint64_t p = at + i;
      auto put = [&](int32_t offset, float v) {
        const uint16_t u = raster::las_colour_value(v);
        std::memcpy(r + offset, &u, 2);  // LAS is little-endian, as every host this builds for
      };
      if (!a.colours.rgb.empty()) {
        for (int b = 0; b < 3; ++b) put(layout_.rgb + 2 * b, a.colours.rgb[p * 3 + size_t(b)]);
      }
      if (!a.colours.nir.empty()) put(layout_.nir, a.colours.nir[p]);
      for (const auto& [j, d] : dims_) {
        const float v = a.features.value(j, p);
        std::memcpy(r + d.offset, &v, sizeof v);
      }
      r[label_.offset] = a.labels[p];
    }
  }
  if (error) std::rethrow_exception(error);
  writer_->write_records(out_.data(), count);
}

void EnrichedWriter::close() { writer_->close(); }

PatchSink::PatchSink(const TileInput& tile, const RunContext& ctx, TileReport& report,
                     const std::vector<features::Feature>& columns, unsigned threads)
    : tile_(tile), ctx_(ctx), report_(report), threads_(threads) {
  format_ = ctx.config.patches.format;
  const fs::path root(ctx.output);
  folder_ = patch_folder(report.split, tile.name);
  fs::remove_all(root / folder_);
  fs::create_directories(format_ == "hdf5" ? (root / folder_).parent_path() : root / folder_);
  for (size_t j = 0; j < columns.size(); ++j) {
    const features::Feature f = columns[j];
    if (std::find(ctx.output_features.begin(), ctx.output_features.end(), f) == ctx.output_features.end()) continue;
    names_.push_back(features::feature_name(f));
    columns_.push_back(j);
  }
  if (format_ == "hdf5") h5_ = std::make_unique<patches::Hdf5TileWriter>((root / (folder_ + ".h5")).string());
}

PatchSink::~PatchSink() = default;

void PatchSink::add(const std::vector<patches::Patch>& list, const Cloud& cloud, const Attributes& a) {
  const fs::path root(ctx_.output);
  // patch_index counts original patches; augmented copies share their original's index.
  std::vector<int64_t> index(list.size());
  for (size_t k = 0; k < list.size(); ++k) index[k] = list[k].augmentation == 0 ? originals_++ : index[k - 1];
  const raster::ColorSamples& colours = a.colours;
  auto record = [&](size_t k) {
    const patches::Patch& p = list[k];
    patches::PatchRecord rec;
    const size_t m = p.indices.size();
    rec.points = p.xyz;
    rec.feature_names = names_;
    rec.features.resize(m * names_.size());
    rec.labels.resize(m);
    rec.classification.resize(m);
    if (!colours.rgb.empty()) rec.rgb.resize(m * 3);
    if (!colours.nir.empty()) rec.nir.resize(m);
    if (!colours.rgb.empty() && !colours.nir.empty()) rec.ndvi.resize(m);
    if (format_ == "laz") rec.world_xyz.resize(m * 3);
    for (size_t i = 0; i < m; ++i) {
      const uint32_t q = p.indices[i];
      for (size_t c = 0; c < columns_.size(); ++c) rec.features[i * columns_.size() + c] = a.features.value(columns_[c], q);
      rec.labels[i] = a.labels[q];
      rec.classification[i] = cloud.cls[q];
      if (!rec.rgb.empty()) {
        for (int b = 0; b < 3; ++b) rec.rgb[i * 3 + size_t(b)] = colours.rgb[size_t(q) * 3 + size_t(b)] / 255.0f;
      }
      if (!rec.nir.empty()) rec.nir[i] = colours.nir[q] / 255.0f;
      if (!rec.ndvi.empty()) rec.ndvi[i] = raster::ndvi(colours.rgb[size_t(q) * 3], colours.nir[q]);
      if (!rec.world_xyz.empty()) {
        rec.world_xyz[i * 3] = cloud.x[q];
        rec.world_xyz[i * 3 + 1] = cloud.y[q];
        rec.world_xyz[i * 3 + 2] = cloud.z[q];
      }
    }
    rec.center = p.center;
    rec.scale = p.scale;
    rec.bounds = p.bounds;
    rec.tile = tile_.name;
    rec.patch_index = index[k];
    rec.augmentation = p.augmentation;
    return rec;
  };
  patches_ += list.size();
  if (h5_) {
    for (size_t k = 0; k < list.size(); ++k) h5_->add(record(k));  // one HDF5 file: in order
    return;
  }
  // NPZ / LAZ patches are independent files: written in parallel, listed in patch order.
  std::vector<std::string> rel(list.size());
  for (size_t k = 0; k < list.size(); ++k) {
    char stem[64];
    std::snprintf(stem, sizeof stem, "_p%06lld", static_cast<long long>(index[k]));
    const int aug = list[k].augmentation;
    rel[k] = folder_ + "/" + tile_.name + stem + (aug ? "_aug" + std::to_string(aug) : "") + "." + format_;
  }
  std::exception_ptr error;
  std::mutex error_mutex;
#if defined(_OPENMP)
#pragma omp parallel for schedule(dynamic) num_threads(static_cast<int>(threads_))
#endif
  for (int64_t k = 0; k < static_cast<int64_t>(list.size()); ++k) {
    try {
      const patches::PatchRecord rec = record(size_t(k));
      const std::string path = (root / rel[size_t(k)]).string();
      if (format_ == "npz") {
        patches::write_npz(path, rec);
      } else {
        patches::write_patch_laz(path, rec);
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
  outputs_.insert(outputs_.end(), rel.begin(), rel.end());
}

void PatchSink::close() {
  if (h5_) {
    h5_->close();
    outputs_.push_back(folder_ + ".h5");
  }
  report_.outputs.insert(report_.outputs.end(), outputs_.begin(), outputs_.end());
  report_.patches = patches_;
}

}  // namespace lidarhd::pipeline::detail
