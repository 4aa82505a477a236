// Incremental SHA-256 (OpenSSL EVP), used for record digests ("sha256 of all point records").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace lidarhd::util {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, size_t n);
  // Lower-case hex digest of everything passed to update(); the object is then reset.
  std::string hex_digest();

 private:
  void* ctx_;  // EVP_MD_CTX*, kept opaque so that callers need no OpenSSL headers
};

// One-shot convenience.
std::string sha256_hex(const void* data, size_t n);

}  // namespace lidarhd::util
