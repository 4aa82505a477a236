// CPU back end of compute_point_stats: one accumulator per chunk of points, filled in parallel,
// then merged in chunk order.
#include <algorithm>
#include <vector>

#include "core/parallel_for.hpp"
#include "core/point_stats_impl.hpp"

namespace lidarhd::detail {

void point_stats_cpu(const int32_t* x, const int32_t* y, const int32_t* z, const uint8_t* cls,
                     size_t n, StatsAccumulator& out) {
  accumulator_reset(out);
  if (n == 0) return;
  // Chunks large enough to amortise an accumulator (2 KiB), few enough to merge quickly.
  constexpr size_t kMinChunk = 1 << 16;
  constexpr size_t kMaxChunks = 256;
  const size_t chunk = std::max(kMinChunk, (n + kMaxChunks - 1) / kMaxChunks);
  const size_t chunks = (n + chunk - 1) / chunk;
  std::vector<StatsAccumulator> partial(chunks);
  parallel_for_cpu(static_cast<int64_t>(chunks), [&](int64_t k) {
    StatsAccumulator& acc = partial[static_cast<size_t>(k)];
    accumulator_reset(acc);
    const size_t begin = static_cast<size_t>(k) * chunk;
    const size_t end = std::min(n, begin + chunk);
    for (size_t i = begin; i < end; ++i) {
      stats_add_point<PlainOps, PlainOps>(acc.bounds, acc.counts, x[i], y[i], z[i], cls[i]);
    }
  });
  for (const StatsAccumulator& acc : partial) {
    bounds_merge<PlainOps>(out.bounds, acc.bounds);
    counts_merge<PlainOps>(out.counts, acc.counts);
  }
}

}  // namespace lidarhd::detail
