// Device-parameterised tests (architecture.md convention 9): every TEST_P of a fixture derived
// from DeviceTest runs on "cpu" always and on "cuda:0" where this build has CUDA and the machine
// a GPU; elsewhere the CUDA instance is reported as skipped, with the reason.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "lidarhd/core/device.hpp"

namespace lidarhd::testing {

class DeviceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    device_ = Device::parse(GetParam());
    if (!device_.is_cuda()) return;
    if (!built_with_cuda()) {
      GTEST_SKIP() << GetParam() << " not tested: this build has no CUDA (use the cuda preset)";
    }
    if (cuda_device_count() == 0) {
      GTEST_SKIP() << GetParam() << " not tested: " << cuda_unavailable_reason();
    }
  }

  Device device_;
};

inline std::string device_test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name;
  for (char c : info.param) name += (c == ':') ? '_' : c;
  return name;
}

}  // namespace lidarhd::testing

// Instantiates a DeviceTest-derived fixture for cpu and cuda:0.
#define LIDARHD_DEVICE_TESTS(Fixture)                                            \
  INSTANTIATE_TEST_SUITE_P(Devices, Fixture, ::testing::Values("cpu", "cuda:0"), \
                           ::lidarhd::testing::device_test_name)
