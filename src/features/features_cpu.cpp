// CPU back end of compute_features: the fused kernel over the points in grid order. k-NN and
// radius neighbourhoods are searched a column at a time (spatial/knn_block_cpu.hpp): the same
// neighbours, in the same order, as the kernel's own knn_query and radius_query, found several
// times faster.
//
// Output: the points are visited in grid order but their rows are at their original indices,
// so writing a point's requested columns straight into the table touches one cache line and
// one page per column, scattered over the whole table (a quarter of the time on a shuffled
// million-point cloud, whose table outgrows the caches and the TLB). Instead a chunk of grid
// order is staged column by column, then each column is scattered on its own, whose working
// set (4 bytes a point) stays in the caches far longer. The values and bits are the same.
#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "core/parallel_for.hpp"
#include "features/features_impl.hpp"
#include "features/shape_simd.hpp"
#include "spatial/knn_block_cpu.hpp"

namespace lidarhd::features::detail {
namespace {

constexpr int64_t kCellsPerTask = 64;

// neighborhood_values with the capacity the CUDA back end runs for P.cap (so that the tests
// without a GPU run both).
float any_neighborhood_values(const KernelParams& P, float qx, float qy, float qz, float* v,
                              uint8_t& status) {
  if (P.cap <= kSmallNeighborCap) {
    return neighborhood_values<kSmallNeighborCap>(P, qx, qy, qz, v, status);
  }
  return neighborhood_values<kNeighborCap>(P, qx, qy, qz, v, status);
}

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

// Points found by the column search whose moments, eigen and plane stages wait for a batch of
// kWidth (the AVX-512 and AVX2 paths: shape_simd.hpp), with what the other stages need.
struct Pending {
  static constexpr int kWidth = shape_simd::kWidth;
  int count = 0;
  int max_m = 0;  // the most neighbours of a pending point (each point's count: batch.m)
  uint32_t p[kWidth];
  float last[kWidth];    // d2 of the farthest neighbour
  float reach2[kWidth];  // search_reach2
  uint8_t status[kWidth];
  float v[kWidth][kFeatureCount];
  shape_simd::Batch batch{};  // the neighbours' coordinates too, lane by lane

  // Lane i's neighbours as the scalar stages read them.
  Coords coords(int i) const { return {&batch.x[0][i], &batch.y[0][i], &batch.z[0][i], kWidth}; }

  // Takes sorted point `point` with its m >= 1 neighbours at sorted positions pos, the
  // farthest at d2 `farthest`, and the search's reach. The grid's sorted coordinates are copies
  // of the input's: the same values as the kernel's gather by original index, from memory the
  // search just read.
  void add(const GridView& g, uint32_t point, int m, const uint32_t* pos, float farthest,
           float reach) {
    const int i = count++;
    for (int j = 0; j < m; ++j) {
      const uint32_t at = pos[j];
      batch.x[j][i] = g.x[at];
      batch.y[j][i] = g.y[at];
      batch.z[j][i] = g.z[at];
    }
    batch.q[0][i] = g.x[point];
    batch.q[1][i] = g.y[point];
    batch.q[2][i] = g.z[point];
    for (int f = 0; f < kFeatureCount; ++f) v[i][f] = 0.0f;
    shape_defaults(v[i]);
    p[i] = point;
    batch.m[i] = m;
    max_m = m > max_m ? m : max_m;
    last[i] = farthest;
    reach2[i] = reach;
    status[i] = 0;
  }
};

// The stages of shape_values for the pending points, then the rest of their features.
void flush(const KernelParams& P, const KernelParams& Pw, const Stage& stage, Pending& b) {
  bool eigen[Pending::kWidth];
  ShapeMoments s[Pending::kWidth];
  shape_simd::moments(b.batch, b.max_m);
  for (int i = 0; i < b.count; ++i) {
    const int m = b.batch.m[i];
    s[i].mean = {b.batch.mean[0][i], b.batch.mean[1][i], b.batch.mean[2][i]};
    s[i].c = {b.batch.c[0][i], b.batch.c[1][i], b.batch.c[2][i],
              b.batch.c[3][i], b.batch.c[4][i], b.batch.c[5][i]};
    s[i].inv = 1.0f / static_cast<float>(m);
    eigen[i] = shape_spread(P, m, b.last[i], b.coords(i), s[i], b.v[i], b.status[i]);
  }
  shape_simd::eigen_smallest(b.batch);
  shape_simd::plane_sums(b.batch, b.max_m);
  for (int i = 0; i < b.count; ++i) {
    const uint32_t p = b.p[i];
    if (eigen[i]) {
      const Sym3<float>& c = s[i].c;
      float lambda[3];
      Vec3<float> normal;
      const float* plane = nullptr;
      if (c.xx + c.yy + c.zz < kUnscaledTraceMax) {  // the batch's case of shape_eigen
        for (int k = 0; k < 3; ++k) lambda[k] = b.batch.value[k][i];
        normal = {b.batch.normal[0][i], b.batch.normal[1][i], b.batch.normal[2][i]};
        plane = &b.batch.plane[i];
      } else {
        shape_eigen(c, lambda, normal);
      }
      shape_features(P, P.grid.x[p], P.grid.y[p], P.grid.z[p], b.batch.m[i], b.coords(i), s[i],
                     lambda, normal, b.v[i], b.status[i], plane);
    }
    finish_point(Pw, p, b.v[i], b.status[i], b.reach2[i]);
    stage_point(P, stage, p, b.v[i]);
  }
  b.count = 0;
  b.max_m = 0;
}

// The points of columns [c0, c1), their neighbours (k nearest, or within the radius) searched
// by blocks of columns; `pending` (null without AVX2) batches their moments, eigen and plane
// stages.
void block_columns(const KernelParams& P, const KernelParams& Pw, const Stage& stage,
                   lidarhd::detail::KnnBlockSearch& search, Pending* pending, int64_t c0,
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
      int m = 0;
      if (block) {
        if (P.mode == kModeKnn) {
          m = search.query(p, keys, pos) ? P.cap : 0;
        } else {
          m = search.query_radius(p, keys, pos);
        }
      }
      const float last =
          m > 0 ? lidarhd::detail::float_from_bits(static_cast<uint32_t>(keys[m - 1] >> 32)) : 0.0f;
      if (m > 0 && pending) {
        pending->add(g, p, m, pos, last, search_reach2(P, m, last));
        if (pending->count == Pending::kWidth) flush(P, Pw, stage, *pending);
        continue;
      }
      const float qx = g.x[p], qy = g.y[p], qz = g.z[p];
      float v[kFeatureCount];
      for (int f = 0; f < kFeatureCount; ++f) v[f] = 0.0f;
      uint8_t status = 0;
      float reach2;
      if (m > 0) {
        reach2 = search_reach2(P, m, last);
        // The grid's sorted coordinates are copies of the input's: the same values as the
        // kernel's gather by original index, from memory the search just read.
        for (int j = 0; j < m; ++j) {
          gx[j] = g.x[pos[j]];
          gy[j] = g.y[pos[j]];
          gz[j] = g.z[pos[j]];
        }
        shape_values(P, qx, qy, qz, m, last, gx, gy, gz, v, status);
      } else {
        reach2 = any_neighborhood_values(P, qx, qy, qz, v, status);
      }
      finish_point(Pw, p, v, status, reach2);
      stage_point(P, stage, p, v);
    }
  }
  if (pending && pending->count > 0) flush(P, Pw, stage, *pending);
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
    if (P.need_neighbors) reach2 = any_neighborhood_values(P, g.x[p], g.y[p], g.z[p], v, status);
    finish_point(Pw, p, v, status, reach2);
    stage_point(P, stage, p, v);
  }
}

// Tasks [t0, t1) of kCellsPerTask columns each, in parallel; `per_point`: every point through
// the per-point kernel, as on the GPU.
void run_tasks(const KernelParams& P, const KernelParams& Pw, const Stage& stage, int64_t t0,
               int64_t t1, bool per_point) {
  const int64_t cells = static_cast<int64_t>(P.grid.nx) * static_cast<int64_t>(P.grid.ny);
  if (P.need_neighbors && P.cap <= kNeighborCap && !per_point) {
    lidarhd::detail::parallel_for_cpu_dynamic(t1 - t0, [&](int64_t t) {
      lidarhd::detail::KnnBlockSearch search(P.grid, P.cap);
      if (P.mode == kModeRadius) search.set_radius(P.radius * P.radius);  // radius_query's r2
      std::unique_ptr<Pending> pending;
      if (shape_simd::width() > 0) pending = std::make_unique<Pending>();
      const int64_t c0 = (t0 + t) * kCellsPerTask;
      block_columns(P, Pw, stage, search, pending.get(), c0, std::min(cells, c0 + kCellsPerTask));
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
  // LIDARHD_FEATURES_PER_POINT=1 runs the CUDA back end's per-point kernel instead of the column
  // search (tests: both must give the same bits; read at each call so that tests may set it).
  const char* env = std::getenv("LIDARHD_FEATURES_PER_POINT");
  const bool per_point = env && std::string(env) == "1";
  const int64_t cells =
      P.n == 0 ? 0 : static_cast<int64_t>(P.grid.nx) * static_cast<int64_t>(P.grid.ny);
  const int64_t tasks = (cells + kCellsPerTask - 1) / kCellsPerTask;
  const size_t bytes =
      static_cast<size_t>(P.n) * static_cast<size_t>(P.columns) * (P.out32 ? 4u : 2u);
  if (bytes <= kDirectBytes || P.columns == 0) {
    run_tasks(P, P, Stage{}, 0, tasks, per_point);
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
        run_tasks(P, Pw, s, t0, t1, per_point);
        scatter(P, s);
      }
      t0 = t1;
    }
  }
}

}  // namespace lidarhd::features::detail
