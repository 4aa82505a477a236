// A least-recently-used map bounded by bytes, for decoded blocks on the host and their copies on
// the device. Not thread-safe: owners lock around it.
#pragma once

#include <cstddef>
#include <list>
#include <string>
#include <unordered_map>
#include <utility>

namespace lidarhd::raster::detail {

template <class V>
class LruBytes {
 public:
  explicit LruBytes(size_t max_bytes) : max_bytes_(max_bytes) {}

  // The value, now most recent, or null.
  V* get(const std::string& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return &it->second->value;
  }

  // Inserts (or replaces) and evicts least-recent entries until the total fits, never the new
  // one: a single entry larger than the budget stays until the next insert.
  V& put(const std::string& key, V value, size_t bytes) {
    erase(key);
    order_.push_front(Entry{key, std::move(value), bytes});
    index_[key] = order_.begin();
    bytes_ += bytes;
    while (bytes_ > max_bytes_ && order_.size() > 1) {
      const Entry& last = order_.back();
      bytes_ -= last.bytes;
      index_.erase(last.key);
      order_.pop_back();
      ++evictions_;
    }
    return order_.front().value;
  }

  void erase(const std::string& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return;
    bytes_ -= it->second->bytes;
    order_.erase(it->second);
    index_.erase(it);
  }

  size_t bytes() const { return bytes_; }
  size_t size() const { return order_.size(); }
  size_t evictions() const { return evictions_; }

 private:
  struct Entry {
    std::string key;
    V value;
    size_t bytes;
  };
  size_t max_bytes_;
  size_t bytes_ = 0;
  size_t evictions_ = 0;
  std::list<Entry> order_;
  std::unordered_map<std::string, typename std::list<Entry>::iterator> index_;
};

}  // namespace lidarhd::raster::detail
