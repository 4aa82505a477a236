// The files of a streamed tile (stream_tile.cpp): points spilled by bucket, per-point results,
// and the arrays outputs are made from when those results are read back.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "io/atomic_file.hpp"
#include "lidarhd/core/error.hpp"
#include "pipeline/tiles.hpp"

namespace lidarhd::pipeline::detail::spill {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr size_t kFileBuffer = size_t(32) << 10;  // per bucket file: hundreds are open at once

// A point in its bucket file.
struct SpillRow {
  double x, y, z;   // world
  uint32_t index;   // tile points 0..n-1 in file order, then the halo's
  uint8_t cls;
  uint8_t own;      // scratch: the point is computed by the current chunk
  uint16_t bucket;  // the bucket holding it
};
static_assert(sizeof(SpillRow) == 32, "rows are written as raw bytes");

struct Box {
  double x0 = kInf, y0 = kInf, x1 = -kInf, y1 = -kInf;
  void add(double x, double y) { x0 = std::min(x0, x), y0 = std::min(y0, y), x1 = std::max(x1, x), y1 = std::max(y1, y); }
  void add(const Box& b) { if (!b.empty()) add(b.x0, b.y0), add(b.x1, b.y1); }
  bool empty() const { return x0 > x1; }
  bool intersects(const Box& b) const { return !empty() && !b.empty() && x0 <= b.x1 && b.x0 <= x1 && y0 <= b.y1 && b.y0 <= y1; }
  bool contains(double x, double y) const { return x >= x0 && x <= x1 && y >= y0 && y <= y1; }
  Box grown(double h) const { return empty() ? *this : Box{x0 - h, y0 - h, x1 + h, y1 + h}; }
};

struct Bucket {
  std::unique_ptr<io::detail::AtomicFile> spill, results;  // temporary files, never committed
  Box all, tile;  // what it holds: every point / the tile's points
  uint64_t tile_points = 0;
};

// Whole files are small here (one bucket), so reading one is a single vector.
inline std::vector<uint8_t> read_file(const std::string& path, uint64_t bytes) {
  std::vector<uint8_t> out(bytes);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IoError("process", "cannot read back " + path + ": " + std::strerror(errno));
  uint64_t got = 0;
  while (got < bytes) {
    const ssize_t r = ::pread(fd, out.data() + got, bytes - got, off_t(got));
    if (r <= 0) {
      ::close(fd);
      throw IoError("process", "cannot read back " + path + ": " + (r < 0 ? std::strerror(errno) : "short file"));
    }
    got += uint64_t(r);
  }
  ::close(fd);
  return out;
}

// Sequential reads of one results file through a small buffer (the enriched LAZ pass reads all
// buckets' files at once, a row at a time).
class RowReader {
 public:
  RowReader(std::string path, size_t row) : path_(std::move(path)), row_(row) {}
  ~RowReader() { if (fd_ >= 0) ::close(fd_); }
  const uint8_t* next() {
    if (pos_ == buf_.size()) {
      if (fd_ < 0) fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
      buf_.resize((kFileBuffer / row_ + 1) * row_);
      const ssize_t r = fd_ < 0 ? -1 : ::read(fd_, buf_.data(), buf_.size());
      if (r <= 0 || size_t(r) % row_ != 0) throw IoError("process", "cannot read back " + path_ + ": short file");
      buf_.resize(size_t(r));
      pos_ = 0;
    }
    const uint8_t* p = buf_.data() + pos_;
    pos_ += row_;
    return p;
  }

 private:
  std::string path_;
  size_t row_;
  int fd_ = -1;
  std::vector<uint8_t> buf_;
  size_t pos_ = 0;
};

// One point's results: [index u32][label u8][3 spare][features f32 x F][rgb f32 x 3][nir f32].
struct RowLayout {
  size_t features = 0;
  bool rgb = false, nir = false;
  size_t bytes() const { return 8 + 4 * (features + (rgb ? 3 : 0) + (nir ? 1 : 0)); }
};

// Attribute arrays for `m` points filled from result rows.
struct AttributeArrays {
  raster::ColorSamples colours;
  features::FeatureTable table;
  std::vector<uint8_t> labels;
  AttributeArrays(const RowLayout& l, const std::vector<features::Feature>& columns, size_t m) {
    table.features = columns;
    table.n = m;
    table.f32.assign(l.features * m, 0.0f);
    labels.resize(m);
    if (l.rgb) colours.rgb.resize(3 * m);
    if (l.nir) colours.nir.resize(m);
  }
  void set(const RowLayout& l, size_t i, const uint8_t* row) {
    labels[i] = row[4];
    const uint8_t* f = row + 8;
    for (size_t j = 0; j < l.features; ++j, f += 4) std::memcpy(&table.f32[j * table.n + i], f, 4);
    if (l.rgb) std::memcpy(&colours.rgb[3 * i], f, 12), f += 12;
    if (l.nir) std::memcpy(&colours.nir[i], f, 4);
  }
  Attributes view() const { return Attributes{colours, table, labels.data()}; }
};


}  // namespace lidarhd::pipeline::detail::spill
