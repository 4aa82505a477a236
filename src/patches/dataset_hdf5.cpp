// A tile's patches as one HDF5 file: a group per patch with the NPZ's arrays. The file is
// created under a hidden temporary name (io::detail::AtomicFile reserves it) and renamed at
// close(), so a reader never sees a half-written tile.
#include <cstdio>

#include "io/atomic_file.hpp"
#include "io/hdf5/h5_util.hpp"
#include "lidarhd/core/error.hpp"
#include "lidarhd/patches/dataset.hpp"

namespace lidarhd::patches {
namespace {

// gzip level: as NPZ (dataset_npz.cpp), fast; shuffle does most of the work on floats.
constexpr int kDeflateLevel = 1;

}  // namespace

struct Hdf5TileWriter::Impl {
  std::string path;
  io::detail::AtomicFile temp;
  io::h5::Id file;
  std::string tile;
  size_t patches = 0;
  bool closed = false;

  explicit Impl(const std::string& p) : path(p), temp(p) {}
  ~Impl() {
    io::h5::Lock lock;
    file.reset();  // then `temp` removes the temporary file unless committed
  }
};

Hdf5TileWriter::Hdf5TileWriter(const std::string& path) : impl_(std::make_unique<Impl>(path)) {
  io::h5::Lock lock;
  io::h5::Id fcpl(H5Pcreate(H5P_FILE_CREATE));
  if (fcpl.valid()) H5Pset_obj_track_times(fcpl.get(), false);
  impl_->file = io::h5::Id(io::h5::check(
      H5Fcreate(impl_->temp.temp_path().c_str(), H5F_ACC_TRUNC, fcpl.get(), H5P_DEFAULT), path,
      "create (temporary file " + impl_->temp.temp_path() + ")"));
  const hid_t root = impl_->file.get();
  io::h5::write_attribute(root, "format", std::string("lidarhd-patches"), path);
  io::h5::write_attribute(root, "lidarhd_version", std::string(library_version()), path);
}

Hdf5TileWriter::~Hdf5TileWriter() = default;

size_t Hdf5TileWriter::patches() const { return impl_->patches; }

void Hdf5TileWriter::add(const PatchRecord& r) {
  validate_patch(r);
  Impl& d = *impl_;
  if (d.closed) throw ArgumentError("dataset", d.path + ": add() after close()");
  if (d.patches > 0 && r.tile != d.tile)
    throw ArgumentError("dataset", d.path + ": holds patches of tile '" + d.tile +
                                       "', cannot add one of tile '" + r.tile + "'");
  char name[64];
  if (r.augmentation > 0)
    std::snprintf(name, sizeof(name), "patch_%06lld_aug%d", static_cast<long long>(r.patch_index),
                  r.augmentation);
  else
    std::snprintf(name, sizeof(name), "patch_%06lld", static_cast<long long>(r.patch_index));
  const std::string& f = d.path;
  const hsize_t n = r.size();
  const hsize_t c = r.feature_names.size();

  io::h5::Lock lock;
  const hid_t root = d.file.get();
  if (H5Lexists(root, name, H5P_DEFAULT) > 0)
    throw ArgumentError("dataset", f + ": patch group " + name + " is written twice");
  if (d.patches == 0) io::h5::write_attribute(root, "tile", r.tile, f);
  io::h5::Id gcpl = io::h5::group_properties();
  io::h5::Id group(io::h5::check(H5Gcreate2(root, name, H5P_DEFAULT, gcpl.get(), H5P_DEFAULT), f,
                                 std::string("group ") + name));
  const hid_t g = group.get();
  const auto f32 = [&](const char* key, const std::vector<float>& v, std::vector<hsize_t> dims) {
    io::h5::write_array(g, key, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, dims, v.data(), kDeflateLevel, f);
  };
  const auto u8 = [&](const char* key, const std::vector<uint8_t>& v) {
    io::h5::write_array(g, key, H5T_STD_U8LE, H5T_NATIVE_UINT8, {n}, v.data(), kDeflateLevel, f);
  };
  f32("points", r.points, {n, 3});
  f32("features", r.features, {n, c});
  io::h5::write_strings(g, "feature_names", r.feature_names, f);
  u8("labels", r.labels);
  u8("classification", r.classification);
  if (!r.rgb.empty()) f32("rgb", r.rgb, {n, 3});
  if (!r.nir.empty()) f32("nir", r.nir, {n});
  if (!r.ndvi.empty()) f32("ndvi", r.ndvi, {n});
  io::h5::write_array(g, "center", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {3}, r.center.data(), 0, f);
  io::h5::write_array(g, "bounds", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {4}, r.bounds.data(), 0, f);
  io::h5::write_attribute(g, "tile", r.tile, f);
  io::h5::write_attribute(g, "patch_index", int64_t(r.patch_index), f);
  io::h5::write_attribute(g, "augmentation", int32_t(r.augmentation), f);
  io::h5::write_attribute(g, "scale", r.scale, f);
  if (d.patches == 0) d.tile = r.tile;
  ++d.patches;
}

void Hdf5TileWriter::close() {
  Impl& d = *impl_;
  if (d.closed) return;
  {
    io::h5::Lock lock;
    io::h5::write_attribute(d.file.get(), "patches", int64_t(d.patches), d.path);
    if (H5Fclose(d.file.release()) < 0) io::h5::fail(d.path, "close");
  }
  d.temp.commit();  // fsync + rename onto the target
  d.closed = true;
}

}  // namespace lidarhd::patches
