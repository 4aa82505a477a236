// Layered (compressor 3, PDRF 6-10) chunk decoding against real files from ../shared/data:
// SHA-256 digests of the decoded records (data/README.md), a LAS/LAZ twin, selective decoding,
// and malformed chunks. The container is parsed here with a few lines of code so that this test
// does not depend on the LAS/VLR/chunk-table readers.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "io/laz/arith_decoder.hpp"
#include "io/laz/items.hpp"
#include "io/laz/layered_chunk.hpp"
#include "lidarhd/core/error.hpp"

#ifndef LIDARHD_SOURCE_DIR
#define LIDARHD_SOURCE_DIR "."
#endif

namespace lidarhd::laz::detail {
namespace {

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

// ---- minimal SHA-256 (FIPS 180-4), enough to check the README digests ----
class Sha256 {
 public:
  Sha256() {
    static const uint32_t init[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    std::memcpy(h_, init, sizeof(h_));
  }
  void update(const uint8_t* p, size_t n) {
    total_ += n;
    while (n > 0) {
      const size_t take = std::min(n, size_t(64) - fill_);
      std::memcpy(buf_ + fill_, p, take);
      fill_ += take;
      p += take;
      n -= take;
      if (fill_ == 64) {
        block(buf_);
        fill_ = 0;
      }
    }
  }
  std::string hex() {
    const uint64_t bits = total_ * 8;
    const uint8_t pad = 0x80;
    update(&pad, 1);
    const uint8_t zero = 0;
    while (fill_ != 56) update(&zero, 1);
    uint8_t len[8];
    for (int i = 0; i < 8; ++i) len[i] = uint8_t(bits >> (56 - 8 * i));
    update(len, 8);
    static const char* digits = "0123456789abcdef";
    std::string s;
    for (uint32_t v : h_)
      for (int i = 7; i >= 0; --i) s += digits[(v >> (4 * i)) & 15];
    return s;
  }

 private:
  static uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }
  void block(const uint8_t* b) {
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
    uint32_t w[64];
    for (int i = 0; i < 16; ++i)
      w[i] = uint32_t(b[4 * i]) << 24 | uint32_t(b[4 * i + 1]) << 16 | uint32_t(b[4 * i + 2]) << 8 |
             b[4 * i + 3];
    for (int i = 16; i < 64; ++i) {
      const uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      const uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h_[0], bb = h_[1], c = h_[2], d = h_[3], e = h_[4], f = h_[5], g = h_[6],
             h = h_[7];
    for (int i = 0; i < 64; ++i) {
      const uint32_t t1 =
          h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
      const uint32_t t2 =
          (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & bb) ^ (a & c) ^ (bb & c));
      h = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = bb;
      bb = a;
      a = t1 + t2;
    }
    h_[0] += a;
    h_[1] += bb;
    h_[2] += c;
    h_[3] += d;
    h_[4] += e;
    h_[5] += f;
    h_[6] += g;
    h_[7] += h;
  }
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t fill_ = 0;
  uint64_t total_ = 0;
};

std::string sha256_hex(const std::vector<uint8_t>& v) {
  Sha256 s;
  s.update(v.data(), v.size());
  return s.hex();
}

template <typename T>
T rd(const std::vector<uint8_t>& f, size_t off) {
  T v;
  std::memcpy(&v, f.data() + off, sizeof(T));
  return v;
}

struct Chunk {
  size_t offset = 0, size = 0;
  uint64_t points = 0;
};

// Just enough of a LAZ container for these tests (laz-format.md 1-3).
struct LazFile {
  std::vector<uint8_t> bytes;
  uint16_t record_length = 0;
  uint64_t point_count = 0;
  std::vector<Item> items;
  std::vector<Chunk> chunks;
};

bool open_laz_path(const std::string& path, LazFile& laz) {
  if (!read_file(path, laz.bytes)) return false;
  const auto& f = laz.bytes;
  const uint16_t header_size = rd<uint16_t>(f, 94);
  const uint32_t offset_to_points = rd<uint32_t>(f, 96);
  const uint32_t n_vlrs = rd<uint32_t>(f, 100);
  laz.record_length = rd<uint16_t>(f, 105);
  laz.point_count = f[25] >= 4 ? rd<uint64_t>(f, 247) : rd<uint32_t>(f, 107);
  uint32_t chunk_size = 50000;
  size_t pos = header_size;
  for (uint32_t i = 0; i < n_vlrs; ++i) {
    const uint16_t record_id = rd<uint16_t>(f, pos + 18);
    const uint16_t length = rd<uint16_t>(f, pos + 20);
    const std::string user(reinterpret_cast<const char*>(&f[pos + 2]), 14);
    if (user == "laszip encoded" && record_id == 22204) {
      const size_t p = pos + 54;
      chunk_size = rd<uint32_t>(f, p + 12);
      const uint16_t n_items = rd<uint16_t>(f, p + 32);
      for (uint16_t k = 0; k < n_items; ++k) {
        Item it;
        it.type = rd<uint16_t>(f, p + 34 + 6 * k);
        it.size = rd<uint16_t>(f, p + 36 + 6 * k);
        it.version = rd<uint16_t>(f, p + 38 + 6 * k);
        laz.items.push_back(it);
      }
    }
    pos += 54 + length;
  }
  const auto table = size_t(rd<int64_t>(f, offset_to_points));
  const uint32_t n_chunks = rd<uint32_t>(f, table + 4);
  const bool variable = chunk_size == 0xFFFFFFFFu || chunk_size == 0;
  ArithDecoder dec;
  dec.init(f.data() + table + 8, f.size() - table - 8);
  IntegerDecoder ic(32, 2);
  size_t start = offset_to_points + 8;
  uint64_t remaining = laz.point_count;
  int32_t prev_count = 0, prev_size = 0;
  for (uint32_t i = 0; i < n_chunks; ++i) {
    Chunk c;
    if (variable) {
      prev_count = ic.decode(dec, prev_count, 0);
      c.points = uint32_t(prev_count);
    } else {
      c.points = std::min<uint64_t>(remaining, chunk_size);
    }
    prev_size = ic.decode(dec, prev_size, 1);
    c.offset = start;
    c.size = uint32_t(prev_size);
    start += c.size;
    remaining -= c.points;
    laz.chunks.push_back(c);
  }
  return start == table;
}

bool open_laz(const std::string& rel, LazFile& laz) {
  return open_laz_path(data_dir() + "/" + rel, laz);
}

std::vector<uint8_t> decode_all(const LazFile& laz, uint32_t layers) {
  std::vector<uint8_t> out(laz.point_count * laz.record_length);
  LayeredChunkDecoder decoder(laz.items, layers);
  uint8_t* dst = out.data();
  for (size_t i = 0; i < laz.chunks.size(); ++i) {
    const Chunk& c = laz.chunks[i];
    decoder.decode(ByteSpan{laz.bytes.data() + c.offset, c.size}, c.points, dst,
                   "test chunk " + std::to_string(i));
    dst += c.points * laz.record_length;
  }
  return out;
}

#define OPEN_OR_SKIP(rel, laz)                                         \
  if (!open_laz(rel, laz)) {                                           \
    if (laz.bytes.empty())                                             \
      GTEST_SKIP() << "test data " << data_dir() << "/" << rel         \
                   << " not found (set LIDARHD_TEST_DATA)";            \
    FAIL() << rel << ": chunk table does not end at the table offset"; \
  }

struct DigestCase {
  const char* file;
  const char* digest;
};

const DigestCase kDigests[] = {
    {"laspy/1_4_w_evlr.laz", "923571fd0bdbfdc886522adcb5fccaa6462642142937b1a3c490519155d447ba"},
    {"rlas/las14_prf6.laz", "481f8ba7bc89d9d87f9fe2624c2a10085132a73a14f46aae53f7ddd152ab064a"},
    {"ign-pdal-tools/test_data_77055_627760_LA93_IGN69.laz",
     "9bffe76250c4c2352b182b8f98beaa5e576259d18b876601b292807e85512e28"},
    {"ign-pdal-tools/test_data_77050_627755_LA93_IGN69.laz",
     "ebc159a692f984483c7cb52debad805d39e49831735476fa65c2ec031ba5a388"},
    {"ign-pdal-tools/test_data_77050_627760_LA93_IGN69.laz",
     "257b6e0ed581860897019032e168985a2ae185105d55b4256fdd3a35fe31d978"},
    {"ign-pdal-tools/test_data_77055_627755_LA93_IGN69.laz",
     "3e31031b3ace1abacd5305abd7afdd9a1e050e0d63e6a04fb01ccbb1a3c3e76f"},
    {"ign-pdal-tools/test_data_77060_627760_LA93_IGN69.laz",
     "98b571773ae9c4e5b7f2f94fbe93a8e2293a1be2e0c5ca8cc53917addfff532c"},
    {"ign-pdal-tools/test_data_77055_627755_LA93_IGN69_extra_dims.laz",
     "7e8ee68b5fd2ed04ddca8f46afde17cf8e3494c6cc978cd640c6052e9ebb9240"},
    {"ign-pdal-tools/test_semis_2023_0292_6833_LA93_IGN69.laz",
     "230742cf40d7f525ba1dd2cc11025236f75a6b2eebc9baf4aa88ea3477c0e88b"},
    {"ign-pdal-tools/las_with_several_extra_byte_bloc.laz",
     "c19b99bc99062598ede4bed3bc6648832211f51b80ac22c8095cb547d8836406"},
    {"ign-pdal-tools/crop_duplicate.laz",
     "1ca5c2bd3da840846b8788fde84fba6b75fec25cf44ec1a5807135b760144ca4"},
    {"ign-pdal-tools/sample_lareunion_epsg2975.laz",
     "1a31de2ea79b28dcec81d158654a83fa86aa5a47d31187498754a4b58790f0a2"},
    {"ign-pdal-tools/test_data_0436_6384_LA93_IGN69_single_point.laz",
     "3ac60a853fa91bd5cc1b633c518167590ea5734ae284efce064a4fe4628ece8c"},
    {"ign-pdal-tools/test_pdalfail_0643_6319_LA93_IGN69.laz",
     "047a26c498a7fb10c15017e0de9d3e36e9edf237a26139850ef93d006ad94f98"},
    {"ign-pdal-tools/Semis_2022_0906_6665_LA93_IGN69_ok.laz",
     "f8407883595ab62c7c4f9a586031d8805cd4a244670d2f7a37660f6ec4d871c6"},
    {"ctview/test_data_77050_627755_LA93_IGN69.copc.laz",
     "d0d598e2032b45af8b47374af149bcc77e21dd4f4187a8ba57841f5c8a78b45c"},
    {"lidar-prod/870000_6618000.subset.postValidation.laz",
     "320fd1c4b13d99ff9dd0581bf43fd291a0c62042570dd7aa28834c6d6ad022cc"},
    {"pdal-ign-plugin/68.laz", "40084e82eafd9be15fe67a350b14937ab7536923951884f88dbf2a5673db4ece"},
    {"pdal-ign-plugin/crop_1.laz",
     "791bdc4fada580f971749617c883b84c4a73d990efa4971c1bf0f60a99e564e1"},
    {"laspy/simple.copc.laz", "361eda6829430490b1bba3a2665408642d16211f6c349b2f11edf451c8164422"},
    {"laspy/simple_with_page.copc.laz",
     "361eda6829430490b1bba3a2665408642d16211f6c349b2f11edf451c8164422"},
    {"copc.js/ellipsoid.copc.laz",
     "f441db6de8fe6d198cbdbe9b16c372b229f6e31f392e81e4a6918a9e669c0746"},
    {"las-rs/autzen.copc.laz", "4207ec2b64218878bc7a37e7e004c7f8934668593609a8d4864651b7e1409c99"},
};

class LayeredDigest : public ::testing::TestWithParam<DigestCase> {};

TEST_P(LayeredDigest, MatchesReadmeDigest) {
  const DigestCase& c = GetParam();
  LazFile laz;
  OPEN_OR_SKIP(c.file, laz);
  const std::vector<uint8_t> records = decode_all(laz, kLayerAll);
  EXPECT_EQ(sha256_hex(records), c.digest) << c.file;
}

INSTANTIATE_TEST_SUITE_P(RealFiles, LayeredDigest, ::testing::ValuesIn(kDigests),
                         [](const ::testing::TestParamInfo<DigestCase>& info) {
                           std::string name = info.param.file;
                           for (char& ch : name)
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return name;
                         });

TEST(LayeredChunk, LazMatchesLasTwin) {
  LazFile laz;
  OPEN_OR_SKIP("laspy/1_4_w_evlr.laz", laz);
  std::vector<uint8_t> las;
  ASSERT_TRUE(read_file(data_dir() + "/laspy/test1_4.las", las)) << "laspy/test1_4.las missing";
  const uint32_t offset = rd<uint32_t>(las, 96);
  ASSERT_EQ(rd<uint16_t>(las, 105), laz.record_length);
  const std::vector<uint8_t> records = decode_all(laz, kLayerAll);
  ASSERT_EQ(records.size(), size_t(1000) * 30);
  ASSERT_GE(las.size(), offset + records.size());
  for (size_t p = 0; p < 1000; ++p) {
    ASSERT_EQ(0, std::memcmp(records.data() + p * 30, las.data() + offset + p * 30, 30))
        << "point " << p;
  }
}

TEST(LayeredChunk, TwoChunksWithExtraBytes) {
  LazFile laz;
  OPEN_OR_SKIP("lidar-prod/870000_6618000.subset.postValidation.laz", laz);
  ASSERT_EQ(laz.chunks.size(), 2u);
  EXPECT_EQ(laz.chunks[0].points, 50000u);
  EXPECT_EQ(laz.chunks[1].points, 20840u);
  ASSERT_EQ(laz.items.size(), 3u);
  EXPECT_EQ(laz.items[2].type, kByte14);
}

// Selected layers must decode to the same bytes as a full decode; the others keep the value of
// their chunk's first point.
void check_selective(const char* file, uint32_t layers,
                     const std::vector<std::pair<size_t, size_t>>& decoded_ranges,
                     const std::vector<std::pair<size_t, size_t>>& constant_ranges) {
  LazFile laz;
  if (!open_laz(file, laz)) GTEST_SKIP() << file << " not found";
  const std::vector<uint8_t> full = decode_all(laz, kLayerAll);
  const std::vector<uint8_t> part = decode_all(laz, layers);
  const size_t rl = laz.record_length;
  size_t first = 0;
  for (const Chunk& c : laz.chunks) {
    for (uint64_t p = 0; p < c.points; ++p) {
      const size_t at = (first + p) * rl;
      for (auto [off, len] : decoded_ranges)
        ASSERT_EQ(0, std::memcmp(&full[at + off], &part[at + off], len)) << "point " << p;
      for (auto [off, len] : constant_ranges)
        ASSERT_EQ(0, std::memcmp(&full[first * rl + off], &part[at + off], len))
            << "point " << p << " offset " << off;
    }
    first += c.points;
  }
}

TEST(LayeredChunk, SelectiveXyzClassification) {
  // X, Y, Z, classification decoded; intensity, user data, scan angle, point source, GPS kept.
  check_selective("ign-pdal-tools/test_semis_2023_0292_6833_LA93_IGN69.laz",
                  kLayerZ | kLayerClassification, {{0, 12}, {14, 1}, {16, 1}},
                  {{12, 2}, {17, 1}, {18, 2}, {20, 2}, {22, 8}});
}

TEST(LayeredChunk, SelectiveRgbOnlyOnRgbNirFile) {
  check_selective("ign-pdal-tools/crop_duplicate.laz", kLayerRgb, {{0, 8}, {30, 6}},
                  {{8, 4}, {36, 2}, {38, 5}});
}

TEST(LayeredChunk, SelectiveExtraBytes) {
  check_selective("lidar-prod/870000_6618000.subset.postValidation.laz",
                  kLayerGpsTime | kLayerExtraBytes | kLayerNir, {{0, 8}, {22, 8}, {36, 58}},
                  {{30, 6}, {12, 2}});
}

TEST(LayeredChunk, ZeroAndOnePoint) {
  LazFile laz;
  OPEN_OR_SKIP("rlas/las14_prf6.laz", laz);
  const Chunk& c = laz.chunks[0];
  const ByteSpan span{laz.bytes.data() + c.offset, c.size};
  std::vector<uint8_t> out(2 * 30, 0xAB);
  decode_layered_chunk(laz.items, span, 0, kLayerAll, out.data(), "zero");
  EXPECT_EQ(out[0], 0xAB);
  decode_layered_chunk(laz.items, span, 1, kLayerAll, out.data(), "one");
  EXPECT_EQ(0, std::memcmp(out.data(), span.data, 30));
  EXPECT_EQ(out[30], 0xAB);
  // A one-point chunk needs nothing after its raw point.
  decode_layered_chunk(laz.items, ByteSpan{span.data, 30}, 1, kLayerAll, out.data(), "raw");
}

TEST(LayeredChunk, MalformedChunksThrow) {
  LazFile laz;
  OPEN_OR_SKIP("ign-pdal-tools/crop_duplicate.laz", laz);
  const Chunk& c = laz.chunks[0];
  std::vector<uint8_t> out(50 * c.points * laz.record_length);
  auto run = [&](const std::vector<uint8_t>& chunk, uint64_t n) {
    decode_layered_chunk(laz.items, ByteSpan{chunk.data(), chunk.size()}, n, kLayerAll, out.data(),
                         "file.laz chunk 3");
  };
  const std::vector<uint8_t> good(laz.bytes.begin() + c.offset,
                                  laz.bytes.begin() + c.offset + c.size);
  EXPECT_NO_THROW(run(good, c.points));

  // Too short for the first point, for the layer sizes, or for the layers themselves.
  for (size_t keep : {size_t(10), size_t(50), good.size() - 1, good.size() / 2}) {
    std::vector<uint8_t> cut(good.begin(), good.begin() + keep);
    try {
      run(cut, c.points);
      ADD_FAILURE() << "no error for a chunk cut to " << keep << " bytes";
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find("file.laz chunk 3"), std::string::npos) << e.what();
    }
  }
  // A layer size that runs past the chunk.
  std::vector<uint8_t> big = good;
  const uint32_t huge = 0x7FFFFFF0u;
  std::memcpy(&big[laz.record_length + 4], &huge, 4);
  EXPECT_THROW(run(big, c.points), FormatError);
  // More points than the streams hold.
  EXPECT_THROW(run(good, c.points * 50), FormatError);
  // Garbage layer bytes never crash (they may or may not be detected).
  std::vector<uint8_t> noisy = good;
  for (size_t i = laz.record_length + 4 + 4 * 12; i < noisy.size(); i += 7) noisy[i] ^= 0x5A;
  try {
    run(noisy, c.points);
  } catch (const FormatError&) {
  }
}

// Version 4 differs from 3 only in the channel hand-off to RGB/NIR/BYTE/WAVEPACKET items, so a
// file whose only items are POINT14 (even multi-channel), or whose points are all channel 0,
// decodes to the same records when read as version 4.
TEST(LayeredChunk, Version4MatchesVersion3WhereTheyCoincide) {
  for (const char* file : {"ctview/test_data_77050_627755_LA93_IGN69.copc.laz",
                           "ign-pdal-tools/crop_duplicate.laz", "rlas/las14_prf6.laz"}) {
    LazFile laz;
    if (!open_laz(file, laz)) GTEST_SKIP() << file << " not found";
    const std::vector<uint8_t> v3 = decode_all(laz, kLayerAll);
    for (Item& it : laz.items) it.version = 4;
    EXPECT_EQ(sha256_hex(decode_all(laz, kLayerAll)), sha256_hex(v3)) << file;
    for (Item& it : laz.items) it.version = 2;  // "lasproto" POINT14 v2 = v3
    EXPECT_EQ(sha256_hex(decode_all(laz, kLayerAll)), sha256_hex(v3)) << file;
  }
}

// Multi-channel PDRF 7-10 files with extra bytes, written and read back by laspy + lazrs (which
// replicates LASzip's v3 channel hand-off quirk). Skipped when python3/laspy/lazrs are missing.
const char* kGenerator = R"PY(
import sys, numpy as np, laspy
out, pdrf, n, extra = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = np.random.default_rng(pdrf)
hdr = laspy.LasHeader(point_format=pdrf, version="1.4")
for i in range(extra):
    hdr.add_extra_dim(laspy.ExtraBytesParams(name=f"e{i}", type=np.uint8))
hdr.scales = [0.01] * 3
hdr.offsets = [0, 0, 0]
las = laspy.LasData(hdr)
las.x = np.cumsum(rng.normal(0, 0.3, n)); las.y = np.cumsum(rng.normal(0, 0.3, n))
las.z = rng.normal(50, 3, n)
las.gps_time = np.cumsum(rng.integers(0, 50, n)) * 1e-6 + 1000.0
las.intensity = rng.integers(0, 4000, n)
nr = rng.integers(1, 4, n)
las.number_of_returns = nr
las.return_number = np.minimum(rng.integers(1, 4, n), nr)
ch = np.repeat(rng.integers(0, 4, n // 5 + 1), 5)[:n]
ch[0] = 2
las.scanner_channel = ch
las.classification = rng.choice([1, 2, 3, 6], n)
las.user_data = rng.integers(0, 3, n)
las.scan_angle = rng.integers(-3000, 3000, n)
las.point_source_id = np.repeat(rng.integers(1, 5, n // 100 + 1), 100)[:n]
if pdrf in (7, 8, 10):
    base = np.repeat(rng.integers(0, 65535, (n // 3 + 1, 3)), 3, axis=0)[:n]
    las.red, las.green, las.blue = (base + rng.integers(0, 300, (n, 3))).T.clip(0, 65535)
    grey = rng.random(n) < 0.2
    las.green[grey] = las.red[grey]
    las.blue[grey] = las.red[grey]
if pdrf in (8, 10):
    las.nir = rng.integers(0, 65535, n)
if pdrf in (9, 10):
    las.wavepacket_index = rng.integers(0, 3, n)
    las.wavepacket_offset = np.cumsum(rng.integers(0, 200, n)).astype(np.uint64)
    las.wavepacket_size = rng.integers(50, 60, n)
    las.return_point_wave_location = rng.normal(0, 100, n).astype(np.float32)
    las.x_t = rng.normal(0, 1, n).astype(np.float32)
    las.y_t = rng.normal(0, 1, n).astype(np.float32)
    las.z_t = rng.normal(0, 1, n).astype(np.float32)
for i in range(extra):
    las[f"e{i}"] = (np.arange(n) * (i + 1) + rng.integers(0, 3, n)) % 256
las.write(out, laz_backend=laspy.LazBackend.Lazrs)
back = laspy.read(out, laz_backend=laspy.LazBackend.Lazrs)
open(out + ".records", "wb").write(back.points.array.tobytes())
)PY";

TEST(LayeredChunk, MultiChannelItemsMatchLazrs) {
  const std::string dir = ::testing::TempDir();
  const std::string script = dir + "/lidarhd_gen_layered.py";
  {
    std::ofstream py(script);
    py << kGenerator;
  }
  struct Case {
    int pdrf, points, extra;
  };
  for (const Case& c : {Case{7, 3000, 0}, Case{8, 60000, 3}, Case{9, 2000, 0}, Case{10, 2000, 2},
                        Case{6, 2000, 2}}) {
    const std::string out = dir + "/lidarhd_layered_" + std::to_string(c.pdrf) + ".laz";
    const std::string cmd = "python3 " + script + " " + out + " " + std::to_string(c.pdrf) + " " +
                            std::to_string(c.points) + " " + std::to_string(c.extra) +
                            " > /dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "python3 with laspy + lazrs not available";
    LazFile laz;
    ASSERT_TRUE(open_laz_path(out, laz)) << out;
    std::vector<uint8_t> expected;
    ASSERT_TRUE(read_file(out + ".records", expected));
    const std::vector<uint8_t> records = decode_all(laz, kLayerAll);
    ASSERT_EQ(records.size(), expected.size()) << "PDRF " << c.pdrf;
    EXPECT_TRUE(records == expected) << "PDRF " << c.pdrf;
    // The v3 quirk matters here: reading the same bytes as version 4 must not reproduce them.
    if (c.pdrf != 6) {
      for (Item& it : laz.items) it.version = 4;
      bool same = false;
      try {
        same = decode_all(laz, kLayerAll) == expected;
      } catch (const FormatError&) {
      }
      EXPECT_FALSE(same) << "PDRF " << c.pdrf;
    }
    std::remove(out.c_str());
    std::remove((out + ".records").c_str());
  }
}

TEST(LayeredChunk, RejectsItemsThatCannotBeLayered) {
  EXPECT_THROW(make_layered_decoder(Item{kPoint10, 20, 2}, kLayerAll), FormatError);
  EXPECT_THROW(make_layered_decoder(Item{kPoint14, 30, 1}, kLayerAll), FormatError);
  EXPECT_THROW(make_layered_decoder(Item{kPoint14, 28, 3}, kLayerAll), FormatError);
  EXPECT_THROW(make_layered_decoder(Item{kByte14, 0, 3}, kLayerAll), FormatError);
  EXPECT_NO_THROW(make_layered_decoder(Item{kPoint14, 30, 2}, kLayerAll));
  EXPECT_NO_THROW(make_layered_decoder(Item{kPoint14, 30, 4}, kLayerAll));
  EXPECT_NO_THROW(make_layered_decoder(Item{kWavepacket14, 29, 3}, kLayerAll));
}

}  // namespace
}  // namespace lidarhd::laz::detail
