#include "io/hdf5/h5_util.hpp"

#include <algorithm>

#include "lidarhd/core/error.hpp"

namespace lidarhd::io::h5 {
namespace {

std::mutex& h5_mutex() {
  static std::mutex m;
  return m;
}

// Rows per chunk: whole 16 384-point patches in one chunk, larger arrays in pieces.
constexpr hsize_t kChunkRows = 16384;

herr_t innermost(unsigned n, const H5E_error2_t* e, void* out) {
  if (n == 0 && e->desc) *static_cast<std::string*>(out) = e->desc;
  return 0;
}

Id string_type() {
  Id t(H5Tcopy(H5T_C_S1));
  if (t.valid()) {
    H5Tset_size(t.get(), H5T_VARIABLE);
    H5Tset_cset(t.get(), H5T_CSET_UTF8);
  }
  return t;
}

}  // namespace

void Id::reset() noexcept {
  if (id_ >= 0) H5Idec_ref(id_);
  id_ = H5I_INVALID_HID;
}

Lock::Lock() : lock_(h5_mutex()) {
  H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

Lock::~Lock() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }

void fail(const std::string& file, const std::string& what) {
  std::string reason;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost, &reason);
  H5Eclear2(H5E_DEFAULT);
  throw IoError("hdf5", "cannot write " + file + ": " + what +
                            (reason.empty() ? std::string() : ": " + reason));
}

hid_t check(hid_t id, const std::string& file, const std::string& what) {
  if (id < 0) fail(file, what);
  return id;
}

Id group_properties() {
  Id p(H5Pcreate(H5P_GROUP_CREATE));
  if (p.valid()) H5Pset_obj_track_times(p.get(), false);
  return p;
}

void write_array(hid_t parent, const std::string& name, hid_t file_type, hid_t mem_type,
                 const std::vector<hsize_t>& dims, const void* data, int level,
                 const std::string& file) {
  hsize_t count = 1;
  for (const hsize_t d : dims) count *= d;
  Id space(check(H5Screate_simple(int(dims.size()), dims.data(), nullptr), file,
                 "dataspace of " + name));
  Id dcpl(check(H5Pcreate(H5P_DATASET_CREATE), file, "properties of " + name));
  H5Pset_obj_track_times(dcpl.get(), false);
  if (count > 0 && !dims.empty()) {
    std::vector<hsize_t> chunk = dims;
    chunk[0] = std::min(dims[0], kChunkRows);
    if (H5Pset_chunk(dcpl.get(), int(chunk.size()), chunk.data()) < 0 ||
        H5Pset_shuffle(dcpl.get()) < 0 || H5Pset_deflate(dcpl.get(), unsigned(level)) < 0)
      fail(file, "compression of " + name);
  }
  Id set(check(H5Dcreate2(parent, name.c_str(), file_type, space.get(), H5P_DEFAULT, dcpl.get(),
                          H5P_DEFAULT),
               file, "dataset " + name));
  if (count > 0 && H5Dwrite(set.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    fail(file, "dataset " + name);
}

void write_strings(hid_t parent, const std::string& name, const std::vector<std::string>& values,
                   const std::string& file) {
  const hsize_t dims[1] = {values.size()};
  Id type = string_type();
  Id space(check(H5Screate_simple(1, dims, nullptr), file, "dataspace of " + name));
  Id dcpl(check(H5Pcreate(H5P_DATASET_CREATE), file, "properties of " + name));
  H5Pset_obj_track_times(dcpl.get(), false);
  Id set(check(H5Dcreate2(parent, name.c_str(), check(type.get(), file, "string type"), space.get(),
                          H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
               file, "dataset " + name));
  std::vector<const char*> ptrs;
  for (const std::string& s : values) ptrs.push_back(s.c_str());
  if (!ptrs.empty() &&
      H5Dwrite(set.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()) < 0)
    fail(file, "dataset " + name);
}

void write_attribute(hid_t obj, const std::string& name, const std::string& value,
                     const std::string& file) {
  Id type = string_type();
  Id space(check(H5Screate(H5S_SCALAR), file, "attribute " + name));
  Id attr(check(H5Acreate2(obj, name.c_str(), check(type.get(), file, "string type"), space.get(),
                           H5P_DEFAULT, H5P_DEFAULT),
                file, "attribute " + name));
  const char* p = value.c_str();
  if (H5Awrite(attr.get(), type.get(), &p) < 0) fail(file, "attribute " + name);
}

namespace {
void write_scalar(hid_t obj, const std::string& name, hid_t file_type, hid_t mem_type,
                  const void* value, const std::string& file) {
  Id space(check(H5Screate(H5S_SCALAR), file, "attribute " + name));
  Id attr(check(H5Acreate2(obj, name.c_str(), file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                file, "attribute " + name));
  if (H5Awrite(attr.get(), mem_type, value) < 0) fail(file, "attribute " + name);
}
}  // namespace

void write_attribute(hid_t obj, const std::string& name, int64_t value, const std::string& file) {
  write_scalar(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value, file);
}

void write_attribute(hid_t obj, const std::string& name, int32_t value, const std::string& file) {
  write_scalar(obj, name, H5T_STD_I32LE, H5T_NATIVE_INT32, &value, file);
}

void write_attribute(hid_t obj, const std::string& name, double value, const std::string& file) {
  write_scalar(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value, file);
}

}  // namespace lidarhd::io::h5
