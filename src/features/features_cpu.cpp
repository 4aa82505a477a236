// CPU back end of compute_features: the fused kernel over the points in grid order. k-NN
// neighbourhoods are searched a column at a time (spatial/knn_block_cpu.hpp): the same
// neighbours, in the same order, as the kernel's own knn_query, found several times faster.
#include <algorithm>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "core/parallel_for.hpp"
#include "features/features_impl.hpp"
#include "spatial/knn_block_cpu.hpp"

namespace lidarhd::features::detail {
namespace {

// The points of columns [c0, c1), k nearest neighbours by blocks of columns.
void knn_columns(const KernelParams& P, lidarhd::detail::KnnBlockSearch& search, int64_t c0,
                 int64_t c1) {
  const GridView& g = P.grid;
  uint64_t keys[kNeighborCap];
  uint32_t pos[kNeighborCap];
  float gx[kNeighborCap], gy[kNeighborCap], gz[kNeighborCap];
  for (int64_t c = c0; c < c1; ++c) {
    const uint32_t s = g.cell_start[c];
    const uint32_t e = g.cell_start[c + 1];
    if (s == e) continue;
    const bool block = search.set_cell(static_cast<uint32_t>(c));
    for (uint32_t p = s; p < e; ++p) {
      float v[kFeatureCount];
      for (int f = 0; f < kFeatureCount; ++f) v[f] = 0.0f;
      uint8_t status = 0;
      float reach2;
      const float qx = g.x[p], qy = g.y[p], qz = g.z[p];
      if (block && search.query(p, keys, pos)) {
        // The grid's sorted coordinates are copies of the input's: the same values as the
        // kernel's gather by original index, from memory the search just read.
        const int m = P.cap;
        for (int j = 0; j < m; ++j) {
          gx[j] = g.x[pos[j]];
          gy[j] = g.y[pos[j]];
          gz[j] = g.z[pos[j]];
        }
        const float last =
            lidarhd::detail::float_from_bits(static_cast<uint32_t>(keys[m - 1] >> 32));
        shape_values(P, qx, qy, qz, m, last, gx, gy, gz, v, status);
        reach2 = last;
      } else {
        reach2 = neighborhood_values(P, qx, qy, qz, v, status);
      }
      finish_point(P, p, v, status, reach2);
    }
  }
}

}  // namespace

void compute_features_cpu(const KernelParams& P, unsigned threads) {
#if defined(_OPENMP)
  // The thread count applies to this call only: restore the caller's setting afterwards.
  const int previous = omp_get_max_threads();
  if (threads > 0) omp_set_num_threads(static_cast<int>(threads));
#else
  (void)threads;
#endif
  if (P.need_neighbors && P.mode == kModeKnn && P.cap <= kNeighborCap) {
    constexpr int64_t kCellsPerTask = 64;
    const int64_t cells = static_cast<int64_t>(P.grid.nx) * static_cast<int64_t>(P.grid.ny);
    lidarhd::detail::parallel_for_cpu(
        (cells + kCellsPerTask - 1) / kCellsPerTask, [&P, cells](int64_t t) {
          lidarhd::detail::KnnBlockSearch search(P.grid, P.cap);
          knn_columns(P, search, t * kCellsPerTask, std::min(cells, (t + 1) * kCellsPerTask));
        });
  } else {
    lidarhd::detail::parallel_for_cpu(
        static_cast<int64_t>(P.n), [&P](int64_t p) { feature_point(P, static_cast<uint32_t>(p)); });
  }
#if defined(_OPENMP)
  if (threads > 0) omp_set_num_threads(previous);
#endif
}

}  // namespace lidarhd::features::detail
