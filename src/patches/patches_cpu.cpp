// CPU back end of extract_patches: patches_run.hpp on OpenMP threads, with a serial scan (the
// scanned arrays are small: cells x chunks counts, or one flag per point of a cell).
#include "patches/patches_run.hpp"

namespace lidarhd::patches::detail {

namespace {

struct HostScan {
  uint64_t operator()(uint64_t* data, size_t count) const {
    uint64_t sum = 0;
    for (size_t i = 0; i < count; ++i) {
      const uint64_t v = data[i];
      data[i] = sum;
      sum += v;
    }
    return sum;
  }
};

}  // namespace

CellSamples sample_cells_cpu(const SampleInput& input) {
  // Large chunks: a few per thread is all the CPU needs, and the counts matrix stays small.
  return run_sampling(Device::cpu(), input, int64_t{1} << 18, HostScan{});
}

}  // namespace lidarhd::patches::detail
