// Pointwise LAZ (compressors 1 and 2, PDRF 0-5) item and chunk decoders against real files from
// ../shared/data: decoded records must equal the .las twins and the SHA-256 digests of the data
// README. The container (header, LASzip VLR, chunk table) is read with the library's readers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "io/laz/items.hpp"
#include "io/laz/pointwise_chunk.hpp"
#include "laz_test_util.hpp"
#include "lidarhd/core/error.hpp"
#include "util/sha256.hpp"

namespace lidarhd::laz::detail {
namespace {

using test::data_dir;
using test::LazFile;
using test::parse_laz;
using test::read_file;

std::string sha256_hex(const std::vector<uint8_t>& v) {
  return util::sha256_hex(v.data(), v.size());
}

// Decodes every chunk through the chunk table; also checks that each chunk's stream ends exactly
// where the table says the next chunk starts.
std::vector<uint8_t> decode_all(const LazFile& laz, const std::string& name) {
  std::vector<uint8_t> out(size_t(laz.point_count) * laz.record_length);
  size_t done = 0;
  for (size_t c = 0; c < laz.chunks().size(); ++c) {
    const io::ChunkInfo& ch = laz.chunks()[c];
    const size_t consumed = decode_pointwise_chunk_consumed(
        laz.items, ByteSpan{laz.bytes.data() + ch.offset, size_t(ch.bytes)}, ch.point_count,
        out.data() + done * laz.record_length, name + " chunk " + std::to_string(c));
    if (laz.compressor == 2) {
      EXPECT_EQ(consumed, ch.bytes) << name << " chunk " << c;
    }
    done += ch.point_count;
  }
  EXPECT_EQ(done, laz.point_count);
  return out;
}

// The .las twin is read with raw header offsets, independently of the library.
void expect_twin(const std::string& laz_rel, const std::string& las_rel, uint16_t compressor) {
  OPEN_LAZ_OR_SKIP(laz_rel, laz);
  LOAD_OR_SKIP(las_rel, las);
  ASSERT_EQ(laz.compressor, compressor);
  const std::vector<uint8_t> decoded = decode_all(laz, laz_rel);
  const std::vector<uint8_t> expected = test::las_records(las);
  ASSERT_EQ(decoded.size(), expected.size());
  for (size_t i = 0; i < decoded.size(); ++i) {
    if (decoded[i] != expected[i]) {
      FAIL() << laz_rel << ": first difference in point " << i / laz.record_length << " byte "
             << i % laz.record_length;
    }
  }
  EXPECT_EQ(sha256_hex(decoded), test::real_file(laz_rel.c_str()).sha256);
}

void expect_digest(const std::string& rel, size_t n_chunks) {
  OPEN_LAZ_OR_SKIP(rel, laz);
  ASSERT_EQ(laz.compressor, 2);
  ASSERT_EQ(laz.point_count, test::real_file(rel.c_str()).points);
  ASSERT_EQ(laz.chunks().size(), n_chunks);
  EXPECT_EQ(sha256_hex(decode_all(laz, rel)), test::real_file(rel.c_str()).sha256) << rel;
}

// ---- real files ----------------------------------------------------------------------------

TEST(LazPointwise, Point10V2MatchesLasTwin) {
  expect_twin("laz-rs/point10.laz", "laz-rs/point10.las", 2);
}

TEST(LazPointwise, PointTimeColorV2MatchesLasTwin) {
  expect_twin("laz-rs/point-time-color.laz", "laz-rs/point-time-color.las", 2);
}

TEST(LazPointwise, Compressor1Point10V1MatchesLasTwin) {
  expect_twin("laz-rs/point-version-1-point-wise.laz", "laz-rs/point-version-1-point-wise.las", 1);
}

TEST(LazPointwise, ExtraBytesV2Digest) { expect_digest("laspy/extra.laz", 1); }

TEST(LazPointwise, GpsTimeExtraBytesDigest) { expect_digest("rlas/extra_byte.laz", 1); }

TEST(LazPointwise, AutzenTrimThreeChunksDigest) { expect_digest("laspy/autzen_trim.laz", 3); }

TEST(LazPointwise, LaszipGeneratedDigest) { expect_digest("pdal/laszip-generated.laz", 1); }

TEST(LazPointwise, LiblasGeneratedDigest) { expect_digest("pdal/liblas-generated.laz", 1); }

TEST(LazPointwise, Las14HeaderPdrf1Digest) { expect_digest("laz-perf/point-time-1.4.las.laz", 1); }

TEST(LazPointwise, IgnPdrf3Digest) {
  expect_digest("ign-pdal-tools/test_noepsg_043500_629205_IGN69.laz", 1);
}

TEST(LazPointwise, NoPointsFile) {
  OPEN_LAZ_OR_SKIP("laz-perf/no-points-1.3.laz", laz);
  EXPECT_EQ(laz.point_count, 0u);
  EXPECT_TRUE(laz.chunks().empty());
  EXPECT_EQ(sha256_hex(decode_all(laz, "no-points")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

// Chunks can be walked without the table: each stream ends where the next chunk begins.
TEST(LazPointwise, SequentialWalkWithReusedDecoder) {
  OPEN_LAZ_OR_SKIP("laspy/autzen_trim.laz", laz);
  PointwiseChunkDecoder decoder(laz.items, "autzen_trim.laz");
  ASSERT_EQ(decoder.record_length(), laz.record_length);
  std::vector<uint8_t> out(size_t(laz.point_count) * laz.record_length);
  size_t pos = size_t(laz.table.data_start);
  const size_t table = size_t(laz.table.data_end);  // where the chunk table starts
  uint64_t done = 0;
  int chunk = 0;
  while (done < laz.point_count) {
    const uint64_t n = std::min<uint64_t>(laz.info.laszip->chunk_size, laz.point_count - done);
    pos += decoder.decode(ByteSpan{laz.bytes.data() + pos, table - pos}, n,
                          out.data() + done * laz.record_length,
                          "autzen_trim.laz chunk " + std::to_string(chunk++));
    done += n;
  }
  EXPECT_EQ(pos, table);
  EXPECT_EQ(sha256_hex(out), test::real_file("laspy/autzen_trim.laz").sha256);
}

// ---- wave packets (PDRF 4/5), written by laspy + lazrs -----------------------------------------

// No shared-data file has wave packets, so the generator below writes them with every kind of
// offset move, raw float bit patterns and huge packet sizes; it reads its file back and checks
// that lazrs round-trips before handing over the records. Exit status 77: a module is missing.
const char* kWavepacketGenerator = R"PY(
import sys
try:
    import numpy as np, laspy, lazrs  # noqa: F401
except ImportError:
    sys.exit(77)
out, version = sys.argv[1], sys.argv[5]
pdrf, n, extra = (int(a) for a in sys.argv[2:5])
rng = np.random.default_rng(pdrf * 7 + extra)
hdr = laspy.LasHeader(point_format=pdrf, version=version)
for i in range(extra):
    hdr.add_extra_dim(laspy.ExtraBytesParams(name=f"e{i}", type=np.uint8))
hdr.scales = [0.01] * 3
hdr.offsets = [0, 0, 0]
las = laspy.LasData(hdr)
las.x = np.cumsum(rng.normal(0, 0.3, n)); las.y = np.cumsum(rng.normal(0, 0.3, n))
las.z = rng.normal(50, 3, n)
las.gps_time = np.cumsum(rng.integers(0, 50, n)) * 1e-6 + 1000.0
las.intensity = rng.integers(0, 4000, n)
las.classification = rng.choice([1, 2, 3, 6], n)
if pdrf == 5:
    las.red, las.green, las.blue = rng.integers(0, 65535, (3, n))
# Offsets that exercise every coding of a move: unchanged, right after the previous packet,
# a signed 32-bit jump, and arbitrary 64-bit values (wrapping past 2^64 on the next moves).
size = rng.integers(0, 300, n, dtype=np.uint64)
size[rng.random(n) < 0.02] = rng.integers(0, 2**32, dtype=np.uint64)
kind = rng.choice(4, n, p=[0.2, 0.45, 0.3, 0.05])
offset = np.zeros(n, dtype=np.uint64)
mask = 2**64 - 1
cur = 2**40
for i in range(n):
    k = kind[i]
    if k == 1 and i > 0:
        cur = (cur + int(size[i - 1])) & mask
    elif k == 2:
        cur = (cur + int(rng.integers(-2**31, 2**31))) & mask
    elif k == 3:
        cur = int(rng.integers(0, 2**63)) * 2 + int(rng.integers(0, 2))
    offset[i] = cur
las.wavepacket_index = np.where(rng.random(n) < 0.7, 1, rng.integers(0, 256, n))
las.wavepacket_offset = offset
las.wavepacket_size = size.astype(np.uint32)
# Smooth floats, and raw 32-bit patterns (NaNs, infinities, denormals) that wrap the predictor.
def floats(scale):
    f = (np.cumsum(rng.normal(0, scale, n))).astype(np.float32)
    raw = rng.random(n) < 0.1
    f[raw] = rng.integers(0, 2**32, raw.sum(), dtype=np.uint64).astype(np.uint32).view(np.float32)
    special = np.array([np.nan, np.inf, -np.inf, -0.0], dtype=np.float32)
    f[-len(special):] = special[-n:]
    return f
las.return_point_wave_location = floats(100)
las.x_t = floats(0.01)
las.y_t = floats(0.01)
las.z_t = floats(0.01)
for i in range(extra):
    las[f"e{i}"] = (np.arange(n) * (i + 1) + rng.integers(0, 3, n)) % 256
las.write(out, laz_backend=laspy.LazBackend.Lazrs)
back = laspy.read(out, laz_backend=laspy.LazBackend.Lazrs)
records = back.points.array.tobytes()
if records != las.points.array.tobytes():
    sys.exit("laspy/lazrs did not read back what it wrote")
open(out + ".records", "wb").write(records)
)PY";

TEST(LazPointwise, WavepacketsMatchLazrs) {
  const std::string dir = ::testing::TempDir();
  struct Case {
    int pdrf, points, extra;
    const char* las_version;
  };
  // 60000 points span two chunks (lazrs writes 50000-point chunks).
  for (const Case& c : {Case{4, 3000, 3, "1.3"}, Case{5, 60000, 0, "1.4"}, Case{4, 2, 0, "1.3"}}) {
    const std::string out = dir + "/lidarhd_wavepacket_" + std::to_string(c.pdrf) + "_" +
                            std::to_string(c.points) + ".laz";
    std::string log;
    const int status = test::run_python(
        kWavepacketGenerator, "lidarhd_gen_wavepacket13.py",
        out + " " + std::to_string(c.pdrf) + " " + std::to_string(c.points) + " " +
            std::to_string(c.extra) + " " + c.las_version,
        log);
    if (test::python_missing(status)) {
      GTEST_SKIP() << "python3 with numpy, laspy and lazrs is not available";
    }
    ASSERT_EQ(status, 0) << "wave packet generator failed: " << log;
    std::vector<uint8_t> laz, expected;
    ASSERT_TRUE(read_file(out, laz)) << out;
    ASSERT_TRUE(read_file(out + ".records", expected)) << out;
    std::remove(out.c_str());
    std::remove((out + ".records").c_str());

    LazFile file = parse_laz(std::move(laz), out);
    ASSERT_TRUE(file.table.usable) << file.table.problem;
    ASSERT_EQ(file.compressor, 2);
    ASSERT_EQ(file.point_count, uint64_t(c.points));
    ASSERT_GE(file.items.size(), 3u);
    Item& wave = file.items[c.pdrf == 4 ? 2 : 3];
    ASSERT_EQ(wave.type, kWavepacket13);
    const uint16_t version = wave.version;
    EXPECT_EQ(version, 2) << "lazrs labels WAVEPACKET13 version 2; the reader must accept it";
    const std::string what = "PDRF " + std::to_string(c.pdrf) + ", " + std::to_string(c.points) +
                             " points, WAVEPACKET13 version " + std::to_string(version);
    const std::vector<uint8_t> records = decode_all(file, what);
    ASSERT_EQ(records.size(), expected.size()) << what;
    for (size_t i = 0; i < records.size(); ++i) {
      if (records[i] != expected[i]) {
        FAIL() << what << ": first difference in point " << i / file.record_length << " byte "
               << i % file.record_length;
      }
    }
    // LASzip labels the same bitstream version 1 (lazrs says 2).
    wave.version = version == 1 ? 2 : 1;
    EXPECT_TRUE(decode_all(file, what + " relabelled") == expected) << what;
  }
}

// ---- edge cases and bad input --------------------------------------------------------------

TEST(LazPointwise, ZeroAndOnePoint) {
  OPEN_LAZ_OR_SKIP("laz-rs/point-time-color.laz", info);
  const std::vector<uint8_t>& laz = info.bytes;
  const io::ChunkInfo& ch = info.chunks().at(0);
  std::vector<uint8_t> out(2 * info.record_length, 0xAB);
  EXPECT_EQ(decode_pointwise_chunk_consumed(info.items, ByteSpan{laz.data() + ch.offset, 0}, 0,
                                            out.data(), "empty"),
            0u);
  EXPECT_EQ(out[0], 0xAB);
  // One point: only the raw record is read, even from a span holding nothing else.
  EXPECT_EQ(
      decode_pointwise_chunk_consumed(
          info.items, ByteSpan{laz.data() + ch.offset, info.record_length}, 1, out.data(), "one"),
      info.record_length);
  EXPECT_EQ(0, std::memcmp(out.data(), laz.data() + ch.offset, info.record_length));
  EXPECT_EQ(out[info.record_length], 0xAB);
}

TEST(LazPointwise, TruncatedChunkThrowsWithContext) {
  OPEN_LAZ_OR_SKIP("laz-rs/point10.laz", info);
  const std::vector<uint8_t>& laz = info.bytes;
  const io::ChunkInfo& ch = info.chunks().at(0);
  std::vector<uint8_t> out(size_t(ch.point_count) * info.record_length);
  const size_t bytes = size_t(ch.bytes);
  for (size_t keep : {size_t(0), size_t(10), size_t(24), bytes / 2, bytes - 1}) {
    try {
      decode_pointwise_chunk(info.items, ByteSpan{laz.data() + ch.offset, keep}, ch.point_count,
                             out.data(), "point10.laz chunk 0");
      ADD_FAILURE() << "no error for a chunk cut to " << keep << " bytes";
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find("point10.laz chunk 0"), std::string::npos) << e.what();
      EXPECT_EQ(e.component(), "laz");
    }
  }
}

TEST(LazPointwise, UnsupportedItemsAreRejected) {
  const std::vector<std::vector<Item>> bad = {
      {},
      {{kPoint10, 20, 3}},
      {{kPoint10, 20, 0}},
      {{kPoint10, 19, 2}},
      {{kPoint10, 20, 2}, {kGpsTime11, 4, 2}},
      {{kPoint10, 20, 2}, {kRgb12, 8, 2}},
      {{kPoint10, 20, 2}, {kByte, 0, 2}},
      {{kPoint10, 20, 2}, {kWavepacket13, 28, 1}},
      {{kPoint10, 20, 2}, {kWavepacket13, 29, 3}},
      {{kPoint14, 30, 3}},
      {{99, 4, 2}},
  };
  uint8_t buf[64] = {};
  for (const auto& items : bad) {
    EXPECT_THROW(decode_pointwise_chunk(items, ByteSpan{buf, sizeof buf}, 2, buf, "x.laz chunk 0"),
                 FormatError);
  }
  EXPECT_THROW(make_pointwise_decoder(Item{kGpsTime11, 8, 7}), FormatError);
  EXPECT_NE(make_pointwise_decoder(Item{kByte, 3, 1}), nullptr);
  EXPECT_NE(make_pointwise_decoder(Item{kWavepacket13, 29, 1}), nullptr);
  EXPECT_NE(make_pointwise_decoder(Item{kWavepacket13, 29, 2}), nullptr);
}

// Corrupt streams must end in either garbage records or a FormatError, never a crash or hang
// (the sanitizer build turns any out-of-bounds access into a failure).
TEST(LazPointwise, CorruptStreamsDoNotCrash) {
  OPEN_LAZ_OR_SKIP("laz-rs/point-time-color.laz", info);
  const std::vector<uint8_t>& laz = info.bytes;
  const io::ChunkInfo& ch = info.chunks().at(0);
  std::vector<uint8_t> out(size_t(ch.point_count) * info.record_length);
  uint32_t seed = 12345;
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<uint8_t> chunk(laz.begin() + ch.offset, laz.begin() + ch.offset + ch.bytes);
    for (int flips = 0; flips < 4; ++flips) {
      seed = seed * 1664525u + 1013904223u;
      const size_t at = info.record_length + (seed >> 8) % (chunk.size() - info.record_length);
      chunk[at] ^= uint8_t(1u << (seed & 7));
    }
    try {
      decode_pointwise_chunk(info.items, ByteSpan{chunk.data(), chunk.size()}, ch.point_count,
                             out.data(), "corrupt");
    } catch (const FormatError&) {
    }
  }
  // Every item version and type over random bytes.
  const std::vector<Item> all_v1 = {{kPoint10, 20, 1}, {kGpsTime11, 8, 1}, {kRgb12, 6, 1},
                                    {kWavepacket13, 29, 1}, {kByte, 5, 1}};
  const std::vector<Item> all_v2 = {{kPoint10, 20, 2}, {kGpsTime11, 8, 2}, {kRgb12, 6, 2},
                                    {kWavepacket13, 29, 2}, {kByte, 5, 2}};
  for (const auto* items : {&all_v1, &all_v2}) {
    for (int trial = 0; trial < 20; ++trial) {
      std::vector<uint8_t> junk(2000);
      for (auto& b : junk) {
        seed = seed * 1664525u + 1013904223u;
        b = uint8_t(seed >> 24);
      }
      std::vector<uint8_t> recs(300 * 68);
      try {
        decode_pointwise_chunk(*items, ByteSpan{junk.data(), junk.size()}, 300, recs.data(),
                               "junk");
      } catch (const FormatError&) {
      }
    }
  }
}

}  // namespace
}  // namespace lidarhd::laz::detail
