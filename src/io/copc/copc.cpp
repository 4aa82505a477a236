#include "io/copc/copc.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <set>
#include <utility>

#include "io/las/le_bytes.hpp"
#include "lidarhd/core/error.hpp"

namespace lidarhd::copc {
namespace {

constexpr size_t kEntrySize = 32;
// x, y, z are int32 and children double them, so level 30 is the deepest representable node.
constexpr int32_t kMaxLevel = 30;

std::string num(uint64_t v) { return std::to_string(v); }

std::string key_text(const NodeKey& k) {
  return std::to_string(k.level) + "-" + std::to_string(k.x) + "-" + std::to_string(k.y) + "-" +
         std::to_string(k.z);
}

bool intersects(const io::Box& a, const io::Box& b) {
  for (int i = 0; i < 3; ++i)
    if (a.min[i] > b.max[i] || a.max[i] < b.min[i]) return false;
  return true;
}

}  // namespace

Hierarchy::Hierarchy(const io::ByteSource& source, const io::LasFileInfo& info) {
  const std::string& file = info.path;
  const auto fail = [&](const std::string& why) { throw FormatError("copc", file + ": " + why); };
  if (!info.copc) fail("not a COPC file (no copc/1 info VLR first)");
  copc_ = *info.copc;
  const uint64_t size = info.file_size;
  const uint64_t data_start = uint64_t(info.header.offset_to_points) + 8;

  std::deque<std::pair<uint64_t, uint64_t>> queue{{copc_.root_hier_offset, copc_.root_hier_size}};
  std::set<uint64_t> seen_pages;
  uint64_t loaded_bytes = 0;
  while (!queue.empty()) {
    const auto [page_offset, page_size] = queue.front();
    queue.pop_front();
    // A page referenced twice would make the walk loop forever (or explode).
    if (!seen_pages.insert(page_offset).second) {
      fail("hierarchy page at byte " + num(page_offset) + " is referenced more than once");
    }
    if (page_size % kEntrySize != 0 || page_offset > size || page_size > size - page_offset) {
      fail("hierarchy page (" + num(page_size) + " bytes at byte " + num(page_offset) +
           ") is not a whole number of 32-byte entries inside the file (" + num(size) + " bytes)");
    }
    loaded_bytes += page_size;
    if (loaded_bytes > size) {
      fail("hierarchy pages add up to more bytes (" + num(loaded_bytes) + ") than the file has");
    }
    ++pages_;
    const std::vector<uint8_t> page = source.read_vector(page_offset, size_t(page_size));
    for (size_t pos = 0; pos < page.size(); pos += kEntrySize) {
      const uint8_t* p = page.data() + pos;
      Entry e;
      e.key = {io::detail::i32_at(p), io::detail::i32_at(p + 4), io::detail::i32_at(p + 8),
               io::detail::i32_at(p + 12)};
      e.offset = io::detail::u64_at(p + 16);
      e.byte_size = io::detail::i32_at(p + 24);
      e.point_count = io::detail::i32_at(p + 28);
      const NodeKey& k = e.key;
      const std::string where =
          "hierarchy entry " + key_text(k) + " (page at byte " + num(page_offset) + ")";
      if (k.level < 0 || k.level > kMaxLevel || k.x < 0 || k.y < 0 || k.z < 0 ||
          (int64_t(k.x) >> k.level) != 0 || (int64_t(k.y) >> k.level) != 0 ||
          (int64_t(k.z) >> k.level) != 0) {
        fail(where + " is not a valid octree node");
      }
      if (e.point_count < -1) {
        fail(where + " has point count " + std::to_string(e.point_count));
      }
      if (e.point_count == -1) {
        if (e.byte_size <= 0)
          fail(where + " points to a child page of " + std::to_string(e.byte_size) + " bytes");
        queue.emplace_back(e.offset, uint64_t(e.byte_size));
        continue;
      }
      if (e.point_count > 0) {
        if (e.byte_size <= 0 || e.offset < data_start || e.offset > size ||
            uint64_t(e.byte_size) > size - e.offset) {
          fail(where + " locates its " + std::to_string(e.point_count) + " points at bytes " +
               num(e.offset) + "+" + std::to_string(e.byte_size) +
               ", outside the point data of the file (" + num(data_start) + ".." + num(size) + ")");
        }
      }
      auto it = entries_.find(k);
      if (it == entries_.end()) {
        entries_.emplace(k, e);
      } else if (it->second.point_count > 0 && e.point_count > 0 &&
                 (it->second.offset != e.offset || it->second.point_count != e.point_count)) {
        fail(where + " appears twice with different data");
      } else if (e.point_count > 0) {
        it->second = e;
      }
    }
  }
  for (const auto& [k, e] : entries_) {
    max_depth_ = std::max(max_depth_, int(k.level));
    if (e.point_count > 0) total_points_ += uint64_t(e.point_count);
  }
}

io::Box Hierarchy::bounds(const NodeKey& key) const {
  const double side = std::ldexp(2.0 * copc_.halfsize, -key.level);
  const int32_t idx[3] = {key.x, key.y, key.z};
  io::Box b;
  for (int i = 0; i < 3; ++i) {
    b.min[i] = copc_.center[i] - copc_.halfsize + double(idx[i]) * side;
    b.max[i] = b.min[i] + side;
  }
  return b;
}

std::vector<io::CopcNode> Hierarchy::select(const std::optional<io::Box>& box,
                                            int max_level) const {
  std::vector<io::CopcNode> out;
  std::deque<NodeKey> queue{NodeKey{}};
  while (!queue.empty()) {
    const NodeKey k = queue.front();
    queue.pop_front();
    const auto it = entries_.find(k);
    if (it == entries_.end()) continue;  // absent node: no subtree
    const io::Box cube = bounds(k);
    if (box && !intersects(cube, *box)) continue;
    const Entry& e = it->second;
    if (e.point_count > 0) {
      io::CopcNode n;
      n.level = k.level;
      n.x = k.x;
      n.y = k.y;
      n.z = k.z;
      n.offset = e.offset;
      n.byte_size = e.byte_size;
      n.point_count = e.point_count;
      n.bounds = cube;
      out.push_back(n);
    }
    if ((max_level >= 0 && k.level >= max_level) || k.level >= kMaxLevel) continue;
    for (int c = 0; c < 8; ++c) {
      queue.push_back(
          {k.level + 1, 2 * k.x + (c & 1), 2 * k.y + ((c >> 1) & 1), 2 * k.z + ((c >> 2) & 1)});
    }
  }
  std::sort(out.begin(), out.end(), [](const io::CopcNode& a, const io::CopcNode& b) {
    return NodeKey{a.level, a.x, a.y, a.z} < NodeKey{b.level, b.x, b.y, b.z};
  });
  return out;
}

std::vector<io::CopcNode> select_nodes(const io::ByteSource& source, const io::LasFileInfo& info,
                                       const std::optional<io::Box>& box, int max_level) {
  return Hierarchy(source, info).select(box, max_level);
}

}  // namespace lidarhd::copc
