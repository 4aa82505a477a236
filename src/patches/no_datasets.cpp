// A build without the dataset libraries (LIDARHD_DATASETS=OFF: no HDF5, libzip or
// nlohmann_json): labels, splits and LAZ patches work, NPZ/HDF5/metadata writers refuse clearly.
#include "lidarhd/core/error.hpp"
#include "lidarhd/patches/dataset.hpp"

namespace lidarhd::patches {
namespace {
[[noreturn]] void no_datasets(const std::string& what) {
  throw ArgumentError("dataset", what +
                                     ": this build has no dataset writers (configured with "
                                     "-DLIDARHD_DATASETS=OFF); install libhdf5-dev, libzip-dev, "
                                     "libyaml-cpp-dev and nlohmann-json3-dev and rebuild");
}
}  // namespace

void write_npz(const std::string& path, const PatchRecord&) { no_datasets(path); }

struct Hdf5TileWriter::Impl {};
Hdf5TileWriter::Hdf5TileWriter(const std::string& path) { no_datasets(path); }
Hdf5TileWriter::~Hdf5TileWriter() = default;
void Hdf5TileWriter::add(const PatchRecord&) { no_datasets("HDF5 patches"); }
void Hdf5TileWriter::close() { no_datasets("HDF5 patches"); }
size_t Hdf5TileWriter::patches() const { return 0; }

std::string metadata_json(const DatasetMetadata&) { no_datasets("metadata.json"); }
void write_metadata_json(const std::string& path, const DatasetMetadata&) { no_datasets(path); }

}  // namespace lidarhd::patches
