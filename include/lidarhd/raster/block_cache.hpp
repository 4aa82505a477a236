// Decoded blocks in host memory, shared by every point tile that needs the same imagery: a tile
// decodes (or downloads) a block once, and neighbouring tiles reuse it while it stays in the
// budget. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "lidarhd/raster/source.hpp"

namespace lidarhd::raster {

struct CacheStats {
  uint64_t hits = 0, misses = 0, evictions = 0;
  size_t bytes = 0;  // held now
};

class BlockCache {
 public:
  explicit BlockCache(size_t max_bytes = size_t(1) << 30);
  ~BlockCache();
  // The blocks for `keys` (same order); those not cached are read from `source` in one
  // read_blocks call, so a WMS fetches them in parallel. Blocks outside the raster are null.
  std::vector<BlockPtr> fetch(RasterSource& source, const std::vector<BlockKey>& keys);
  CacheStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "<source cache key>#<bx>,<by>": the key of a block in the host and device caches.
std::string block_cache_key(const RasterSource& source, const BlockKey& key);

}  // namespace lidarhd::raster
