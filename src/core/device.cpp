// Device parsing and resolution. The probe result is cached: the set of visible devices does not
// change while a process runs, and the first CUDA call is slow (driver initialisation).
#include "lidarhd/core/device.hpp"

#include <cctype>
#include <string>

#include "core/device_backend.hpp"
#include "lidarhd/core/error.hpp"

namespace lidarhd {
namespace {

struct CudaProbe {
  int count = 0;
  std::string reason;
};

const CudaProbe& cuda_probe() {
  static const CudaProbe probe = [] {
    CudaProbe p;
#if LIDARHD_WITH_CUDA
    std::string detail;
    p.count = detail::cuda_probe_device_count(detail);
    if (p.count == 0) p.reason = "no CUDA device (" + detail + ")";
#else
    p.reason = "this build has no CUDA support; rebuild with the cuda preset";
#endif
    return p;
  }();
  return probe;
}

bool all_digits(const std::string& s) {
  if (s.empty() || s.size() > 4) return false;  // more than 9999 GPUs is a typo, not a machine
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

namespace detail {
void throw_no_cuda_support() {
  throw DeviceError("cuda", "this build has no CUDA support; rebuild with the cuda preset");
}
}  // namespace detail

Device Device::parse(const std::string& text) {
  if (text == "cpu") return cpu();
  if (text == "cuda") return cuda(0);
  const std::string prefix = "cuda:";
  if (text.compare(0, prefix.size(), prefix) == 0) {
    const std::string digits = text.substr(prefix.size());
    if (all_digits(digits)) return cuda(std::stoi(digits));
  }
  throw ArgumentError("device", "unknown device '" + text +
                                    "' (expected cpu, cuda or cuda:N with N a device number)");
}

std::string Device::to_string() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }

bool built_with_cuda() {
#if LIDARHD_WITH_CUDA
  return true;
#else
  return false;
#endif
}

int cuda_device_count() { return cuda_probe().count; }

std::string cuda_unavailable_reason() { return cuda_probe().reason; }

Device resolve(const Device& requested, Fallback fallback, std::string* note) {
  if (requested.is_cpu()) return requested;
  if (!built_with_cuda()) detail::throw_no_cuda_support();
  const int count = cuda_device_count();
  if (count == 0) {
    if (fallback == Fallback::kCpu) {
      if (note) *note = "cuda: " + cuda_unavailable_reason() + "; running on the CPU";
      return Device::cpu();
    }
    throw DeviceError("cuda", cuda_unavailable_reason() +
                                  "; run with --device cpu or on a machine with an NVIDIA GPU");
  }
  if (requested.index < 0 || requested.index >= count) {
    throw DeviceError("cuda", "device " + requested.to_string() + " does not exist (" +
                                  std::to_string(count) +
                                  " visible: cuda:0 to cuda:" + std::to_string(count - 1) + ")");
  }
  return requested;
}

}  // namespace lidarhd
