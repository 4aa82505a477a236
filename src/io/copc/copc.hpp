// COPC hierarchy (laz-format.md section 6): pages of 32-byte entries keyed by octree node,
// child pages, node cubes, and box/level selection.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lidarhd/io/byte_source.hpp"
#include "lidarhd/io/las.hpp"
#include "lidarhd/io/reader.hpp"

namespace lidarhd::copc {

struct NodeKey {
  int32_t level = 0, x = 0, y = 0, z = 0;
  bool operator<(const NodeKey& o) const {
    if (level != o.level) return level < o.level;
    if (x != o.x) return x < o.x;
    if (y != o.y) return y < o.y;
    return z < o.z;
  }
  bool operator==(const NodeKey& o) const {
    return level == o.level && x == o.x && y == o.y && z == o.z;
  }
};

struct Entry {
  NodeKey key;
  uint64_t offset = 0;
  int32_t byte_size = 0;
  int32_t point_count = 0;  // > 0: a LAZ chunk; 0: empty node; -1 was a child page (resolved)
};

class Hierarchy {
 public:
  // Loads every page reachable from the root page of `info.copc` (which must be set). Throws
  // FormatError("copc", ...) for entries outside the file, malformed pages, cycles, or more
  // pages than the file could hold.
  Hierarchy(const io::ByteSource& source, const io::LasFileInfo& info);

  // Data and empty nodes by key (child-page pointers are resolved and not listed).
  const std::map<NodeKey, Entry>& entries() const { return entries_; }
  size_t page_count() const { return pages_; }
  int max_depth() const { return max_depth_; }
  uint64_t total_points() const { return total_points_; }  // sum over data nodes

  // The node's cube: center +- halfsize split 2^level times per axis.
  io::Box bounds(const NodeKey& key) const;

  // Nodes with points, reachable from the root through nodes whose cube intersects `box`,
  // down to `max_level` (-1: all levels). Ordered by level, then x, y, z (coarse to fine).
  std::vector<io::CopcNode> select(const std::optional<io::Box>& box, int max_level) const;

 private:
  io::CopcInfo copc_;
  std::map<NodeKey, Entry> entries_;
  size_t pages_ = 0;
  int max_depth_ = 0;
  uint64_t total_points_ = 0;
};

// Convenience: select over a freshly loaded hierarchy.
std::vector<io::CopcNode> select_nodes(const io::ByteSource& source, const io::LasFileInfo& info,
                                       const std::optional<io::Box>& box, int max_level);

}  // namespace lidarhd::copc
