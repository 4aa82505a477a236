// libFuzzer entry: any byte string must either decode or fail with a lidarhd::Error. Any other
// exception, a crash, a sanitizer report, a hang or a huge allocation is a bug in the reader.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "lidarhd/core/error.hpp"
#include "lidarhd/io/byte_source.hpp"
#include "lidarhd/io/reader.hpp"

namespace {

// Both read paths, each on a fresh reader: whole-file (chunk-parallel code) and streaming.
void read_everything(const uint8_t* data, size_t size, unsigned threads) {
  lidarhd::io::ReadOptions options;
  options.threads = threads;
  {
    lidarhd::io::PointReader reader(lidarhd::io::memory_source(data, size, "fuzz"), options);
    (void)reader.chunks();
    const std::vector<uint8_t> records = reader.read_all_records();
    (void)records;
  }
  {
    lidarhd::io::PointReader reader(lidarhd::io::memory_source(data, size, "fuzz"), options);
    std::vector<uint8_t> batch;
    // Bounded: a reader that never reports the end would hang the fuzzer, which reports it.
    while (reader.read_batch(batch, 1000) > 0) {
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    read_everything(data, size, 1);
  } catch (const lidarhd::Error&) {
    // Rejected input, reported properly: the expected outcome for most mutations.
  }
  return 0;
}
