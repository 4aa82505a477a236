// CPU back end of compute_features: the fused kernel over the points in grid order. k-NN
// neighbourhoods are searched a column at a time (spatial/knn_block_cpu.hpp): the same
// neighbours, in the same order, as the kernel's own knn_query, found several times faster.
//
// Output: the points are visited in grid order but their rows are at their original indices,
// so writing a point's requested columns straight into the table touches one cache line and
// one page per column, scattered over the whole table (a quarter of the time on a shuffled
// million-point cloud, whose table outgrows the caches and the TLB). Instead a chunk of grid
// order is staged column by column, then each column is scattered on its own, whose working
// set (4 bytes a point) stays in the caches far longer. The values and bits are the same.
#include <algorithm>
#include <vector>

#include "core/parallel_for.hpp"
#include "features/features_impl.hpp"
#include "spatial/knn_block_cpu.hpp"

namespace lidarhd::features::detail {
namespace {

constexpr int64_t kCellsPerTask = 64;
// Points per staged chunk (about 6 MiB of staging for lod3 in float32).
constexpr uint32_t kChunkPoints = 1u << 18;
// Tables at most this large are written directly: they stay in the caches anyway.
constexpr size_t kDirectBytes = size_t{4} << 20;

// Where the requested columns of the points of one chunk [p0, p0 + count) of grid order go:
// column j of grid point p at [j * count + p - p0], as the table's type.
struct Stage {
  float* f32 = nullptr;
  uint16_t* f16 = nullptr;
  uint32_t p0 = 0;
  uint32_t count = 0;
};

// Writes the requested columns of grid point p (values v) to the stage, or to the table when
// there is no stage (finish_point did it: P has its columns).
inline void stage_point(const KernelParams& P, const Stage& s, uint32_t p, const float* v) {
  if (s.count == 0) return;
  const size_t at = p - s.p0;
  for (int j = 0; j < P.columns; ++j) {
    const float value = v[P.ids[j]];
    if (s.f32) {
      s.f32[static_cast<size_t>(j) * s.count + at] = value;
    } else {
      s.f16[static_cast<size_t>(j) * s.count + at] = float_to_half(value);
    }
  }
}

// The points of columns [c0, c1), k nearest neighbours by blocks of columns. `Pw` is P with
// no columns when a stage takes them.
void knn_columns(const KernelParams& P, const KernelParams& Pw, const Stage& stage,
                 lidarhd::detail::KnnBlockSearch& search, int64_t c0, int64_t c1) {
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
      finish_point(Pw, p, v, status, reach2);
      stage_point(P, stage, p, v);
    }
  }
}

// The points of columns [c0, c1), one kernel call each.
void plain_columns(const KernelParams& P, const KernelParams& Pw, const Stage& stage, int64_t c0,
                   int64_t c1) {
  const GridView& g = P.grid;
  for (uint32_t p = g.cell_start[c0]; p < g.cell_start[c1]; ++p) {
    float v[kFeatureCount];
    for (int f = 0; f < kFeatureCount; ++f) v[f] = 0.0f;
    uint8_t status = 0;
    float reach2 = 0.0f;
    if (P.need_neighbors) reach2 = neighborhood_values(P, g.x[p], g.y[p], g.z[p], v, status);
    finish_point(Pw, p, v, status, reach2);
    stage_point(P, stage, p, v);
  }
}

// Tasks [t0, t1) of kCellsPerTask columns each, in parallel.
void run_tasks(const KernelParams& P, const KernelParams& Pw, const Stage& stage, int64_t t0,
               int64_t t1) {
  const int64_t cells = static_cast<int64_t>(P.grid.nx) * static_cast<int64_t>(P.grid.ny);
  if (P.need_neighbors && P.mode == kModeKnn && P.cap <= kNeighborCap) {
    lidarhd::detail::parallel_for_cpu_dynamic(t1 - t0, [&](int64_t t) {
      lidarhd::detail::KnnBlockSearch search(P.grid, P.cap);
      const int64_t c0 = (t0 + t) * kCellsPerTask;
      knn_columns(P, Pw, stage, search, c0, std::min(cells, c0 + kCellsPerTask));
    });
  } else {
    lidarhd::detail::parallel_for_cpu_dynamic(t1 - t0, [&](int64_t t) {
      const int64_t c0 = (t0 + t) * kCellsPerTask;
      plain_columns(P, Pw, stage, c0, std::min(cells, c0 + kCellsPerTask));
    });
  }
}

// Moves a staged chunk into the table, a quarter of a column per task: whole columns would
// split unevenly between threads (lod2's 13 on two threads: 7 against 6).
void scatter(const KernelParams& P, const Stage& s) {
  constexpr int64_t kPieces = 4;
  const uint32_t* index = P.grid.index + s.p0;
  const size_t n = P.n;
  const uint32_t count = s.count;
  lidarhd::detail::parallel_for_cpu_dynamic(P.columns * kPieces, [&](int64_t t) {
    const size_t j = static_cast<size_t>(t / kPieces);
    const uint32_t u0 = static_cast<uint32_t>(uint64_t{count} * (t % kPieces) / kPieces);
    const uint32_t u1 = static_cast<uint32_t>(uint64_t{count} * (t % kPieces + 1) / kPieces);
    const size_t from = j * count;
    if (s.f32) {
      float* out = P.out32 + j * n;
      for (uint32_t u = u0; u < u1; ++u) out[index[u]] = s.f32[from + u];
    } else {
      uint16_t* out = P.out16 + j * n;
      for (uint32_t u = u0; u < u1; ++u) out[index[u]] = s.f16[from + u];
    }
  });
}

}  // namespace

void compute_features_cpu(const KernelParams& P) {
  const int64_t cells =
      P.n == 0 ? 0 : static_cast<int64_t>(P.grid.nx) * static_cast<int64_t>(P.grid.ny);
  const int64_t tasks = (cells + kCellsPerTask - 1) / kCellsPerTask;
  const size_t bytes =
      static_cast<size_t>(P.n) * static_cast<size_t>(P.columns) * (P.out32 ? 4u : 2u);
  if (bytes <= kDirectBytes || P.columns == 0) {
    run_tasks(P, P, Stage{}, 0, tasks);
  } else {
    KernelParams Pw = P;
    Pw.columns = 0;  // finish_point leaves the columns to the stage
    std::vector<float> f32;
    std::vector<uint16_t> f16;
    const uint32_t* start = P.grid.cell_start;
    for (int64_t t0 = 0; t0 < tasks;) {
      // Whole tasks up to about kChunkPoints points (at least one).
      int64_t t1 = t0 + 1;
      const uint32_t p0 = start[t0 * kCellsPerTask];
      while (t1 < tasks && start[t1 * kCellsPerTask] - p0 < kChunkPoints) ++t1;
      const uint32_t p1 = start[std::min(cells, t1 * kCellsPerTask)];
      Stage s;
      s.p0 = p0;
      s.count = p1 - p0;
      if (s.count > 0) {
        const size_t size = static_cast<size_t>(s.count) * static_cast<size_t>(P.columns);
        if (P.out32) {
          if (f32.size() < size) f32.resize(size);
          s.f32 = f32.data();
        } else {
          if (f16.size() < size) f16.resize(size);
          s.f16 = f16.data();
        }
        run_tasks(P, Pw, s, t0, t1);
        scatter(P, s);
      }
      t0 = t1;
    }
  }
}

}  // namespace lidarhd::features::detail
