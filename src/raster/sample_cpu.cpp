// CPU back end of Sampler::sample. The per-point logic is that of sample_impl.hpp (shared with
// CUDA); what is CPU-specific is the order in which points are visited, which changes no bit.
//
// Points come in chunks (per thread). A chunk in scan order is sampled as it comes: consecutive
// points share blocks, which stay in cache (bilinear locates a small group of points and
// prefetches their pixels before sampling them). A chunk in random order over a raster larger
// than the caches would miss the cache and the TLB on every pixel, so it is first binned by
// block with a counting sort: each block is then read by all of the chunk's points in it.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <numeric>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "raster/sample_backend.hpp"

namespace lidarhd::raster::detail {

namespace {

// Points binned at a time by one thread: the more, the more points read each cached line of a
// block before it is evicted (2^20: 11 M/s bilinear on the benchmark's random points, 2^21: 14,
// 2^22: 15); the bins take 24 bytes a point (bilinear), 48 MiB per thread.
constexpr int64_t kChunkPoints = int64_t(1) << 21;
// Entries prefetched ahead of the one being sampled, so that several cache misses are in flight.
constexpr int kPrefetchAhead = 16;
// Points located (and their pixels prefetched) before any is sampled, in scan order.
constexpr int kGroup = 32;
// Fewer points are sampled as they come: binning would not pay for itself.
constexpr int64_t kMinBinnedPoints = int64_t(1) << 14;
// Windows of more blocks are not binned (a count per block and chunk).
constexpr int64_t kMaxBinnedBlocks = int64_t(1) << 16;
// Order probe: consecutive pairs looked at, and how many must change block for binning.
constexpr int kProbePairs = 64;
constexpr int kProbeScattered = 16;

// Binned points: the index in the chunk and the pixel's offset in its block; bilinear adds the
// fractions, and the corner (which of the four pixels contains the point) in the index's top
// bits. Chunks of at most 2^30 points leave those bits free.
struct NearestEntry {
  uint32_t index;
  uint32_t at;
};
struct BilinearEntry {
  double tu, tv;
  uint32_t index;  // | corner << 30
  uint32_t at;
};
constexpr uint32_t kIndexMask = (uint32_t(1) << 30) - 1;

// Block of the pixel containing the point, -1 if none (for the order probe).
int64_t point_block(const WindowView& w, double x, double y) {
  int64_t col = 0, row = 0;
  PixelRef ref;
  if (!nearest_pixel(w, x, y, &col, &row) || !locate_pixel(w, col, row, &ref)) return -1;
  return ref.block;
}

// Whether the chunk's points jump between blocks (random order) rather than walk through them.
bool scattered(const WindowView& w, const double* x, const double* y, int64_t count) {
  int changes = 0;
  for (int k = 0; k < kProbePairs; ++k) {
    const int64_t i = (count - 1) * k / kProbePairs;
    changes += point_block(w, x[i], y[i]) != point_block(w, x[i + 1], y[i + 1]);
  }
  return changes >= kProbeScattered;
}

// Locates point i of a chunk: its block (the bin) and entry, or -1 after sampling it at once
// (outside, or a bilinear cell across blocks: rare, not worth binning).
template <int kOutBands>
struct NearestMethod {
  using Entry = NearestEntry;
  // In scan order, locating a group first does not pay for nearest's short per-point work.
  static constexpr bool kGrouped = false;
  static void sample(const WindowView& w, double x, double y, int64_t i, const SampleOut& out) {
    sample_nearest<kOutBands>(w, x, y, i, out);
  }
  static int64_t locate(const WindowView& w, double x, double y, int64_t i, uint32_t local,
                        const SampleOut& out, bool sample_now, Entry* e) {
    int64_t col = 0, row = 0;
    PixelRef ref;
    if (!nearest_pixel(w, x, y, &col, &row) || !locate_pixel(w, col, row, &ref)) {
      if (sample_now) sample_fill<kOutBands>(out, i, kSampleOutside);
      return -1;
    }
    *e = Entry{local, static_cast<uint32_t>(ref.at)};
    return ref.block;
  }
  static void prefetch(const WindowView& w, int64_t block, const Entry& e) {
    __builtin_prefetch(w.valid[block] + e.at);
    __builtin_prefetch(w.pixels[block] + int64_t{e.at} * w.bands);
  }
  static void apply(const WindowView& w, const uint8_t* pixels, const uint8_t* valid,
                    const Entry& e, int64_t first, const SampleOut& out) {
    nearest_at<kOutBands>(pixels, valid, w.bands, e.at, first + e.index, out);
  }
};

template <int kOutBands>
struct BilinearMethod {
  using Entry = BilinearEntry;
  // In scan order too, locating a group of points (independent divisions and conversions) before
  // sampling them overlaps their latencies better than one point after the other: 52 M/s
  // instead of 43 on the benchmark's sorted points.
  static constexpr bool kGrouped = true;
  static void sample(const WindowView& w, double x, double y, int64_t i, const SampleOut& out) {
    sample_bilinear<kOutBands>(w, x, y, i, out);
  }
  static int64_t locate(const WindowView& w, double x, double y, int64_t i, uint32_t local,
                        const SampleOut& out, bool sample_now, Entry* e) {
    BilinearCell cell;
    if (!bilinear_cell(w, x, y, &cell)) {
      if (sample_now) sample_fill<kOutBands>(out, i, kSampleOutside);
      return -1;
    }
    PixelRef ref;
    int corner = 0;
    if (!bilinear_in_one_block(w, cell, &ref, &corner)) {
      if (sample_now) sample_bilinear_general(w, cell, i, out);
      return -1;
    }
    *e = Entry{cell.tu, cell.tv, local | static_cast<uint32_t>(corner) << 30,
               static_cast<uint32_t>(ref.at)};
    return ref.block;
  }
  static void prefetch(const WindowView& w, int64_t block, const Entry& e) {
    const uint8_t* valid = w.valid[block] + e.at;
    const uint8_t* pixels = w.pixels[block] + int64_t{e.at} * w.bands;
    const int64_t row = w.block_size, span = 2 * w.bands - 1;
    __builtin_prefetch(valid);
    __builtin_prefetch(valid + row + 1);
    __builtin_prefetch(pixels);
    __builtin_prefetch(pixels + span);
    __builtin_prefetch(pixels + row * w.bands);
    __builtin_prefetch(pixels + row * w.bands + span);
  }
  static void apply(const WindowView& w, const uint8_t* pixels, const uint8_t* valid,
                    const Entry& e, int64_t first, const SampleOut& out) {
    bilinear_at<kOutBands>(pixels, valid, w.bands, w.block_size, e.at,
                           static_cast<int>(e.index >> 30), e.tu, e.tv,
                           first + (e.index & kIndexMask), out);
  }
};

// Per-thread buffers of the binned path, reused from chunk to chunk.
template <class Entry>
struct Bins {
  std::vector<int64_t> offsets;
  std::unique_ptr<Entry[]> entries;  // uninitialised: every used one is written first
  int64_t capacity = 0;
};

// Samples points [first, last) in their order. The view and outputs are copied locally: the
// status stores (uint8_t, which may alias anything) would otherwise make the compiler reload
// every field of them for every point.
template <class Method>
void sample_in_order(const WindowView& view, const double* x, const double* y, int64_t first,
                     int64_t last, const SampleOut& out_ref) {
  const WindowView w = view;
  const SampleOut out = out_ref;
  for (int64_t i = first; i < last; ++i) Method::sample(w, x[i], y[i], i, out);
}

// Samples points [first, last) in their order, a group at a time: locate the group's pixels and
// prefetch them, then sample. Random order gets many cache misses in flight instead of one.
template <class Method>
void sample_grouped(const WindowView& view, const double* x, const double* y, int64_t first,
                    int64_t last, const SampleOut& out_ref) {
  const WindowView w = view;
  const SampleOut out = out_ref;
  typename Method::Entry entries[kGroup];
  int64_t blocks[kGroup];
  for (int64_t g = first; g < last; g += kGroup) {
    const int m = static_cast<int>(std::min<int64_t>(kGroup, last - g));
    for (int k = 0; k < m; ++k) {
      const int64_t i = g + k;
      blocks[k] =
          Method::locate(w, x[i], y[i], i, static_cast<uint32_t>(k), out, true, &entries[k]);
      if (blocks[k] >= 0) Method::prefetch(w, blocks[k], entries[k]);
    }
    for (int k = 0; k < m; ++k) {
      if (blocks[k] < 0) continue;
      Method::apply(w, w.pixels[blocks[k]], w.valid[blocks[k]], entries[k], g, out);
    }
  }
}

// Samples points [first, first + count) in block order: count the points per block, place their
// entries block after block (a stable counting sort), then sample block by block.
template <class Method>
void sample_binned(const WindowView& view, const double* x, const double* y, int64_t first,
                   int64_t count, const SampleOut& out_ref, Bins<typename Method::Entry>& bins) {
  using Entry = typename Method::Entry;
  const WindowView w = view;
  const SampleOut out = out_ref;
  const int64_t blocks = int64_t{w.nbx} * w.nby;
  bins.offsets.assign(static_cast<size_t>(blocks) + 1, 0);
  int64_t* offsets = bins.offsets.data();
  Entry e{};
  for (int64_t k = 0; k < count; ++k) {
    const int64_t i = first + k;
    const int64_t block = Method::locate(w, x[i], y[i], i, 0, out, false, &e);
    if (block >= 0) ++offsets[block + 1];
  }
  std::inclusive_scan(offsets, offsets + blocks + 1, offsets);  // offsets[b] = first of block b
  if (bins.capacity < offsets[blocks]) {
    bins.entries.reset(new Entry[static_cast<size_t>(offsets[blocks])]);
    bins.capacity = offsets[blocks];
  }
  Entry* entries = bins.entries.get();
  for (int64_t k = 0; k < count; ++k) {
    const int64_t i = first + k;
    const int64_t block = Method::locate(w, x[i], y[i], i, static_cast<uint32_t>(k), out, true, &e);
    if (block >= 0) entries[offsets[block]++] = e;
  }
  // offsets[b] is now the end of block b, the start of block b + 1.
  int64_t begin = 0;
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t end = offsets[b];
    const uint8_t* pixels = w.pixels[b];
    const uint8_t* valid = w.valid[b];
    for (int64_t k = begin; k < end; ++k) {
      if (k + kPrefetchAhead < end) Method::prefetch(w, b, entries[k + kPrefetchAhead]);
      Method::apply(w, pixels, valid, entries[k], first, out);
    }
    begin = end;
  }
}

template <class Method>
void sample_points(const WindowView& w, const double* x, const double* y, int64_t n,
                   const SampleOut& out) {
  const int64_t blocks = int64_t{w.nbx} * w.nby;
  const bool may_bin = blocks > 1 && blocks <= kMaxBinnedBlocks &&
                       int64_t{w.block_size} * w.block_size <= int64_t{UINT32_MAX};
  int threads = 1;
#if defined(_OPENMP)
  threads = omp_get_max_threads();
#endif
  // Every thread gets at least one chunk.
  const int64_t chunk = std::min(kChunkPoints, (n + threads - 1) / threads);
  const int64_t chunks = (n + chunk - 1) / chunk;
#if defined(_OPENMP)
#pragma omp parallel if (chunks > 1)
#endif
  {
    Bins<typename Method::Entry> bins;
#if defined(_OPENMP)
#pragma omp for schedule(static)
#endif
    for (int64_t c = 0; c < chunks; ++c) {
      const int64_t first = c * chunk, count = std::min(chunk, n - first);
      if (may_bin && count >= kMinBinnedPoints && scattered(w, x + first, y + first, count)) {
        sample_binned<Method>(w, x, y, first, count, out, bins);
      } else if (Method::kGrouped) {
        sample_grouped<Method>(w, x, y, first, first + count, out);
      } else {
        sample_in_order<Method>(w, x, y, first, first + count, out);
      }
    }
  }
}

template <template <int> class Method>
void sample_bands(const WindowView& view, const double* x, const double* y, int64_t n,
                  const SampleOut& out) {
  // RGB and NIR: constant band counts unroll the band loops.
  if (out.out_bands == 3) return sample_points<Method<3>>(view, x, y, n, out);
  if (out.out_bands == 1) return sample_points<Method<1>>(view, x, y, n, out);
  sample_points<Method<0>>(view, x, y, n, out);
}

}  // namespace

void sample_cpu(const WindowView& view, const double* x, const double* y, size_t n,
                SampleMethod method, const SampleOut& out) {
  const auto count = static_cast<int64_t>(n);
  if (method == SampleMethod::kNearest) {
    sample_bands<NearestMethod>(view, x, y, count, out);
  } else {
    sample_bands<BilinearMethod>(view, x, y, count, out);
  }
}

}  // namespace lidarhd::raster::detail
