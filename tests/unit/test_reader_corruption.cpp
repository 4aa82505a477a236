// Damaged copies of the real files: truncated at many lengths and with flipped bits. Each must end
// in a clean lidarhd::Error or a valid decode, never a crash, a hang, another exception type or a
// huge allocation (the asan preset runs this file too).
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <new>
#include <random>

#include "io/laz/arith_decoder.hpp"
#include "lidarhd/core/error.hpp"
#include "lidarhd/io/reader.hpp"
#include "real_files.hpp"

namespace {

using lidarhd::io::PointReader;
using lidarhd::io::ReadOptions;

const char* const kSmallFiles[] = {
    "laz-rs/point10.laz",
    "laz-rs/point-time-color.laz",
    "laz-rs/point-version-1-point-wise.laz",
    "laspy/extra.laz",
    "laspy/1_4_w_evlr.laz",
    "laspy/test1_4.las",
    "laspy/simple_with_page.copc.laz",
    "ign-pdal-tools/crop_duplicate.laz",
    "ign-pdal-tools/test_pdalfail_0643_6319_LA93_IGN69.laz",
    "rlas/las14_prf6.laz",
    "rlas/extra_byte.laz",
    "las-rs/autzen.copc.laz",
    "laz-perf/no-points-1.3.laz",
};

std::vector<uint8_t> load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

enum class Outcome { kDecoded, kRejected };

// Opens and fully decodes `bytes` (whole, streamed with 2 threads, and as a COPC box query);
// returns whether it was rejected. Anything but lidarhd::Error escaping is a test failure.
Outcome try_read(const std::vector<uint8_t>& bytes, const std::string& name) {
  try {
    {
      PointReader reader(lidarhd::io::memory_source(bytes.data(), bytes.size(), name));
      const auto records = reader.read_all_records();
      if (records.size() % reader.record_length() != 0) ADD_FAILURE() << name << ": odd size";
    }
    ReadOptions opt;
    opt.threads = 2;
    PointReader streamed(lidarhd::io::memory_source(bytes.data(), bytes.size(), name), opt);
    std::vector<uint8_t> batch;
    while (streamed.read_batch(batch, 333) > 0) {
    }
    if (streamed.info().copc) {
      ReadOptions box;
      box.box = lidarhd::io::Box{};
      box.max_level = 1;
      PointReader query(lidarhd::io::memory_source(bytes.data(), bytes.size(), name), box);
      query.read_all_records();
    }
    return Outcome::kDecoded;
  } catch (const lidarhd::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(':'), std::string::npos) << "message without a component: " << msg;
    return Outcome::kRejected;
  } catch (const std::bad_alloc&) {
    ADD_FAILURE() << name << ": std::bad_alloc (an allocation sized from damaged data)";
  } catch (const std::exception& e) {
    ADD_FAILURE() << name << ": unexpected exception: " << e.what();
  }
  return Outcome::kRejected;
}

TEST(ReaderCorruption, TruncatedCopiesFailCleanly) {
  for (const char* rel : kSmallFiles) {
    REQUIRE_DATA(rel);
    const std::vector<uint8_t> full = load(path);
    ASSERT_FALSE(full.empty()) << path;
    std::vector<size_t> lengths = {0, 1, 4, 100, 226, 227, 374, 375};
    for (size_t k = 1; k < 16; ++k) lengths.push_back(full.size() * k / 16);
    for (size_t tail : {1, 4, 8, 9, 60}) {
      if (tail < full.size()) lengths.push_back(full.size() - tail);
    }
    size_t rejected = 0;
    for (size_t n : lengths) {
      if (n >= full.size()) continue;
      const std::vector<uint8_t> cut(full.begin(), full.begin() + ptrdiff_t(n));
      rejected += try_read(cut, std::string(rel) + " cut to " + std::to_string(n)) ==
                  Outcome::kRejected;
    }
    // Cutting off the header or the points must be noticed, whatever happens at the EVLRs.
    EXPECT_GT(rejected, 0u) << rel;
  }
}

TEST(ReaderCorruption, BitFlippedCopiesFailCleanlyOrDecode) {
  std::mt19937_64 rng(20261127);
  for (const char* rel : kSmallFiles) {
    REQUIRE_DATA(rel);
    const std::vector<uint8_t> full = load(path);
    for (int copy = 0; copy < 40; ++copy) {
      std::vector<uint8_t> bad = full;
      const int flips = 1 + int(rng() % 8);
      // Half the copies hit the header and VLRs, where sizes and offsets live.
      const size_t span = copy % 2 ? std::min<size_t>(bad.size(), 2048) : bad.size();
      for (int f = 0; f < flips; ++f) bad[rng() % span] ^= uint8_t(1u << (rng() % 8));
      try_read(bad, std::string(rel) + " bit-flip copy " + std::to_string(copy));
    }
  }
}

// A header that claims far more points than the file holds must be rejected before anything is
// sized from the claim.
TEST(ReaderCorruption, LyingPointCountIsRejected) {
  for (const char* rel : {"laspy/1_4_w_evlr.laz", "laspy/test1_4.las"}) {
    REQUIRE_DATA(rel);
    std::vector<uint8_t> bytes = load(path);
    const uint64_t huge = uint64_t(1) << 40;
    std::memcpy(&bytes[247], &huge, 8);  // LAS 1.4 64-bit point count
    EXPECT_EQ(try_read(bytes, std::string(rel) + " claiming 2^40 points"), Outcome::kRejected);
  }
}

// Garbage bytes drive the decoder into states no valid stream reaches (value >= length); the
// symbol search must still stay inside its tables (found by the fuzzer; ASan checks this test).
TEST(ReaderCorruption, ArithDecoderStaysInsideItsTablesOnGarbage) {
  std::mt19937 rng(7);
  std::vector<uint8_t> all_ff(4096, 0xFF), random(4096);
  for (auto& b : random) b = uint8_t(rng());
  for (const auto* bytes : {&all_ff, &random}) {
    for (uint32_t symbols : {3u, 17u, 256u, 2048u}) {
      lidarhd::laz::detail::ArithDecoder dec;
      dec.init(bytes->data(), bytes->size());
      lidarhd::laz::detail::SymbolModel model(symbols);
      lidarhd::laz::detail::IntegerDecoder ints(32, 1);
      for (int i = 0; i < 20000; ++i) {
        EXPECT_LT(dec.decode_symbol(model), symbols);
        ints.decode(dec, 0);
      }
    }
  }
}

}  // namespace
