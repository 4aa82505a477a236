// Which vector instructions the CPU loops may use, decided once per process: the widest this
// CPU runs, or less when LIDARHD_SIMD says so ("generic": the portable loops only; "avx2": no
// AVX-512). Every level gives the same bits; the choice is for speed, comparison and diagnosis.
#pragma once

namespace lidarhd::detail {

enum class SimdLevel { kGeneric, kAvx2, kAvx512 };

SimdLevel simd_level();

}  // namespace lidarhd::detail
