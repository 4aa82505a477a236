// The device back ends of extract_patches (binning and sampling) and the host pieces they share.
// patches.cpp validates, plans the grid and turns the sampled indices into Patch objects on the
// host; patches_cpu.cpp / patches_cuda.cu run patches_run.hpp on their device.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "lidarhd/patches/patches.hpp"
#include "patches/patches_impl.hpp"

namespace lidarhd::patches::detail {

struct SampleInput {
  const double* x = nullptr;  // host memory
  const double* y = nullptr;
  const double* z = nullptr;
  size_t n = 0;
  CellGrid grid;
  PatchOptions options;
};

// One patch to produce: a cell with enough points and one augmentation level.
struct JobInfo {
  int64_t gx = 0, gy = 0;
  int augmentation = 0;
  uint64_t start = 0;  // the cell's points: members[start, start + count)
  uint64_t count = 0;
};

struct CellSamples {
  std::vector<JobInfo> jobs;      // (gy, gx, augmentation) order
  std::vector<uint32_t> indices;  // jobs.size() * num_points point indices
};

CellSamples sample_cells_cpu(const SampleInput& input);
#if LIDARHD_WITH_CUDA
CellSamples sample_cells_cuda(const SampleInput& input, int device_index);
#endif

// Host helpers shared by both back ends (patches_plan.cpp).

// The jobs for the cells of `cell_start` (host copy) that hold at least max(min_points, 1)
// points, each repeated for augmentations 0..copies.
std::vector<JobInfo> plan_jobs(const std::vector<uint64_t>& cell_start, const SampleInput& input);

// The sampling streams of a job.
Job sampling_job(const JobInfo& info, uint64_t seed, uint64_t start, uint64_t count);

// Farthest-point sampling of every job (host, in parallel over jobs): members is the host copy
// of the binned lists; writes num_points indices per job to out.
void sample_fps(const SampleInput& input, const uint32_t* members, const std::vector<JobInfo>& jobs,
                uint32_t* out);

// Exact farthest-point sampling of `count` <= m of the m points (float coordinates): positions
// in selection order, starting at `start`; each next point is the one whose smallest squared
// distance to the selected ones (grid_impl.hpp's point_d2 rounding) is largest, ties to the
// smallest position. Bucket-accelerated; equal to the O(m * count) definition.
std::vector<uint32_t> farthest_point_sample(const float* px, const float* py, const float* pz,
                                            uint32_t m, uint32_t count, uint32_t start);

// The same, brute force, O(m * count): the reference of the tests and benchmarks.
std::vector<uint32_t> farthest_point_sample_reference(const float* px, const float* py,
                                                      const float* pz, uint32_t m, uint32_t count,
                                                      uint32_t start);

}  // namespace lidarhd::patches::detail
