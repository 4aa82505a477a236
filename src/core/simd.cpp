#include "core/simd.hpp"

#include <cstdlib>
#include <cstring>

namespace lidarhd::detail {

SimdLevel simd_level() {
  static const SimdLevel level = [] {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    const char* want = std::getenv("LIDARHD_SIMD");
    if (want && std::strcmp(want, "generic") == 0) return SimdLevel::kGeneric;
    __builtin_cpu_init();
    const bool avx2 = __builtin_cpu_supports("avx2");
    const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
    if (avx512 && !(want && std::strcmp(want, "avx2") == 0)) return SimdLevel::kAvx512;
    return avx2 ? SimdLevel::kAvx2 : SimdLevel::kGeneric;
#else
    return SimdLevel::kGeneric;
#endif
  }();
  return level;
}

}  // namespace lidarhd::detail
