// CpuThreads: the OpenMP thread count of parallel_for_cpu for one scope (0 leaves it as it
// is), the caller's restored on exit. A per-call `threads` option must cover every parallel
// step of the call (index, kernel, outputs), not only its kernel.
#pragma once

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace lidarhd::detail {

class CpuThreads {
 public:
  explicit CpuThreads(unsigned threads) {
#if defined(_OPENMP)
    previous_ = omp_get_max_threads();
    set_ = threads > 0;
    if (set_) omp_set_num_threads(static_cast<int>(threads));
#else
    (void)threads;
#endif
  }
  ~CpuThreads() {
#if defined(_OPENMP)
    if (set_) omp_set_num_threads(previous_);
#endif
  }
  CpuThreads(const CpuThreads&) = delete;
  CpuThreads& operator=(const CpuThreads&) = delete;

 private:
  int previous_ = 0;
  bool set_ = false;
};

}  // namespace lidarhd::detail
