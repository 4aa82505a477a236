// Layered (compressor 3, PDRF 6-10) chunk decoding against real files from ../shared/data:
// SHA-256 digests of the decoded records (data/README.md), a LAS/LAZ twin, selective decoding,
// and malformed chunks. The container is read with the library's readers.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "io/laz/items.hpp"
#include "io/laz/layered_chunk.hpp"
#include "laz_test_util.hpp"
#include "lidarhd/core/error.hpp"
#include "util/sha256.hpp"

namespace lidarhd::laz::detail {
namespace {

using test::data_dir;
using test::LazFile;
using test::read_file;

std::string sha256_hex(const std::vector<uint8_t>& v) {
  return util::sha256_hex(v.data(), v.size());
}

std::vector<uint8_t> decode_all(const LazFile& laz, uint32_t layers) {
  std::vector<uint8_t> out(laz.point_count * laz.record_length);
  LayeredChunkDecoder decoder(laz.items, layers);
  uint8_t* dst = out.data();
  for (size_t i = 0; i < laz.chunks().size(); ++i) {
    const io::ChunkInfo& c = laz.chunks()[i];
    decoder.decode(ByteSpan{laz.bytes.data() + c.offset, size_t(c.bytes)}, c.point_count, dst,
                   "test chunk " + std::to_string(i));
    dst += c.point_count * laz.record_length;
  }
  return out;
}

// The layered files of ../shared/data; their digests come from real_files.hpp.
const char* const kLayeredFiles[] = {
    "laspy/1_4_w_evlr.laz",
    "rlas/las14_prf6.laz",
    "ign-pdal-tools/test_data_77055_627760_LA93_IGN69.laz",
    "ign-pdal-tools/test_data_77050_627755_LA93_IGN69.laz",
    "ign-pdal-tools/test_data_77050_627760_LA93_IGN69.laz",
    "ign-pdal-tools/test_data_77055_627755_LA93_IGN69.laz",
    "ign-pdal-tools/test_data_77060_627760_LA93_IGN69.laz",
    "ign-pdal-tools/test_data_77055_627755_LA93_IGN69_extra_dims.laz",
    "ign-pdal-tools/test_semis_2023_0292_6833_LA93_IGN69.laz",
    "ign-pdal-tools/las_with_several_extra_byte_bloc.laz",
    "ign-pdal-tools/crop_duplicate.laz",
    "ign-pdal-tools/sample_lareunion_epsg2975.laz",
    "ign-pdal-tools/test_data_0436_6384_LA93_IGN69_single_point.laz",
    "ign-pdal-tools/test_pdalfail_0643_6319_LA93_IGN69.laz",
    "ign-pdal-tools/Semis_2022_0906_6665_LA93_IGN69_ok.laz",
    "ctview/test_data_77050_627755_LA93_IGN69.copc.laz",
    "lidar-prod/870000_6618000.subset.postValidation.laz",
    "pdal-ign-plugin/68.laz",
    "pdal-ign-plugin/crop_1.laz",
    "laspy/simple.copc.laz",
    "laspy/simple_with_page.copc.laz",
    "copc.js/ellipsoid.copc.laz",
    "las-rs/autzen.copc.laz",
};

class LayeredDigest : public ::testing::TestWithParam<const char*> {};

TEST_P(LayeredDigest, MatchesReadmeDigest) {
  const char* file = GetParam();
  OPEN_LAZ_OR_SKIP(file, laz);
  const std::vector<uint8_t> records = decode_all(laz, kLayerAll);
  EXPECT_EQ(sha256_hex(records), test::real_file(file).sha256) << file;
}

INSTANTIATE_TEST_SUITE_P(RealFiles, LayeredDigest, ::testing::ValuesIn(kLayeredFiles),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           std::string name = info.param;
                           for (char& ch : name)
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return name;
                         });

TEST(LayeredChunk, LazMatchesLasTwin) {
  OPEN_LAZ_OR_SKIP("laspy/1_4_w_evlr.laz", laz);
  std::vector<uint8_t> las;
  ASSERT_TRUE(read_file(data_dir() + "/laspy/test1_4.las", las)) << "laspy/test1_4.las missing";
  // The twin is read with raw header offsets, independently of the library.
  const uint32_t offset = test::get<uint32_t>(las, 96);
  ASSERT_EQ(test::get<uint16_t>(las, 105), laz.record_length);
  const std::vector<uint8_t> records = decode_all(laz, kLayerAll);
  ASSERT_EQ(records.size(), size_t(1000) * 30);
  ASSERT_GE(las.size(), offset + records.size());
  for (size_t p = 0; p < 1000; ++p) {
    ASSERT_EQ(0, std::memcmp(records.data() + p * 30, las.data() + offset + p * 30, 30))
        << "point " << p;
  }
}

TEST(LayeredChunk, TwoChunksWithExtraBytes) {
  OPEN_LAZ_OR_SKIP("lidar-prod/870000_6618000.subset.postValidation.laz", laz);
  ASSERT_EQ(laz.chunks().size(), 2u);
  EXPECT_EQ(laz.chunks()[0].point_count, 50000u);
  EXPECT_EQ(laz.chunks()[1].point_count, 20840u);
  ASSERT_EQ(laz.items.size(), 3u);
  EXPECT_EQ(laz.items[2].type, kByte14);
}

// Selected layers must decode to the same bytes as a full decode; the others keep the value of
// their chunk's first point.
void check_selective(const char* file, uint32_t layers,
                     const std::vector<std::pair<size_t, size_t>>& decoded_ranges,
                     const std::vector<std::pair<size_t, size_t>>& constant_ranges) {
  OPEN_LAZ_OR_SKIP(file, laz);
  const std::vector<uint8_t> full = decode_all(laz, kLayerAll);
  const std::vector<uint8_t> part = decode_all(laz, layers);
  const size_t rl = laz.record_length;
  size_t first = 0;
  for (const io::ChunkInfo& c : laz.chunks()) {
    for (uint64_t p = 0; p < c.point_count; ++p) {
      const size_t at = (first + p) * rl;
      for (auto [off, len] : decoded_ranges)
        ASSERT_EQ(0, std::memcmp(&full[at + off], &part[at + off], len)) << "point " << p;
      for (auto [off, len] : constant_ranges)
        ASSERT_EQ(0, std::memcmp(&full[first * rl + off], &part[at + off], len))
            << "point " << p << " offset " << off;
    }
    first += c.point_count;
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
  OPEN_LAZ_OR_SKIP("rlas/las14_prf6.laz", laz);
  const io::ChunkInfo& c = laz.chunks()[0];
  const ByteSpan span{laz.bytes.data() + c.offset, size_t(c.bytes)};
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
  OPEN_LAZ_OR_SKIP("ign-pdal-tools/crop_duplicate.laz", laz);
  const io::ChunkInfo& c = laz.chunks()[0];
  std::vector<uint8_t> out(50 * c.point_count * laz.record_length);
  auto run = [&](const std::vector<uint8_t>& chunk, uint64_t n) {
    decode_layered_chunk(laz.items, ByteSpan{chunk.data(), chunk.size()}, n, kLayerAll, out.data(),
                         "file.laz chunk 3");
  };
  const std::vector<uint8_t> good(laz.bytes.begin() + c.offset,
                                  laz.bytes.begin() + c.offset + c.bytes);
  EXPECT_NO_THROW(run(good, c.point_count));

  // Too short for the first point, for the layer sizes, or for the layers themselves.
  for (size_t keep : {size_t(10), size_t(50), good.size() - 1, good.size() / 2}) {
    std::vector<uint8_t> cut(good.begin(), good.begin() + keep);
    try {
      run(cut, c.point_count);
      ADD_FAILURE() << "no error for a chunk cut to " << keep << " bytes";
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find("file.laz chunk 3"), std::string::npos) << e.what();
    }
  }
  // A layer size that runs past the chunk.
  std::vector<uint8_t> big = good;
  const uint32_t huge = 0x7FFFFFF0u;
  std::memcpy(&big[laz.record_length + 4], &huge, 4);
  EXPECT_THROW(run(big, c.point_count), FormatError);
  // More points than the streams hold.
  EXPECT_THROW(run(good, c.point_count * 50), FormatError);
  // Garbage layer bytes never crash (they may or may not be detected).
  std::vector<uint8_t> noisy = good;
  for (size_t i = laz.record_length + 4 + 4 * 12; i < noisy.size(); i += 7) noisy[i] ^= 0x5A;
  try {
    run(noisy, c.point_count);
  } catch (const FormatError&) {
  }
}

// Version 4 differs from 3 only in the channel hand-off to RGB/NIR/BYTE/WAVEPACKET items, so a
// file whose only items are POINT14 (even multi-channel), or whose points are all channel 0,
// decodes to the same records when read as version 4.
TEST(LayeredChunk, Version4MatchesVersion3WhereTheyCoincide) {
  for (const char* file : {"ctview/test_data_77050_627755_LA93_IGN69.copc.laz",
                           "ign-pdal-tools/crop_duplicate.laz", "rlas/las14_prf6.laz"}) {
    OPEN_LAZ_OR_SKIP(file, laz);
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
import sys
try:
    import numpy as np, laspy, lazrs  # noqa: F401
except ImportError:
    sys.exit(77)
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
  struct Case {
    int pdrf, points, extra;
  };
  for (const Case& c : {Case{7, 3000, 0}, Case{8, 60000, 3}, Case{9, 2000, 0}, Case{10, 2000, 2},
                        Case{6, 2000, 2}}) {
    const std::string out = dir + "/lidarhd_layered_" + std::to_string(c.pdrf) + ".laz";
    std::string log;
    const int status = test::run_python(kGenerator, "lidarhd_gen_layered.py",
                                        out + " " + std::to_string(c.pdrf) + " " +
                                            std::to_string(c.points) + " " + std::to_string(c.extra),
                                        log);
    if (test::python_missing(status)) GTEST_SKIP() << "python3 with laspy + lazrs not available";
    ASSERT_EQ(status, 0) << "layered generator failed: " << log;
    std::vector<uint8_t> bytes, expected;
    ASSERT_TRUE(read_file(out, bytes)) << out;
    LazFile laz = test::parse_laz(std::move(bytes), out);
    ASSERT_TRUE(laz.table.usable) << out << ": " << laz.table.problem;
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
