// Pointwise LAZ (compressors 1 and 2, PDRF 0-5) item and chunk decoders against real files from
// ../shared/data: decoded records must equal the .las twins and the SHA-256 digests of the data
// README. The container (header, LASzip VLR, chunk table) is parsed minimally here on purpose, so
// that these tests only depend on the chunk decoder.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#ifndef _WIN32
#include <sys/wait.h>
#endif

#include "io/laz/arith_decoder.hpp"
#include "io/laz/items.hpp"
#include "io/laz/pointwise_chunk.hpp"
#include "lidarhd/core/error.hpp"

#ifndef LIDARHD_SOURCE_DIR
#define LIDARHD_SOURCE_DIR "."
#endif

namespace lidarhd::laz::detail {
namespace {

// ---- test helpers --------------------------------------------------------------------------

std::string data_dir() {
  if (const char* env = std::getenv("LIDARHD_TEST_DATA")) return env;
  return std::string(LIDARHD_SOURCE_DIR) + "/../shared/data";
}

bool read_file(const std::string& path, std::vector<uint8_t>& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

#define LOAD_OR_SKIP(rel, bytes)                                          \
  std::vector<uint8_t> bytes;                                             \
  if (!read_file(data_dir() + "/" + (rel), bytes)) {                      \
    GTEST_SKIP() << "test data not found: " << data_dir() << "/" << (rel) \
                 << " (set LIDARHD_TEST_DATA to the shared data folder)"; \
  }

template <typename T>
T get(const std::vector<uint8_t>& b, size_t off) {
  if (off + sizeof(T) > b.size()) throw std::runtime_error("test parser: read past end of file");
  T v;
  std::memcpy(&v, b.data() + off, sizeof(T));
  return v;
}

// Compact SHA-256 (FIPS 180-4) so the digests can be checked without another library.
std::string sha256_hex(const uint8_t* data, size_t len) {
  static const uint32_t k[64] = {
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
      0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
      0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
      0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
      0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
      0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
      0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
      0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
      0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
      0xc67178f2};
  uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  auto rotr = [](uint32_t x, int n) { return (x >> n) | (x << (32 - n)); };
  std::vector<uint8_t> msg(data, data + len);
  msg.push_back(0x80);
  while (msg.size() % 64 != 56) msg.push_back(0);
  const uint64_t bits = uint64_t(len) * 8;
  for (int i = 7; i >= 0; --i) msg.push_back(uint8_t(bits >> (8 * i)));
  for (size_t off = 0; off < msg.size(); off += 64) {
    uint32_t w[64];
    for (int i = 0; i < 16; ++i) {
      const uint8_t* p = &msg[off + 4 * i];
      w[i] = (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
    }
    for (int i = 16; i < 64; ++i) {
      const uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      const uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; ++i) {
      const uint32_t t1 =
          hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
      const uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      hh = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
  }
  char hex[65];
  for (int i = 0; i < 8; ++i) std::snprintf(hex + 8 * i, 9, "%08x", h[i]);
  return std::string(hex, 64);
}

std::string sha256_hex(const std::vector<uint8_t>& v) { return sha256_hex(v.data(), v.size()); }

struct Chunk {
  size_t offset = 0;
  size_t bytes = 0;
  uint64_t points = 0;
};

// Just enough of LAS/LAZ to find the point records or chunks (laz-format.md 1-3).
struct LazInfo {
  uint32_t offset_to_points = 0;
  uint64_t n_points = 0;
  uint16_t record_length = 0;
  uint16_t compressor = 0;
  uint32_t chunk_size = 0;
  std::vector<Item> items;
  std::vector<Chunk> chunks;
};

LazInfo parse(const std::vector<uint8_t>& f) {
  LazInfo info;
  const uint16_t header_size = get<uint16_t>(f, 94);
  info.offset_to_points = get<uint32_t>(f, 96);
  const uint32_t n_vlrs = get<uint32_t>(f, 100);
  info.record_length = get<uint16_t>(f, 105);
  info.n_points = get<uint32_t>(f, 107);
  if (f[25] >= 4 && info.n_points == 0) info.n_points = get<uint64_t>(f, 247);
  size_t p = header_size;
  for (uint32_t i = 0; i < n_vlrs; ++i) {
    const std::string user(reinterpret_cast<const char*>(&f.at(p + 2)),
                           strnlen(reinterpret_cast<const char*>(&f.at(p + 2)), 16));
    const uint16_t id = get<uint16_t>(f, p + 18);
    const uint16_t len = get<uint16_t>(f, p + 20);
    if (user == "laszip encoded" && id == 22204) {
      const size_t q = p + 54;
      info.compressor = get<uint16_t>(f, q);
      info.chunk_size = get<uint32_t>(f, q + 12);
      const uint16_t n_items = get<uint16_t>(f, q + 32);
      for (uint16_t k = 0; k < n_items; ++k) {
        Item it;
        it.type = get<uint16_t>(f, q + 34 + 6 * k);
        it.size = get<uint16_t>(f, q + 36 + 6 * k);
        it.version = get<uint16_t>(f, q + 38 + 6 * k);
        info.items.push_back(it);
      }
    }
    p += 54 + len;
  }
  if (info.compressor == 1) {
    // No chunk table: the whole rest of the file is one chunk.
    info.chunks.push_back({info.offset_to_points, f.size() - info.offset_to_points, info.n_points});
  } else if (info.compressor == 2) {
    const size_t table = size_t(get<int64_t>(f, info.offset_to_points));
    const uint32_t n_chunks = get<uint32_t>(f, table + 4);
    if (n_chunks > 0) {
      ArithDecoder dec;
      dec.init(f.data() + table + 8, f.size() - table - 8);
      IntegerDecoder ic(32, 2);
      const bool variable = info.chunk_size == 0 || info.chunk_size == 0xFFFFFFFFu;
      size_t start = info.offset_to_points + 8;
      uint64_t remaining = info.n_points;
      int32_t prev_count = 0, prev_bytes = 0;
      for (uint32_t c = 0; c < n_chunks; ++c) {
        Chunk ch;
        if (variable) {
          prev_count = ic.decode(dec, prev_count, 0);
          ch.points = uint32_t(prev_count);
        } else {
          ch.points = remaining < info.chunk_size ? remaining : info.chunk_size;
        }
        prev_bytes = ic.decode(dec, prev_bytes, 1);
        ch.offset = start;
        ch.bytes = uint32_t(prev_bytes);
        start += ch.bytes;
        remaining -= ch.points;
        info.chunks.push_back(ch);
      }
    }
  }
  return info;
}

// Decodes every chunk through the chunk table; also checks that each chunk's stream ends exactly
// where the table says the next chunk starts.
std::vector<uint8_t> decode_all(const std::vector<uint8_t>& f, const LazInfo& info,
                                const std::string& name) {
  std::vector<uint8_t> out(size_t(info.n_points) * info.record_length);
  size_t done = 0;
  for (size_t c = 0; c < info.chunks.size(); ++c) {
    const Chunk& ch = info.chunks[c];
    const size_t consumed = decode_pointwise_chunk_consumed(
        info.items, ByteSpan{f.data() + ch.offset, ch.bytes}, ch.points,
        out.data() + done * info.record_length, name + " chunk " + std::to_string(c));
    if (info.compressor == 2) {
      EXPECT_EQ(consumed, ch.bytes) << name << " chunk " << c;
    }
    done += ch.points;
  }
  EXPECT_EQ(done, info.n_points);
  return out;
}

std::vector<uint8_t> las_records(const std::vector<uint8_t>& las) {
  const uint32_t off = get<uint32_t>(las, 96);
  const uint16_t rl = get<uint16_t>(las, 105);
  const uint32_t n = get<uint32_t>(las, 107);
  return std::vector<uint8_t>(las.begin() + off, las.begin() + off + size_t(n) * rl);
}

void expect_twin(const std::string& laz_rel, const std::string& las_rel, uint16_t compressor,
                 const char* digest) {
  std::vector<uint8_t> laz, las;
  if (!read_file(data_dir() + "/" + laz_rel, laz) || !read_file(data_dir() + "/" + las_rel, las)) {
    GTEST_SKIP() << "test data not found under " << data_dir()
                 << " (set LIDARHD_TEST_DATA to the shared data folder)";
  }
  const LazInfo info = parse(laz);
  ASSERT_EQ(info.compressor, compressor);
  const std::vector<uint8_t> decoded = decode_all(laz, info, laz_rel);
  const std::vector<uint8_t> expected = las_records(las);
  ASSERT_EQ(decoded.size(), expected.size());
  for (size_t i = 0; i < decoded.size(); ++i) {
    if (decoded[i] != expected[i]) {
      FAIL() << laz_rel << ": first difference in point " << i / info.record_length << " byte "
             << i % info.record_length;
    }
  }
  EXPECT_EQ(sha256_hex(decoded), digest);
}

void expect_digest(const std::string& rel, uint64_t n_points, size_t n_chunks, const char* digest) {
  std::vector<uint8_t> laz;
  if (!read_file(data_dir() + "/" + rel, laz)) {
    GTEST_SKIP() << "test data not found: " << data_dir() << "/" << rel
                 << " (set LIDARHD_TEST_DATA to the shared data folder)";
  }
  const LazInfo info = parse(laz);
  ASSERT_EQ(info.compressor, 2);
  ASSERT_EQ(info.n_points, n_points);
  ASSERT_EQ(info.chunks.size(), n_chunks);
  EXPECT_EQ(sha256_hex(decode_all(laz, info, rel)), digest) << rel;
}

// ---- real files ----------------------------------------------------------------------------

TEST(LazPointwise, Point10V2MatchesLasTwin) {
  expect_twin("laz-rs/point10.laz", "laz-rs/point10.las", 2,
              "d2033d0504e6b849a1301368703f90c77eda09c93e5d623e89cab06cb98ad63f");
}

TEST(LazPointwise, PointTimeColorV2MatchesLasTwin) {
  expect_twin("laz-rs/point-time-color.laz", "laz-rs/point-time-color.las", 2,
              "df9ea7bd185ff9d99700cbfced75989bb91415a12c893381273cca1dbd7182c1");
}

TEST(LazPointwise, Compressor1Point10V1MatchesLasTwin) {
  expect_twin("laz-rs/point-version-1-point-wise.laz", "laz-rs/point-version-1-point-wise.las", 1,
              "bc1d14fa2fe3c6e0e8c9e922812176f70fdd772123cc77d05a032ac7fed97a15");
}

TEST(LazPointwise, ExtraBytesV2Digest) {
  expect_digest("laspy/extra.laz", 1065, 1,
                "c98294910637458e4b55447460f2dece893aca5990f4fd5624fec7d570783c31");
}

TEST(LazPointwise, GpsTimeExtraBytesDigest) {
  expect_digest("rlas/extra_byte.laz", 62, 1,
                "ac7b3045de08c571ea0abbb0551b6939a54f4f1e7a7b107a339f27c36da255ec");
}

TEST(LazPointwise, AutzenTrimThreeChunksDigest) {
  expect_digest("laspy/autzen_trim.laz", 110000, 3,
                "f4eb6d80bf1fa507ffdcdaa73606d09041982659a50ee3895957e0b2b347f54b");
}

TEST(LazPointwise, LaszipGeneratedDigest) {
  expect_digest("pdal/laszip-generated.laz", 1065, 1,
                "0717948a72e6bf719db8d96ded1e76b760d73fb683347ebe3dd603832e3d5015");
}

TEST(LazPointwise, LiblasGeneratedDigest) {
  expect_digest("pdal/liblas-generated.laz", 1065, 1,
                "0717948a72e6bf719db8d96ded1e76b760d73fb683347ebe3dd603832e3d5015");
}

TEST(LazPointwise, Las14HeaderPdrf1Digest) {
  expect_digest("laz-perf/point-time-1.4.las.laz", 1065, 1,
                "0e80c2de788f2a50a3a2797cd807af2434ecd3fd3b8330a2087f699725c94874");
}

TEST(LazPointwise, IgnPdrf3Digest) {
  expect_digest("ign-pdal-tools/test_noepsg_043500_629205_IGN69.laz", 17845, 1,
                "1e45eacfabafe3d88054d23dafe5c137017c1355e286536e0c31427cfe34f850");
}

TEST(LazPointwise, NoPointsFile) {
  LOAD_OR_SKIP("laz-perf/no-points-1.3.laz", laz);
  const LazInfo info = parse(laz);
  EXPECT_EQ(info.n_points, 0u);
  EXPECT_TRUE(info.chunks.empty());
  EXPECT_EQ(sha256_hex(decode_all(laz, info, "no-points")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

// Chunks can be walked without the table: each stream ends where the next chunk begins.
TEST(LazPointwise, SequentialWalkWithReusedDecoder) {
  LOAD_OR_SKIP("laspy/autzen_trim.laz", laz);
  const LazInfo info = parse(laz);
  PointwiseChunkDecoder decoder(info.items, "autzen_trim.laz");
  ASSERT_EQ(decoder.record_length(), info.record_length);
  std::vector<uint8_t> out(size_t(info.n_points) * info.record_length);
  size_t pos = info.offset_to_points + 8;
  const size_t table = size_t(get<int64_t>(laz, info.offset_to_points));
  uint64_t done = 0;
  int chunk = 0;
  while (done < info.n_points) {
    const uint64_t n = std::min<uint64_t>(info.chunk_size, info.n_points - done);
    pos += decoder.decode(ByteSpan{laz.data() + pos, table - pos}, n,
                          out.data() + done * info.record_length,
                          "autzen_trim.laz chunk " + std::to_string(chunk++));
    done += n;
  }
  EXPECT_EQ(pos, table);
  EXPECT_EQ(sha256_hex(out), "f4eb6d80bf1fa507ffdcdaa73606d09041982659a50ee3895957e0b2b347f54b");
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

// Exit status of a std::system call, or -1 when the command did not run to completion.
int exit_status(int raw) {
#ifdef _WIN32
  return raw;
#else
  return raw != -1 && WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
#endif
}

TEST(LazPointwise, WavepacketsMatchLazrs) {
  const std::string dir = ::testing::TempDir();
  const std::string script = dir + "/lidarhd_gen_wavepacket13.py";
  {
    std::ofstream py(script);
    py << kWavepacketGenerator;
  }
  struct Case {
    int pdrf, points, extra;
    const char* las_version;
  };
  // 60000 points span two chunks (lazrs writes 50000-point chunks).
  for (const Case& c : {Case{4, 3000, 3, "1.3"}, Case{5, 60000, 0, "1.4"}, Case{4, 2, 0, "1.3"}}) {
    const std::string out = dir + "/lidarhd_wavepacket_" + std::to_string(c.pdrf) + "_" +
                            std::to_string(c.points) + ".laz";
    const std::string cmd = "python3 " + script + " " + out + " " + std::to_string(c.pdrf) + " " +
                            std::to_string(c.points) + " " + std::to_string(c.extra) + " " +
                            c.las_version + " > " + out + ".log 2>&1";
    const int status = exit_status(std::system(cmd.c_str()));
    std::vector<uint8_t> log;
    read_file(out + ".log", log);
    std::remove((out + ".log").c_str());
    // 127: no python3 (the shell's "command not found").
    if (status == 77 || status == 127) {
      GTEST_SKIP() << "python3 with numpy, laspy and lazrs is not available";
    }
    ASSERT_EQ(status, 0) << "wave packet generator failed: " << std::string(log.begin(), log.end());
    std::vector<uint8_t> laz, expected;
    ASSERT_TRUE(read_file(out, laz)) << out;
    ASSERT_TRUE(read_file(out + ".records", expected)) << out;
    std::remove(out.c_str());
    std::remove((out + ".records").c_str());

    LazInfo info = parse(laz);
    ASSERT_EQ(info.compressor, 2);
    ASSERT_EQ(info.n_points, uint64_t(c.points));
    ASSERT_GE(info.items.size(), 3u);
    Item& wave = info.items[c.pdrf == 4 ? 2 : 3];
    ASSERT_EQ(wave.type, kWavepacket13);
    const uint16_t version = wave.version;
    const std::string what = "PDRF " + std::to_string(c.pdrf) + ", " + std::to_string(c.points) +
                             " points, WAVEPACKET13 version " + std::to_string(version);
    const std::vector<uint8_t> records = decode_all(laz, info, what);
    ASSERT_EQ(records.size(), expected.size()) << what;
    for (size_t i = 0; i < records.size(); ++i) {
      if (records[i] != expected[i]) {
        FAIL() << what << ": first difference in point " << i / info.record_length << " byte "
               << i % info.record_length;
      }
    }
    // LASzip labels the same bitstream version 1 (lazrs says 2).
    wave.version = version == 1 ? 2 : 1;
    EXPECT_TRUE(decode_all(laz, info, what + " relabelled") == expected) << what;
  }
}

// ---- edge cases and bad input --------------------------------------------------------------

TEST(LazPointwise, ZeroAndOnePoint) {
  LOAD_OR_SKIP("laz-rs/point-time-color.laz", laz);
  const LazInfo info = parse(laz);
  const Chunk& ch = info.chunks.at(0);
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
  LOAD_OR_SKIP("laz-rs/point10.laz", laz);
  const LazInfo info = parse(laz);
  const Chunk& ch = info.chunks.at(0);
  std::vector<uint8_t> out(size_t(ch.points) * info.record_length);
  for (size_t keep : {size_t(0), size_t(10), size_t(24), ch.bytes / 2, ch.bytes - 1}) {
    try {
      decode_pointwise_chunk(info.items, ByteSpan{laz.data() + ch.offset, keep}, ch.points,
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
  LOAD_OR_SKIP("laz-rs/point-time-color.laz", laz);
  const LazInfo info = parse(laz);
  const Chunk& ch = info.chunks.at(0);
  std::vector<uint8_t> out(size_t(ch.points) * info.record_length);
  uint32_t seed = 12345;
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<uint8_t> chunk(laz.begin() + ch.offset, laz.begin() + ch.offset + ch.bytes);
    for (int flips = 0; flips < 4; ++flips) {
      seed = seed * 1664525u + 1013904223u;
      const size_t at = info.record_length + (seed >> 8) % (chunk.size() - info.record_length);
      chunk[at] ^= uint8_t(1u << (seed & 7));
    }
    try {
      decode_pointwise_chunk(info.items, ByteSpan{chunk.data(), chunk.size()}, ch.points,
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
