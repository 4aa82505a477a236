// Exact farthest-point sampling, accelerated by buckets, and the per-job host pieces shared by
// both back ends (job planning, sampling streams).
//
// FPS keeps, for every point, its smallest squared distance to the selected points (`mind`) and
// picks the largest next. The points are sorted into buckets of a 2-D grid (a few dozen points
// each); a bucket keeps its bounding box and the largest `mind` of its points. A new sample can
// only lower the `mind` of points closer to it than their current `mind`, so a bucket whose box
// is at least its largest `mind` away is skipped. That bound is exact in float: the box distance
// is computed with the same rounded operations as a point's distance and rounding is monotone,
// so it never exceeds the distance of any point inside. Hence the result equals the brute-force
// definition bit for bit, ties included (smallest position wins).
//
// FPS runs on the host on both devices: it is a long chain of dependent steps per patch, so the
// parallelism is across patches (OpenMP), with a CUDA build binning on the GPU first.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "patches/patches_backend.hpp"

namespace lidarhd::patches::detail {

namespace {

// As grid_impl.hpp's point_d2: float differences, squared and summed in double (exact squares,
// so FMA contraction cannot change it), rounded once to float.
inline float fps_d2(float dx, float dy, float dz) {
  const auto x = static_cast<double>(dx), y = static_cast<double>(dy), z = static_cast<double>(dz);
  return static_cast<float>(x * x + y * y + z * z);
}

// Per-axis distance from s to [lo, hi], with the same rounding as a point's difference.
inline float gap(float s, float lo, float hi) {
  if (s < lo) return lo - s;
  if (s > hi) return s - hi;
  return 0.0f;
}

struct Bucket {
  uint32_t begin, end;  // slots in bucket order
  float lo[3], hi[3];
  float max_mind;
  uint32_t arg;  // position (input order) of the first point with max_mind
};

}  // namespace

std::vector<uint32_t> farthest_point_sample(const float* px, const float* py, const float* pz,
                                            uint32_t m, uint32_t count, uint32_t start) {
  std::vector<uint32_t> picked;
  count = std::min(count, m);
  if (count == 0) return picked;
  picked.reserve(count);

  // Buckets: a square 2-D grid of about kPerBucket points per cell over the x/y extent, grouped
  // in blocks of kGroup x kGroup buckets that carry their own box and largest `mind`, so that
  // an iteration skips most of the tile a block at a time.
  constexpr uint32_t kPerBucket = 32, kGroup = 8;
  float x0 = px[0], x1 = px[0], y0 = py[0], y1 = py[0];
  for (uint32_t i = 1; i < m; ++i) {
    x0 = std::min(x0, px[i]), x1 = std::max(x1, px[i]);
    y0 = std::min(y0, py[i]), y1 = std::max(y1, py[i]);
  }
  const auto side = static_cast<uint32_t>(
      std::max(1.0, std::ceil(std::sqrt(static_cast<double>(m) / kPerBucket))));
  const uint32_t groups = (side + kGroup - 1) / kGroup;
  const float fx = side / std::max(x1 - x0, 1e-30f), fy = side / std::max(y1 - y0, 1e-30f);
  // Bucket key: (group, bucket inside the group), so that a group's buckets are contiguous.
  std::vector<uint32_t> cell(m), first(size_t(groups) * groups * kGroup * kGroup + 1, 0);
  for (uint32_t i = 0; i < m; ++i) {
    const auto cx = std::min(side - 1, static_cast<uint32_t>(std::max(0.0f, (px[i] - x0) * fx)));
    const auto cy = std::min(side - 1, static_cast<uint32_t>(std::max(0.0f, (py[i] - y0) * fy)));
    cell[i] = ((cy / kGroup) * groups + cx / kGroup) * kGroup * kGroup + (cy % kGroup) * kGroup +
              cx % kGroup;
    ++first[cell[i] + 1];
  }
  for (size_t c = 0; c + 1 < first.size(); ++c) first[c + 1] += first[c];
  // Slots in bucket order, ascending position inside a bucket (the tie-break relies on it).
  std::vector<float> sx(m), sy(m), sz(m), mind(m, std::numeric_limits<float>::infinity());
  std::vector<uint32_t> pos(m), slot_of(m);
  {
    std::vector<uint32_t> next(first.begin(), first.end() - 1);
    for (uint32_t i = 0; i < m; ++i) {
      const uint32_t s = next[cell[i]]++;
      sx[s] = px[i], sy[s] = py[i], sz[s] = pz[i], pos[s] = i, slot_of[i] = s;
    }
  }
  std::vector<Bucket> buckets, blocks;  // a block's begin/end index buckets
  std::vector<uint32_t> bucket_of_slot(m), block_of_bucket;
  const float inf = std::numeric_limits<float>::infinity();
  for (size_t c = 0; c + 1 < first.size(); ++c) {
    if (first[c] == first[c + 1]) continue;
    const uint32_t f = first[c];
    Bucket b{f, first[c + 1], {sx[f], sy[f], sz[f]}, {sx[f], sy[f], sz[f]}, inf, pos[f]};
    for (uint32_t s = b.begin; s < b.end; ++s) {
      b.lo[0] = std::min(b.lo[0], sx[s]), b.hi[0] = std::max(b.hi[0], sx[s]);
      b.lo[1] = std::min(b.lo[1], sy[s]), b.hi[1] = std::max(b.hi[1], sy[s]);
      b.lo[2] = std::min(b.lo[2], sz[s]), b.hi[2] = std::max(b.hi[2], sz[s]);
      bucket_of_slot[s] = static_cast<uint32_t>(buckets.size());
    }
    const auto bi = static_cast<uint32_t>(buckets.size());
    if (blocks.empty() || c / (kGroup * kGroup) != blocks.back().arg) {
      // While building, a block's arg holds its group id.
      blocks.push_back(Bucket{bi,
                              bi,
                              {b.lo[0], b.lo[1], b.lo[2]},
                              {b.hi[0], b.hi[1], b.hi[2]},
                              inf,
                              static_cast<uint32_t>(c / (kGroup * kGroup))});
    }
    Bucket& g = blocks.back();
    g.end = bi + 1;
    for (int k = 0; k < 3; ++k)
      g.lo[k] = std::min(g.lo[k], b.lo[k]), g.hi[k] = std::max(g.hi[k], b.hi[k]);
    block_of_bucket.push_back(static_cast<uint32_t>(blocks.size() - 1));
    buckets.push_back(b);
  }

  const auto bound = [](const Bucket& b, float qx, float qy, float qz) {
    return fps_d2(gap(qx, b.lo[0], b.hi[0]), gap(qy, b.lo[1], b.hi[1]), gap(qz, b.lo[2], b.hi[2]));
  };
  // (max_mind, arg) order: larger distance first, then smaller position.
  const auto better = [](float d, uint32_t p, float best, uint32_t best_pos) {
    return d > best || (d == best && p < best_pos);
  };
  uint32_t sel = start < m ? start : 0;
  for (;;) {
    picked.push_back(sel);
    if (picked.size() == count) break;
    const uint32_t sel_slot = slot_of[sel];
    mind[sel_slot] = -1.0f;  // never picked again, even among coincident points
    const float qx = sx[sel_slot], qy = sy[sel_slot], qz = sz[sel_slot];
    const uint32_t own = bucket_of_slot[sel_slot], own_block = block_of_bucket[own];
    float best = -inf;
    uint32_t best_pos = 0;
    for (uint32_t gi = 0; gi < blocks.size(); ++gi) {
      Bucket& g = blocks[gi];
      if (bound(g, qx, qy, qz) < g.max_mind || gi == own_block) {
        float gmax = -inf;
        uint32_t garg = 0;
        for (uint32_t bi = g.begin; bi < g.end; ++bi) {
          Bucket& b = buckets[bi];
          if (bound(b, qx, qy, qz) < b.max_mind || bi == own) {
            float mx = -inf;
            uint32_t arg = 0;
            for (uint32_t s = b.begin; s < b.end; ++s) {
              const float d = fps_d2(sx[s] - qx, sy[s] - qy, sz[s] - qz);
              float v = mind[s];
              if (d < v) v = mind[s] = d;
              if (v > mx) mx = v, arg = pos[s];
            }
            b.max_mind = mx;
            b.arg = arg;
          }
          if (better(b.max_mind, b.arg, gmax, garg)) gmax = b.max_mind, garg = b.arg;
        }
        g.max_mind = gmax;
        g.arg = garg;
      }
      if (better(g.max_mind, g.arg, best, best_pos)) best = g.max_mind, best_pos = g.arg;
    }
    sel = best_pos;
  }
  return picked;
}

std::vector<uint32_t> farthest_point_sample_reference(const float* px, const float* py,
                                                      const float* pz, uint32_t m, uint32_t count,
                                                      uint32_t start) {
  std::vector<uint32_t> picked;
  count = std::min(count, m);
  std::vector<float> mind(m, std::numeric_limits<float>::infinity());
  uint32_t sel = start < m ? start : 0;
  while (picked.size() < count) {
    picked.push_back(sel);
    mind[sel] = -1.0f;
    uint32_t next = 0;
    for (uint32_t i = 0; i < m; ++i) {
      const float d = fps_d2(px[i] - px[sel], py[i] - py[sel], pz[i] - pz[sel]);
      if (d < mind[i]) mind[i] = d;
      if (mind[i] > mind[next]) next = i;
    }
    sel = next;
  }
  return picked;
}

std::vector<JobInfo> plan_jobs(const std::vector<uint64_t>& cell_start, const SampleInput& in) {
  std::vector<JobInfo> jobs;
  const uint64_t least = std::max<uint64_t>(in.options.min_points, 1);
  const int copies = in.options.augment.copies;
  for (size_t c = 0; c + 1 < cell_start.size(); ++c) {
    const uint64_t count = cell_start[c + 1] - cell_start[c];
    if (count < least) continue;
    JobInfo info;
    info.gx = in.grid.gx0 + static_cast<int64_t>(c) % in.grid.ncx;
    info.gy = in.grid.gy0 + static_cast<int64_t>(c) / in.grid.ncx;
    info.start = cell_start[c];
    info.count = count;
    for (int a = 0; a <= copies; ++a) {
      info.augmentation = a;
      jobs.push_back(info);
    }
  }
  return jobs;
}

Job sampling_job(const JobInfo& info, uint64_t seed, uint64_t start, uint64_t count) {
  Job job;
  job.start = start;
  job.count = count;
  job.permute_key = stream_key(seed, info.gx, info.gy, info.augmentation, kPurposePermute);
  job.extra_key = stream_key(seed, info.gx, info.gy, info.augmentation, kPurposeExtra);
  return job;
}

void sample_fps(const SampleInput& in, const uint32_t* members, const std::vector<JobInfo>& jobs,
                uint32_t* out) {
  const PatchOptions& o = in.options;
  const auto n_jobs = static_cast<int64_t>(jobs.size());
#if defined(_OPENMP)
#pragma omp parallel for schedule(dynamic, 1)
#endif
  for (int64_t k = 0; k < n_jobs; ++k) {
    const JobInfo& info = jobs[static_cast<size_t>(k)];
    const uint32_t* list = members + info.start;
    const auto m = static_cast<uint32_t>(info.count);
    // float32 relative to the square's centre (x, y) and the cell's first point (z).
    const double cx = cell_lo(info.gx, in.grid.stride) + in.grid.size / 2;
    const double cy = cell_lo(info.gy, in.grid.stride) + in.grid.size / 2;
    const double cz = in.z[list[0]];
    std::vector<float> px(m), py(m), pz(m);
    for (uint32_t p = 0; p < m; ++p) {
      px[p] = static_cast<float>(in.x[list[p]] - cx);
      py[p] = static_cast<float>(in.y[list[p]] - cy);
      pz[p] = static_cast<float>(in.z[list[p]] - cz);
    }
    const auto start = static_cast<uint32_t>(draw_below(
        stream_key(o.seed, info.gx, info.gy, info.augmentation, kPurposeFpsStart), 0, m));
    const std::vector<uint32_t> picked =
        farthest_point_sample(px.data(), py.data(), pz.data(), m, o.num_points, start);
    uint32_t* dst = out + static_cast<size_t>(k) * o.num_points;
    for (size_t j = 0; j < picked.size(); ++j) dst[j] = list[picked[j]];
    const Job job = sampling_job(info, o.seed, 0, m);
    for (uint64_t j = picked.size(); j < o.num_points; ++j) {
      dst[j] = list[random_slot(j, m, 0, job.extra_key)];
    }
  }
}

}  // namespace lidarhd::patches::detail
