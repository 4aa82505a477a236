// The binning + sampling flow, written once for both devices: patches_cpu.cpp and
// patches_cuda.cu instantiate run_sampling with their device and exclusive scan.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/device_buffer.hpp"
#include "patches/patches_backend.hpp"

namespace lidarhd::patches::detail {

// The counts matrix of the binning holds cells * chunks entries: bounded to keep it small next
// to the points themselves.
constexpr int64_t kMaxCountSlots = int64_t{1} << 25;

template <class Scan>
CellSamples run_sampling(const Device& device, const SampleInput& in, int64_t chunk_points,
                         const Scan& scan) {
  using lidarhd::detail::DeviceBuffer;
  const PatchOptions& o = in.options;
  const auto n = static_cast<int64_t>(in.n);
  const int64_t cells = in.grid.ncx * in.grid.ncy;
  int64_t chunks = std::max<int64_t>(1, (n + chunk_points - 1) / chunk_points);
  chunks = std::max<int64_t>(1, std::min(chunks, kMaxCountSlots / std::max<int64_t>(cells, 1)));

  // Coordinates on the device (the CPU reads the caller's arrays in place).
  const bool need_z = o.sampling == Sampling::kVoxel;
  DeviceBuffer<double> hold_x, hold_y, hold_z;
  const double* x = in.x;
  const double* y = in.y;
  const double* z = in.z;
  if (device.is_cuda()) {
    hold_x = DeviceBuffer<double>::from_host(in.x, in.n, device);
    hold_y = DeviceBuffer<double>::from_host(in.y, in.n, device);
    x = hold_x.data();
    y = hold_y.data();
    if (need_z) {
      hold_z = DeviceBuffer<double>::from_host(in.z, in.n, device);
      z = hold_z.data();
    }
  }

  const Binned binned = bin_points(device, x, y, n, in.grid, chunks, scan);
  CellSamples out;
  out.jobs = plan_jobs(binned.cell_start.to_host(), in);
  const size_t per = o.num_points;
  out.indices.resize(out.jobs.size() * per);
  if (out.jobs.empty()) return out;

  if (o.sampling == Sampling::kFps) {
    if (device.is_cpu()) {
      sample_fps(in, binned.members.data(), out.jobs, out.indices.data());
    } else {
      const std::vector<uint32_t> members = binned.members.to_host();
      sample_fps(in, members.data(), out.jobs, out.indices.data());
    }
    return out;
  }

  if (o.sampling == Sampling::kRandom) {
    std::vector<Job> jobs;
    jobs.reserve(out.jobs.size());
    for (const JobInfo& info : out.jobs) {
      jobs.push_back(sampling_job(info, o.seed, info.start, info.count));
    }
    const auto device_jobs = DeviceBuffer<Job>::from_host(jobs.data(), jobs.size(), device);
    DeviceBuffer<uint32_t> sampled(out.indices.size(), device);
    sample_random<Scan>(device, device_jobs.data(), static_cast<int64_t>(jobs.size()),
                        binned.members.data(), o.num_points, sampled.data());
    sampled.copy_to_host(out.indices.data(), out.indices.size());
    return out;
  }

  // Voxel: one cell at a time (its hash table sized to the cell), then random over the voxels.
  DeviceBuffer<uint32_t> sampled(per, device);
  for (size_t k = 0; k < out.jobs.size(); ++k) {
    const JobInfo& info = out.jobs[k];
    VoxelGrid vg;
    vg.voxel = o.voxel_size;
    vg.x0 = cell_lo(info.gx, in.grid.stride);
    vg.y0 = cell_lo(info.gy, in.grid.stride);
    const uint64_t key = stream_key(o.seed, info.gx, info.gy, info.augmentation, kPurposeVoxel);
    DeviceBuffer<uint32_t> reps(info.count, device);
    const uint64_t voxels =
        voxel_representatives(device, x, y, z, binned.members.data() + info.start, info.count, vg,
                              key, reps.data(), scan);
    const Job job = sampling_job(info, o.seed, 0, voxels);
    const auto device_job = DeviceBuffer<Job>::from_host(&job, 1, device);
    sample_random<Scan>(device, device_job.data(), 1, reps.data(), o.num_points, sampled.data());
    sampled.copy_to_host(out.indices.data() + k * per, per);
  }
  return out;
}

}  // namespace lidarhd::patches::detail
