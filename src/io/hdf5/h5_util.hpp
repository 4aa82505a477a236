// Thin helpers over the HDF5 C API for the dataset writers: owned identifiers, one process-wide
// lock (the Debian library is not built thread-safe, and tiles are written from several
// threads), errors turned into IoError with HDF5's own reason, and dataset/attribute writers.
#pragma once

#include <hdf5.h>

#include <mutex>
#include <string>
#include <vector>

namespace lidarhd::io::h5 {

// An identifier closed with H5Idec_ref when the owner goes (any kind: file, group, ...).
class Id {
 public:
  Id() = default;
  explicit Id(hid_t id) : id_(id) {}
  ~Id() { reset(); }
  Id(Id&& o) noexcept : id_(o.id_) { o.id_ = H5I_INVALID_HID; }
  Id& operator=(Id&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = o.id_;
      o.id_ = H5I_INVALID_HID;
    }
    return *this;
  }
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  hid_t release() {  // the caller closes it
    const hid_t id = id_;
    id_ = H5I_INVALID_HID;
    return id;
  }
  void reset() noexcept;

 private:
  hid_t id_ = H5I_INVALID_HID;
};

// Held around every HDF5 call: serialises them and keeps HDF5 from printing its error stack to
// stderr (our exceptions carry the reason); the previous handler is restored afterwards.
class Lock {
 public:
  Lock();
  ~Lock();
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

 private:
  std::unique_lock<std::mutex> lock_;
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

// Throws IoError("hdf5", "cannot write <file>: <what>: <HDF5's innermost message>").
[[noreturn]] void fail(const std::string& file, const std::string& what);
// Returns `id` when valid, else fail().
hid_t check(hid_t id, const std::string& file, const std::string& what);

// Object creation properties shared by groups and datasets: no modification times, so the same
// writes give the same bytes.
Id group_properties();

// A numeric dataset of `dims` (row-major), chunked and compressed (shuffle + deflate `level`)
// when it holds any element, contiguous otherwise.
void write_array(hid_t parent, const std::string& name, hid_t file_type, hid_t mem_type,
                 const std::vector<hsize_t>& dims, const void* data, int level,
                 const std::string& file);
// A 1-d dataset of variable-length UTF-8 strings (h5py: str via .asstr(), bytes otherwise).
void write_strings(hid_t parent, const std::string& name, const std::vector<std::string>& values,
                   const std::string& file);
// Scalar attributes.
void write_attribute(hid_t obj, const std::string& name, const std::string& value,
                     const std::string& file);
void write_attribute(hid_t obj, const std::string& name, int64_t value, const std::string& file);
void write_attribute(hid_t obj, const std::string& name, int32_t value, const std::string& file);
void write_attribute(hid_t obj, const std::string& name, double value, const std::string& file);

}  // namespace lidarhd::io::h5
