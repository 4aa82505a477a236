#include "core/parallel_for.hpp"
#include "raster/sample_backend.hpp"

namespace lidarhd::raster::detail {

void sample_cpu(const WindowView& view, const double* x, const double* y, size_t n,
                SampleMethod method, const SampleOut& out) {
  const auto count = static_cast<int64_t>(n);
  if (method == SampleMethod::kNearest) {
    lidarhd::detail::parallel_for_cpu(count, [&](int64_t i) { sample_nearest(view, x[i], y[i], i, out); });
  } else {
    lidarhd::detail::parallel_for_cpu(count, [&](int64_t i) { sample_bilinear(view, x[i], y[i], i, out); });
  }
}

}  // namespace lidarhd::raster::detail
