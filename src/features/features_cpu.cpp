// CPU back end of compute_features: the fused kernel over the points in grid order.
#if defined(_OPENMP)
#include <omp.h>
#endif

#include "core/parallel_for.hpp"
#include "features/features_impl.hpp"

namespace lidarhd::features::detail {

void compute_features_cpu(const KernelParams& P, unsigned threads) {
#if defined(_OPENMP)
  // The thread count applies to this call only: restore the caller's setting afterwards.
  const int previous = omp_get_max_threads();
  if (threads > 0) omp_set_num_threads(static_cast<int>(threads));
#else
  (void)threads;
#endif
  lidarhd::detail::parallel_for_cpu(static_cast<int64_t>(P.n),
                                    [&P](int64_t p) { feature_point(P, static_cast<uint32_t>(p)); });
#if defined(_OPENMP)
  if (threads > 0) omp_set_num_threads(previous);
#endif
}

}  // namespace lidarhd::features::detail
