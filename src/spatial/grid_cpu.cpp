// CPU back end of the neighbour index: a counting sort by column, then each column sorted by
// (z, original index); queries in parallel (static chunks: neighbouring queries share columns).
#include <algorithm>
#include <vector>

#include "core/parallel_for.hpp"
#include "spatial/grid_impl.hpp"
#include "spatial/knn_block_cpu.hpp"

namespace lidarhd::detail {

void build_grid_cpu(const float* x, const float* y, const float* z, size_t n,
                    const GridGeometry& geo, GridStorage& out) {
  const Device cpu = Device::cpu();
  const size_t cells = static_cast<size_t>(geo.nx) * static_cast<size_t>(geo.ny);
  HostVector<uint32_t> cell_of(n);  // written below, in parallel (pages first touched there)
  parallel_for_cpu(static_cast<int64_t>(n), [&](int64_t i) {
    const int cx = grid_coord(x[i], geo.min_x, geo.inv_cell, geo.nx);
    const int cy = grid_coord(y[i], geo.min_y, geo.inv_cell, geo.ny);
    cell_of[static_cast<size_t>(i)] = static_cast<uint32_t>(cy) * static_cast<uint32_t>(geo.nx) +
                                      static_cast<uint32_t>(cx);
  });

  out.cell_start = DeviceBuffer<uint32_t>(cells + 1, cpu);
  uint32_t* start = out.cell_start.data();
  for (size_t i = 0; i < n; ++i) ++start[cell_of[i] + 1];
  for (size_t c = 0; c < cells; ++c) start[c + 1] += start[c];

  // Scattering in index order keeps each column in index order; the column sort below then
  // only has to order by z, with the index as the tie-break built into its keys. The indices
  // go straight into the index array (no tile-sized key array: less memory to touch).
  out.index = DeviceBuffer<uint32_t>(n, cpu);
  uint32_t* sidx = out.index.data();
  {
    std::vector<uint32_t> next(start, start + cells);
    for (size_t i = 0; i < n; ++i) sidx[next[cell_of[i]]++] = static_cast<uint32_t>(i);
  }
  // Each column ordered by (z, index), a block of columns per task.
  constexpr size_t kCellsPerSort = 1024;
  const int64_t sorts = static_cast<int64_t>((cells + kCellsPerSort - 1) / kCellsPerSort);
  parallel_for_cpu(sorts, [&](int64_t t) {
    const size_t c0 = static_cast<size_t>(t) * kCellsPerSort;
    const size_t c1 = std::min(cells, c0 + kCellsPerSort);
    std::vector<uint64_t> key;
    for (size_t c = c0; c < c1; ++c) {
      const uint32_t s = start[c], len = start[c + 1] - start[c];
      if (len < 2) continue;
      key.resize(len);
      for (uint32_t u = 0; u < len; ++u) {
        const uint32_t i = sidx[s + u];
        key[u] = (static_cast<uint64_t>(float_order_bits(z[i])) << 32) | i;
      }
      std::sort(key.begin(), key.end());
      for (uint32_t u = 0; u < len; ++u) sidx[s + u] = static_cast<uint32_t>(key[u]);
    }
  });

  out.x = DeviceBuffer<float>(n, cpu);
  out.y = DeviceBuffer<float>(n, cpu);
  out.z = DeviceBuffer<float>(n, cpu);
  float* sx = out.x.data();
  float* sy = out.y.data();
  float* sz = out.z.data();
  parallel_for_cpu(static_cast<int64_t>(n), [&](int64_t p) {
    const uint32_t i = sidx[p];
    sx[p] = x[i];
    sy[p] = y[i];
    sz[p] = z[i];
  });
}

namespace {

// k nearest of the own points, a column at a time (knn_block_cpu.hpp); rows staged as below.
void knn_own_blocks(const GridView& g, int k, uint32_t* idx, float* d2) {
  constexpr int64_t kCellsPerTask = 64;
  constexpr uint32_t kStage = 256;
  const size_t cap = static_cast<size_t>(k);
  const int64_t cells = static_cast<int64_t>(g.nx) * static_cast<int64_t>(g.ny);
  parallel_for_cpu((cells + kCellsPerTask - 1) / kCellsPerTask, [&](int64_t task) {
    KnnBlockSearch search(g, k);
    std::vector<uint64_t> staged(kStage * cap);
    uint32_t rows[kStage];
    int count[kStage];
    uint32_t pos[kCapacityClasses[1]];
    uint32_t used = 0;
    auto flush = [&] {
      for (uint32_t t = 0; t < used; ++t) {
        write_row(staged.data() + t * cap, count[t], cap, idx + rows[t] * cap, d2 + rows[t] * cap);
      }
      used = 0;
    };
    const int64_t c0 = task * kCellsPerTask;
    const int64_t c1 = std::min(cells, c0 + kCellsPerTask);
    for (int64_t c = c0; c < c1; ++c) {
      const uint32_t s = g.cell_start[c];
      const uint32_t e = g.cell_start[c + 1];
      if (s == e) continue;
      const bool block = search.set_cell(static_cast<uint32_t>(c));
      for (uint32_t p = s; p < e; ++p) {
        uint64_t* keys = staged.data() + used * cap;
        if (block && search.query(p, keys, pos)) {
          count[used] = k;
        } else {
          count[used] = grid_search(g, g.x[p], g.y[p], g.z[p], k, kInfD2, keys);
        }
        rows[used] = g.index[p];
        if (++used == kStage) flush();
      }
    }
    flush();
  });
}

template <int kCap>
void query_cpu_with(const GridView& g, const QueryBatch& q, uint32_t* idx, float* d2,
                    uint32_t* counts) {
  if (q.qx) {  // external queries: their rows are written in order
    parallel_for_cpu(static_cast<int64_t>(q.m),
                     [&](int64_t t) { query_one<kCap>(g, q, t, idx, d2, counts); });
    return;
  }
  // Own points run in grid order but write the rows of their original indices, scattered over
  // the outputs: a cache and TLB miss per row when written from inside the search loop. A block
  // of results is staged first and then scattered in one tight loop, whose misses overlap.
  constexpr int64_t kBlock = 256;
  const size_t cap = static_cast<size_t>(q.cap);
  const int64_t m = static_cast<int64_t>(q.m);
  parallel_for_cpu((m + kBlock - 1) / kBlock, [&](int64_t b) {
    const int64_t begin = b * kBlock;
    const int64_t end = std::min(m, begin + kBlock);
    std::vector<uint64_t> staged(static_cast<size_t>(end - begin) * cap);
    int count[kBlock];
    for (int64_t t = begin; t < end; ++t) {
      count[t - begin] = grid_search(g, g.x[t], g.y[t], g.z[t], q.cap, q.limit,
                                     staged.data() + static_cast<size_t>(t - begin) * cap);
    }
    for (int64_t t = begin; t < end; ++t) {
      const size_t row = g.index[t];
      write_row(staged.data() + static_cast<size_t>(t - begin) * cap, count[t - begin], cap,
                idx + row * cap, d2 + row * cap);
      if (counts) counts[row] = static_cast<uint32_t>(count[t - begin]);
    }
  });
}

}  // namespace

void query_cpu(const GridView& g, const QueryBatch& q, uint32_t* idx, float* d2,
               uint32_t* counts) {
  static_assert(kCapacityClasses[3] == 1024, "one branch per capacity class");
  // k nearest of the own points (knn; radius and hybrid have a finite limit): by columns.
  if (!q.qx && !counts && q.limit == kInfD2 && q.cap <= kCapacityClasses[1]) {
    knn_own_blocks(g, q.cap, idx, d2);
    return;
  }
  if (q.cap <= kCapacityClasses[0]) {
    query_cpu_with<kCapacityClasses[0]>(g, q, idx, d2, counts);
  } else if (q.cap <= kCapacityClasses[1]) {
    query_cpu_with<kCapacityClasses[1]>(g, q, idx, d2, counts);
  } else if (q.cap <= kCapacityClasses[2]) {
    query_cpu_with<kCapacityClasses[2]>(g, q, idx, d2, counts);
  } else {
    query_cpu_with<kCapacityClasses[3]>(g, q, idx, d2, counts);
  }
}

}  // namespace lidarhd::detail
