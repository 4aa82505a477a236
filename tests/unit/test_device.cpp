// Device parsing and resolution rules, and DeviceBuffer on each device.
#include <gtest/gtest.h>

#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "core/device_buffer.hpp"
#include "core/parallel_for.hpp"
#include "device_test.hpp"
#include "lidarhd/core/device.hpp"
#include "lidarhd/core/error.hpp"

namespace lidarhd {
namespace {

TEST(Device, ParsesValidNames) {
  EXPECT_EQ(Device::parse("cpu"), Device::cpu());
  EXPECT_EQ(Device::parse("cuda"), Device::cuda(0));
  EXPECT_EQ(Device::parse("cuda:0"), Device::cuda(0));
  EXPECT_EQ(Device::parse("cuda:1"), Device::cuda(1));
  EXPECT_EQ(Device::parse("cuda:12").index, 12);
  EXPECT_EQ(Device::parse("cuda:3").to_string(), "cuda:3");
  EXPECT_EQ(Device::cpu().to_string(), "cpu");
}

TEST(Device, RejectsBadNames) {
  for (const char* bad : {"", "gpu", "CPU", "cuda:", "cuda:-1", "cuda:x", "cuda:1x", "cuda: 1",
                          " cpu", "cuda:99999", "cuda0", "cpu:0"}) {
    EXPECT_THROW(Device::parse(bad), ArgumentError) << "'" << bad << "'";
  }
  try {
    Device::parse("gpu");
    FAIL() << "no exception";
  } catch (const ArgumentError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("device: ", 0), 0u) << what;
    EXPECT_NE(what.find("'gpu'"), std::string::npos) << what;
  }
}

TEST(Device, CpuAlwaysResolves) {
  EXPECT_EQ(resolve(Device::cpu()), Device::cpu());
  EXPECT_EQ(resolve(Device::cpu(), Fallback::kCpu), Device::cpu());
}

TEST(Device, CudaResolutionFollowsTheBuildAndTheMachine) {
  const int count = cuda_device_count();
  EXPECT_GE(count, 0);
  if (!built_with_cuda()) {
    EXPECT_EQ(count, 0);
    // Never a silent CPU run from a binary that cannot do CUDA, fallback or not.
    for (Fallback f : {Fallback::kNone, Fallback::kCpu}) {
      try {
        resolve(Device::cuda(0), f);
        FAIL() << "no exception";
      } catch (const DeviceError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "cuda: this build has no CUDA support; rebuild with the cuda preset");
      }
    }
    return;
  }
  if (count == 0) {
    EXPECT_NE(cuda_unavailable_reason().find("no CUDA device ("), std::string::npos);
    try {
      resolve(Device::cuda(0));
      FAIL() << "no exception";
    } catch (const DeviceError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("cuda: no CUDA device (", 0), 0u) << e.what();
    }
    std::string note;
    EXPECT_EQ(resolve(Device::cuda(0), Fallback::kCpu, &note), Device::cpu());
    EXPECT_EQ(note.rfind("cuda: no CUDA device (", 0), 0u) << note;
    return;
  }
  EXPECT_EQ(cuda_unavailable_reason(), "");
  EXPECT_EQ(resolve(Device::cuda(count - 1)), Device::cuda(count - 1));
  EXPECT_THROW(resolve(Device::cuda(count)), DeviceError);
  EXPECT_THROW(resolve(Device::cuda(count), Fallback::kCpu), DeviceError);
}

TEST(ParallelFor, CpuVisitsEveryIndexOnce) {
  for (int64_t n : {0, 1, 31, 32, 33, 100000}) {
    std::vector<int> hits(static_cast<size_t>(n), 0);
    detail::parallel_for(Device::cpu(), n, [&](int64_t i) { hits[static_cast<size_t>(i)] += 1; });
    EXPECT_EQ(std::accumulate(hits.begin(), hits.end(), int64_t{0}), n);
    for (int h : hits) ASSERT_EQ(h, 1);
  }
}

class DeviceBufferTest : public testing::DeviceTest {};

TEST_P(DeviceBufferTest, RoundTripsThroughTheDevice) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{31}, size_t{32}, size_t{33}, size_t{1000003}}) {
    std::vector<int64_t> host(n);
    std::iota(host.begin(), host.end(), int64_t{-5});
    auto buffer = detail::DeviceBuffer<int64_t>::from_host(host.data(), n, device_);
    EXPECT_EQ(buffer.size(), n);
    EXPECT_EQ(buffer.device(), device_);
    EXPECT_EQ(buffer.to_host(), host) << n;
  }
}

TEST_P(DeviceBufferTest, CopiesRangesAndFills) {
  detail::DeviceBuffer<uint16_t> buffer(100, device_);
  buffer.fill(7);
  std::vector<uint16_t> part = {1, 2, 3};
  buffer.copy_from_host(part.data(), part.size(), 97);
  std::vector<uint16_t> expected(100, 7);
  expected[97] = 1;
  expected[98] = 2;
  expected[99] = 3;
  EXPECT_EQ(buffer.to_host(), expected);

  std::vector<uint16_t> out(2);
  buffer.copy_to_host(out.data(), 2, 96);
  EXPECT_EQ(out, (std::vector<uint16_t>{7, 1}));
  EXPECT_THROW(buffer.copy_from_host(part.data(), part.size(), 98), ArgumentError);
  EXPECT_THROW(buffer.copy_to_host(out.data(), 2, 99), ArgumentError);
}

TEST_P(DeviceBufferTest, MovesOwnership) {
  std::vector<float> host = {1.5f, -2.f, 3.25f};
  auto a = detail::DeviceBuffer<float>::from_host(host.data(), host.size(), device_);
  const float* where = a.data();
  detail::DeviceBuffer<float> b(std::move(a));
  EXPECT_EQ(b.data(), where);
  EXPECT_EQ(a.size(), 0u);  // NOLINT(bugprone-use-after-move): moved-from state is specified
  detail::DeviceBuffer<float> c;
  c = std::move(b);
  EXPECT_EQ(c.to_host(), host);
}

LIDARHD_DEVICE_TESTS(DeviceBufferTest);

TEST(DeviceBuffer, CudaBufferNeedsCuda) {
  if (built_with_cuda()) GTEST_SKIP() << "CUDA build: covered by the cuda_0 instances";
  EXPECT_THROW(detail::DeviceBuffer<int>(4, Device::cuda(0)), DeviceError);
}

}  // namespace
}  // namespace lidarhd
