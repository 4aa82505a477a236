#include "lidarhd/raster/block_cache.hpp"

#include "raster/lru.hpp"

namespace lidarhd::raster {

struct BlockCache::Impl {
  explicit Impl(size_t max_bytes) : lru(max_bytes) {}
  mutable std::mutex mutex;
  detail::LruBytes<BlockPtr> lru;
  uint64_t hits = 0, misses = 0;
};

BlockCache::BlockCache(size_t max_bytes) : impl_(std::make_unique<Impl>(max_bytes)) {}
BlockCache::~BlockCache() = default;

std::string block_cache_key(const RasterSource& source, const BlockKey& key) {
  return source.cache_key() + "#" + std::to_string(key.bx) + "," + std::to_string(key.by);
}

std::vector<BlockPtr> BlockCache::fetch(RasterSource& source, const std::vector<BlockKey>& keys) {
  std::vector<BlockPtr> out(keys.size());
  std::vector<BlockKey> missing;
  std::vector<size_t> missing_at;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    for (size_t i = 0; i < keys.size(); ++i) {
      if (BlockPtr* hit = impl_->lru.get(block_cache_key(source, keys[i]))) {
        out[i] = *hit;
        ++impl_->hits;
      } else {
        missing.push_back(keys[i]);
        missing_at.push_back(i);
      }
    }
    impl_->misses += missing.size();
  }
  if (missing.empty()) return out;
  // Read outside the lock: a slow download must not stall tiles that only need cached blocks.
  std::vector<BlockPtr> read = source.read_blocks(missing);
  std::lock_guard<std::mutex> lock(impl_->mutex);
  for (size_t j = 0; j < missing.size(); ++j) {
    out[missing_at[j]] = read[j];
    // Null blocks (outside the raster) are cheap to recompute and are not cached.
    if (read[j]) impl_->lru.put(block_cache_key(source, missing[j]), read[j], read[j]->bytes());
  }
  return out;
}

CacheStats BlockCache::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return CacheStats{impl_->hits, impl_->misses, impl_->lru.evictions(), impl_->lru.bytes()};
}

}  // namespace lidarhd::raster
