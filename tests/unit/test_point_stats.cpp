// compute_point_stats on each device against a brute-force reference.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "device_test.hpp"
#include "lidarhd/core/error.hpp"
#include "lidarhd/core/point_stats.hpp"

namespace lidarhd {
namespace {

struct Columns {
  std::vector<int32_t> x, y, z;
  std::vector<uint8_t> cls;
};

Columns random_columns(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> any(std::numeric_limits<int32_t>::min(),
                                             std::numeric_limits<int32_t>::max());
  std::uniform_int_distribution<int32_t> small(-1000, 1000);
  // Few classes, as in real tiles, so that the counters see heavy contention.
  std::discrete_distribution<int> cls({10, 50, 30, 5, 1, 1, 1, 1, 1});
  Columns c;
  for (size_t i = 0; i < n; ++i) {
    c.x.push_back(any(rng));
    c.y.push_back(small(rng));
    c.z.push_back(i % 7 == 0 ? any(rng) : small(rng));
    c.cls.push_back(i % 1013 == 0 ? static_cast<uint8_t>(255 - i % 3)
                                  : static_cast<uint8_t>(cls(rng)));
  }
  return c;
}

PointStats reference_stats(const Columns& c) {
  PointStats s;
  s.count = c.x.size();
  for (size_t i = 0; i < c.x.size(); ++i) {
    const int32_t v[3] = {c.x[i], c.y[i], c.z[i]};
    for (int k = 0; k < 3; ++k) {
      s.min[k] = std::min(s.min[k], v[k]);
      s.max[k] = std::max(s.max[k], v[k]);
    }
    s.class_counts[c.cls[i]] += 1;
  }
  return s;
}

void expect_same(const PointStats& got, const PointStats& want) {
  EXPECT_EQ(got.count, want.count);
  EXPECT_EQ(got.min, want.min);
  EXPECT_EQ(got.max, want.max);
  EXPECT_EQ(got.class_counts, want.class_counts);
}

class PointStatsTest : public testing::DeviceTest {};

TEST_P(PointStatsTest, MatchesBruteForceAtBlockBoundaries) {
  // 0, 1, one warp +- 1, one block +- 1, and enough for many blocks and CPU chunks.
  for (size_t n : {size_t{0}, size_t{1}, size_t{31}, size_t{32}, size_t{33}, size_t{255},
                   size_t{256}, size_t{257}, size_t{1000000}}) {
    const Columns c = random_columns(n, static_cast<uint32_t>(n) + 17);
    const PointStats got =
        compute_point_stats(c.x.data(), c.y.data(), c.z.data(), c.cls.data(), n, device_);
    SCOPED_TRACE(n);
    expect_same(got, reference_stats(c));
  }
}

TEST_P(PointStatsTest, EmptyInputKeepsSentinels) {
  const PointStats s = compute_point_stats(nullptr, nullptr, nullptr, nullptr, 0, device_);
  EXPECT_TRUE(s.empty());
  EXPECT_GT(s.min[0], s.max[0]);
  EXPECT_EQ(s.class_counts[0], 0u);
}

TEST_P(PointStatsTest, ExtremeValuesAndSingleClass) {
  const size_t n = 70001;  // more than one CPU chunk
  Columns c;
  c.x.assign(n, std::numeric_limits<int32_t>::max());
  c.y.assign(n, std::numeric_limits<int32_t>::min());
  c.z.assign(n, 0);
  c.cls.assign(n, 2);
  c.z[n - 1] = -1;
  const PointStats got =
      compute_point_stats(c.x.data(), c.y.data(), c.z.data(), c.cls.data(), n, device_);
  expect_same(got, reference_stats(c));
  EXPECT_EQ(got.class_counts[2], n);
}

TEST_P(PointStatsTest, SameResultEveryRun) {
  const Columns c = random_columns(300000, 5);
  const PointStats a =
      compute_point_stats(c.x.data(), c.y.data(), c.z.data(), c.cls.data(), c.x.size(), device_);
  const PointStats b =
      compute_point_stats(c.x.data(), c.y.data(), c.z.data(), c.cls.data(), c.x.size(), device_);
  expect_same(a, b);
}

LIDARHD_DEVICE_TESTS(PointStatsTest);

TEST(PointStats, RejectsNullColumns) {
  std::vector<int32_t> v(3);
  std::vector<uint8_t> cls(3);
  EXPECT_THROW(compute_point_stats(v.data(), nullptr, v.data(), cls.data(), 3, Device::cpu()),
               ArgumentError);
}

TEST(PointStats, CudaRequestWithoutCudaBuildThrows) {
  if (built_with_cuda()) GTEST_SKIP() << "CUDA build";
  std::vector<int32_t> v(3);
  std::vector<uint8_t> cls(3);
  EXPECT_THROW(compute_point_stats(v.data(), v.data(), v.data(), cls.data(), 3, Device::cuda()),
               DeviceError);
}

}  // namespace
}  // namespace lidarhd
