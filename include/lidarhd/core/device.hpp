// Where work runs: the CPU or one CUDA device. Parsing, probing and the resolution rules live
// here so that every subcommand and library function treats "--device" the same way.
#pragma once

#include <string>

namespace lidarhd {

enum class DeviceKind { kCpu, kCuda };

struct Device {
  DeviceKind kind = DeviceKind::kCpu;
  int index = 0;  // CUDA ordinal; always 0 for the CPU

  static Device cpu() { return Device{}; }
  static Device cuda(int index = 0) { return Device{DeviceKind::kCuda, index}; }
  // "cpu", "cuda" (= cuda:0) or "cuda:N"; throws ArgumentError on anything else.
  static Device parse(const std::string& text);

  bool is_cpu() const { return kind == DeviceKind::kCpu; }
  bool is_cuda() const { return kind == DeviceKind::kCuda; }
  std::string to_string() const;  // round-trips through parse()
  friend bool operator==(const Device& a, const Device& b) {
    return a.kind == b.kind && a.index == b.index;
  }
  friend bool operator!=(const Device& a, const Device& b) { return !(a == b); }
};

// True when this binary was built with the CUDA kernels (the cuda preset).
bool built_with_cuda();

// Number of usable CUDA devices, from a real driver probe (cudaGetDeviceCount). 0 in a CPU-only
// build, and 0 when the driver is missing or reports no device. Never throws.
int cuda_device_count();

// Why cuda_device_count() is 0 (e.g. "no CUDA device (cudaGetDeviceCount: no CUDA-capable
// device is detected)"), or "" when at least one device is visible.
std::string cuda_unavailable_reason();

enum class Fallback {
  kNone,  // a CUDA request that cannot be met throws DeviceError
  kCpu,   // a CUDA build without a visible GPU runs on the CPU instead (with a note)
};

// Checks that `requested` can run here and returns the device to use:
// - cpu: always itself;
// - cuda in a CPU-only build: throws DeviceError ("this build has no CUDA support; ..."), even
//   with Fallback::kCpu, so a user never gets a silent CPU run from a binary that cannot do CUDA;
// - cuda without a visible device: throws DeviceError ("no CUDA device (...)"), or with
//   Fallback::kCpu returns Device::cpu() and, if `note` is given, stores the reason there;
// - cuda:N with N >= cuda_device_count(): throws DeviceError naming the devices that exist.
Device resolve(const Device& requested, Fallback fallback = Fallback::kNone,
               std::string* note = nullptr);

}  // namespace lidarhd
