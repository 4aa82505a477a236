// Reading LAS, LAZ and COPC point records: whole files (chunk-parallel), streaming batches with
// memory bounded by the batch, and COPC box / level queries that decode only the nodes needed.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lidarhd/io/byte_source.hpp"
#include "lidarhd/io/las.hpp"
#include "lidarhd/io/point_table.hpp"

namespace lidarhd::io {

// Layers to decode in layered (PDRF 6-10) LAZ; the others keep the chunk's first value.
// Values match laz::detail::LayerBits. XY and return numbers are always decoded.
namespace layers {
constexpr uint32_t kZ = 1u << 0, kClassification = 1u << 1, kFlags = 1u << 2,
                   kIntensity = 1u << 3, kScanAngle = 1u << 4, kUserData = 1u << 5,
                   kPointSource = 1u << 6, kGpsTime = 1u << 7, kRgb = 1u << 8, kNir = 1u << 9,
                   kWavepacket = 1u << 10, kExtraBytes = 1u << 11, kAll = 0xFFFFFFFFu;
}

struct Box {
  std::array<double, 3> min{-1e300, -1e300, -1e300};
  std::array<double, 3> max{1e300, 1e300, 1e300};
  bool contains(double x, double y, double z) const {
    return x >= min[0] && x <= max[0] && y >= min[1] && y <= max[1] && z >= min[2] && z <= max[2];
  }
};

struct ReadOptions {
  unsigned threads = 1;              // chunks decoded in parallel; output identical for any value
  uint32_t layers = layers::kAll;    // selective decoding (layered LAZ only)
  std::optional<Box> box;            // COPC: only nodes intersecting it, points inside it
  int max_level = -1;                // COPC: deepest octree level (-1 = all)
};

// One chunk of a LAZ file (or the single run of points of a LAS file).
struct ChunkInfo {
  uint64_t first_point = 0;
  uint64_t point_count = 0;
  uint64_t offset = 0;   // absolute byte offset
  uint64_t bytes = 0;
};

struct CopcNode {
  int32_t level = 0, x = 0, y = 0, z = 0;
  uint64_t offset = 0;
  int32_t byte_size = 0;
  int32_t point_count = 0;
  Box bounds;  // the node's cube
};

class PointReader {
 public:
  explicit PointReader(std::unique_ptr<ByteSource> source, ReadOptions options = {});
  explicit PointReader(const std::string& path, ReadOptions options = {});
  ~PointReader();
  PointReader(PointReader&&) noexcept;
  PointReader& operator=(PointReader&&) noexcept;

  const LasFileInfo& info() const;
  uint64_t point_count() const;      // records in the file (before any COPC query)
  uint32_t record_length() const;
  const std::vector<ChunkInfo>& chunks() const;  // the chunk table as read (or walked)
  std::vector<CopcNode> copc_nodes() const;      // non-empty hierarchy nodes (COPC only)

  // Every record in file order (or, with a COPC box/level, the selected nodes' points in node
  // order, filtered by the box), in the uncompressed LAS record layout.
  std::vector<uint8_t> read_all_records();
  // Streaming: fills `records` with the next at most `max_points` records; returns the count
  // (0 at the end). Peak memory is one chunk plus the batch, whatever the file size.
  uint64_t read_batch(std::vector<uint8_t>& records, uint64_t max_points);
  // Convenience: the whole selection as a columnar table.
  PointTable read_table();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// SHA-256 (hex) of all records in file order, decoded with `threads` threads, streaming.
std::string records_sha256(const std::string& path, unsigned threads = 1);

}  // namespace lidarhd::io
