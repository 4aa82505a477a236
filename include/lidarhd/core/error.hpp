// Error types. Every message starts with its component ("laz: ", "las: ", "copc: ", "cuda: ")
// and names the file and the problem, so a user can act on it without a debugger.
#pragma once

#include <stdexcept>
#include <string>

namespace lidarhd {

class Error : public std::runtime_error {
 public:
  Error(const std::string& component, const std::string& message)
      : std::runtime_error(component + ": " + message), component_(component) {}
  const std::string& component() const { return component_; }

 private:
  std::string component_;
};

// The input file is malformed, truncated or uses something we do not support.
class FormatError : public Error {
 public:
  using Error::Error;
};

// Opening, reading or writing a file failed at the operating-system level.
class IoError : public Error {
 public:
  using Error::Error;
};

// A caller passed an invalid argument or option.
class ArgumentError : public Error {
 public:
  using Error::Error;
};

// A device (CUDA) was requested but is not available, or a device call failed.
class DeviceError : public Error {
 public:
  using Error::Error;
};

}  // namespace lidarhd
