// Layered (compressor 3, PDRF 6-10) chunk encoding: re-encoding real LASzip/PDAL-written files
// must give their chunk bytes back exactly; encode -> decode round trips for real files at
// several chunk sizes and for random multi-channel records of every layered item; LASzip's
// layer-emission rules; a LAZ file we write read back by laspy + lazrs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "io/laz/chunk_encoder.hpp"
#include "io/laz/layered_chunk.hpp"
#include "io/laz/layered_encoders.hpp"
#include "laz_test_util.hpp"
#include "lidarhd/core/error.hpp"
#include "lidarhd/io/reader.hpp"

namespace lidarhd::laz::detail {
namespace {

using test::data_dir;
using test::items_of;
using test::read_file;

// Index of the first differing record, or -1.
int64_t first_diff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b, size_t rl) {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return int64_t(i / rl);
  return a.size() == b.size() ? -1 : int64_t(n / rl);
}

// Encodes `records` in chunks of `chunk_size` points, decodes every chunk back and compares.
// Decoder and encoder are reused across chunks, as the reader and writer do.
void expect_round_trip(const std::vector<Item>& items, const std::vector<uint8_t>& records,
                       uint64_t chunk_size, const std::string& what) {
  LayeredChunkEncoder encoder(items);
  LayeredChunkDecoder decoder(items, kLayerAll);
  const size_t rl = encoder.record_length();
  ASSERT_EQ(records.size() % rl, 0u) << what;
  const uint64_t n = records.size() / rl;
  std::vector<uint8_t> chunk, back(records.size());
  for (uint64_t first = 0; first < n; first += chunk_size) {
    const uint64_t count = std::min(chunk_size, n - first);
    chunk.clear();
    encoder.encode(records.data() + first * rl, count, chunk);
    const std::string where = what + ", chunk size " + std::to_string(chunk_size) +
                              ", chunk at point " + std::to_string(first);
    size_t used = 0;
    ASSERT_NO_THROW(used = decoder.decode(ByteSpan{chunk.data(), chunk.size()}, count,
                                          back.data() + first * rl, where))
        << where;
    ASSERT_EQ(used, chunk.size()) << where << ": the decoder did not consume the whole chunk";
  }
  const int64_t diff = first_diff(records, back, rl);
  EXPECT_EQ(diff, -1) << what << ", chunk size " << chunk_size << ": record " << diff
                      << " differs after the round trip";
}

// ---- re-encoding LASzip-written files -------------------------------------------------------

struct ReencodeResult {
  size_t chunks = 0, identical = 0;
  std::string first_difference;
};

// Re-encodes every chunk of a layered LAZ file with its own chunk sizes and compares the bytes
// with the file's.
ReencodeResult reencode(const std::string& path) {
  io::PointReader reader(path);
  const auto& info = reader.info();
  const std::vector<Item> items = items_of(info);
  const std::vector<uint8_t> records = reader.read_all_records();
  std::vector<uint8_t> file;
  read_file(path, file);
  const size_t rl = reader.record_length();
  LayeredChunkEncoder encoder(items);
  ReencodeResult result;
  std::vector<uint8_t> out;
  for (const io::ChunkInfo& c : reader.chunks()) {
    out.clear();
    encoder.encode(records.data() + c.first_point * rl, c.point_count, out);
    ++result.chunks;
    if (out.size() == c.bytes && std::memcmp(out.data(), file.data() + c.offset, c.bytes) == 0) {
      ++result.identical;
    } else if (result.first_difference.empty()) {
      result.first_difference = "chunk at point " + std::to_string(c.first_point) + ": " +
                                std::to_string(out.size()) + " bytes vs " +
                                std::to_string(c.bytes) + " in the file";
    }
  }
  return result;
}

// Writers: LAStools/LASzip (rlas), PDAL with LASzip 3.4 (IGN files), laspy test data (LASzip),
// untwine/PDAL COPC; items POINT14 alone, with RGB14, RGBNIR14 and BYTE14 of 1 to 56 bytes.
// ctview's COPC file has two scanner channels.
TEST(LazEncodeLayered, ReencodeGivesLaszipBytes) {
  const char* files[] = {
      "laspy/1_4_w_evlr.laz",
      "rlas/las14_prf6.laz",
      "ign-pdal-tools/test_data_77055_627760_LA93_IGN69.laz",
      "ign-pdal-tools/crop_duplicate.laz",
      "ign-pdal-tools/test_data_77055_627755_LA93_IGN69_extra_dims.laz",
      "ign-pdal-tools/test_data_0436_6384_LA93_IGN69_single_point.laz",
      "ign-pdal-tools/test_pdalfail_0643_6319_LA93_IGN69.laz",
      "ign-pdal-tools/Semis_2022_0906_6665_LA93_IGN69_ok.laz",
      "ign-pdal-tools/test_semis_2023_0292_6833_LA93_IGN69.laz",
      "pdal-ign-plugin/crop_1.laz",
      "lidar-prod/870000_6618000.subset.postValidation.laz",
      "laspy/simple.copc.laz",
      "ctview/test_data_77050_627755_LA93_IGN69.copc.laz",
      "copc.js/ellipsoid.copc.laz",
  };
  size_t tested = 0;
  for (const char* rel : files) {
    const std::string path = data_dir() + "/" + rel;
    if (!std::filesystem::exists(path)) continue;
    ++tested;
    const ReencodeResult r = reencode(path);
    EXPECT_GT(r.chunks, 0u) << rel;
    EXPECT_EQ(r.identical, r.chunks) << rel << ": " << r.first_difference;
  }
  if (tested == 0) GTEST_SKIP() << "test data not found under " << data_dir();
}

// ---- round trips of real files --------------------------------------------------------------

TEST(LazEncodeLayered, RealFilesRoundTripAtSeveralChunkSizes) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(data_dir())) GTEST_SKIP() << "test data not found under " << data_dir();
  std::vector<std::string> paths;
  for (const auto& e : fs::recursive_directory_iterator(data_dir())) {
    const std::string ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".laz" || ext == ".las")) paths.push_back(e.path().string());
  }
  std::sort(paths.begin(), paths.end());
  size_t tested = 0;
  for (const std::string& path : paths) {
    std::vector<Item> items;
    std::vector<uint8_t> records;
    try {
      io::PointReader reader(path);
      const auto& info = reader.info();
      const uint8_t pdrf = info.header.point_format;
      if (pdrf < 6 || pdrf > 8) continue;
      if (info.laszip) {
        items = items_of(info);
      } else {
        // Uncompressed file: the items LASzip would use (POINT14, RGB14/RGBNIR14, BYTE14).
        items.push_back(Item{kPoint14, 30, 3});
        if (pdrf == 7) items.push_back(Item{kRgb14, 6, 3});
        if (pdrf == 8) items.push_back(Item{kRgbNir14, 8, 3});
        const uint16_t base = pdrf == 6 ? 30 : (pdrf == 7 ? 36 : 38);
        if (info.header.record_length > base) {
          items.push_back(Item{kByte14, uint16_t(info.header.record_length - base), 3});
        }
      }
      records = reader.read_all_records();
    } catch (const Error&) {
      continue;  // files that are meant to be rejected
    }
    ++tested;
    const std::string name = fs::path(path).filename().string();
    size_t record_length = 0;
    for (const Item& it : items) record_length += it.size;
    // Tiny chunks re-seed every model per chunk: a prefix keeps them quick under sanitizers.
    std::vector<uint8_t> prefix(records.begin(),
                                records.begin() + std::min(records.size(), 250 * record_length));
    for (uint64_t cs : {1, 2}) expect_round_trip(items, prefix, cs, name);
    for (uint64_t cs : {100, 50000}) expect_round_trip(items, records, cs, name);
  }
  if (tested == 0) GTEST_SKIP() << "no PDRF 6-8 file under " << data_dir();
}

// ---- random records -------------------------------------------------------------------------

class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint32_t below(uint32_t n) { return uint32_t(next() % n); }
  bool chance(double p) { return double(next() >> 11) * (1.0 / 9007199254740992.0) < p; }

 private:
  uint64_t s_;
};

void put16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }
void put32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }
void put64(uint8_t* p, uint64_t v) { std::memcpy(p, &v, 8); }
uint64_t bits_of(double d) {
  uint64_t v;
  std::memcpy(&v, &d, 8);
  return v;
}

// Records for `items` that stress every predictor: several scanner channels that switch often,
// return numbers and counts 0..15, classifications up to 255, GPS times in interleaved
// sequences with repeats, jumps, NaN and signed zeros, coordinates that wrap, grey and coloured
// RGB, wave packet offsets of every kind, and fields that stay constant for a whole chunk
// (`volatility` 0) so that layers are left out.
std::vector<uint8_t> random_records(const std::vector<Item>& items, uint64_t n, uint64_t seed,
                                    double volatility) {
  Rng rng(seed);
  size_t rl = 0;
  for (const Item& it : items) rl += it.size;
  std::vector<uint8_t> out(n * rl);
  std::vector<uint8_t> prev(rl);
  for (size_t i = 0; i < rl; ++i) prev[i] = uint8_t(rng.next());
  double seq_time[3] = {1000.0, 5.0e8, -3.0};
  uint32_t channel = 0;
  auto change = [&](double scale) { return rng.chance(volatility * scale); };
  for (uint64_t p = 0; p < n; ++p) {
    uint8_t* rec = out.data() + p * rl;
    std::memcpy(rec, prev.data(), rl);
    size_t off = 0;
    for (const Item& it : items) {
      uint8_t* f = rec + off;
      if (it.type == kPoint14) {
        if (change(1)) {
          uint32_t x;
          std::memcpy(&x, f, 4);
          // Small steps, and now and then a jump that wraps the 32-bit difference.
          x += rng.chance(0.05) ? uint32_t(rng.next()) : rng.below(2001) - 1000u;
          put32(f, x);
        }
        if (change(0.9)) put32(f + 4, uint32_t(rng.next()) >> (rng.below(2) ? 0 : 20));
        if (change(0.8)) put32(f + 8, uint32_t(rng.next()) >> rng.below(32));
        if (change(0.5)) put16(f + 12, uint16_t(rng.next()));
        if (change(0.7)) f[14] = uint8_t(rng.next());  // return number and count, 0..15 each
        if (change(0.3)) f[15] = uint8_t((f[15] & 0x30) | (rng.next() & 0xCF));
        if (rng.chance(volatility > 0 ? 0.15 : 0.0)) {
          channel = rng.chance(0.5) ? (channel + 1) & 3 : rng.below(4);
          f[15] = uint8_t((f[15] & 0xCF) | (channel << 4));
        }
        if (change(0.4)) f[16] = uint8_t(rng.next());
        if (change(0.4)) f[17] = uint8_t(rng.next());
        if (change(0.3)) put16(f + 18, uint16_t(rng.next()));
        if (change(0.2)) put16(f + 20, uint16_t(rng.next()));
        if (change(0.8)) {
          const uint32_t kind = rng.below(20);
          uint64_t gps;
          if (kind < 12) {
            double& t = seq_time[kind % 3];
            t += (kind < 9 ? 1e-5 : 1e-5 * rng.below(1000));
            gps = bits_of(t);
          } else if (kind < 14) {
            gps = rng.next();  // anything, NaN patterns included
          } else if (kind == 14) {
            gps = bits_of(rng.chance(0.5) ? 0.0 : -0.0);
          } else if (kind == 15) {
            gps = 0x7FF8000000000001ull;  // a NaN, repeated below
          } else {
            std::memcpy(&gps, f + 22, 8);  // unchanged
            gps += rng.below(3);
          }
          put64(f + 22, gps);
        }
      } else if (it.type == kRgb14 || it.type == kRgbNir14) {
        if (change(0.6)) {
          const uint32_t kind = rng.below(4);
          const uint16_t grey = uint16_t(rng.next());
          for (int c = 0; c < 3; ++c) {
            const uint16_t v = kind == 0 ? grey : uint16_t(rng.next() >> (kind == 1 ? 56 : 48));
            put16(f + 2 * c, v);
          }
        }
        if (it.type == kRgbNir14 && change(0.5)) put16(f + 6, uint16_t(rng.next() >> 52));
      } else if (it.type == kByte14) {
        for (size_t b = 0; b < it.size; ++b)
          if (b % 3 != 0 && change(0.3 * double(b % 4))) f[b] = uint8_t(rng.next());
      } else if (it.type == kWavepacket14) {
        if (change(0.5)) {
          if (rng.chance(0.3)) f[0] = uint8_t(rng.next());
          uint64_t offset, last_offset;
          std::memcpy(&last_offset, f + 1, 8);
          uint32_t size;
          std::memcpy(&size, f + 9, 4);
          switch (rng.below(4)) {
            case 0: offset = last_offset; break;
            case 1: offset = last_offset + size; break;
            case 2: offset = last_offset + uint64_t(int64_t(int32_t(rng.next()))); break;
            default: offset = rng.next(); break;
          }
          put64(f + 1, offset);
          put32(f + 9, rng.chance(0.05) ? uint32_t(rng.next()) : rng.below(500));
          for (int k = 0; k < 4; ++k)
            if (rng.chance(0.5)) put32(f + 13 + 4 * k, uint32_t(rng.next()));
        }
      }
      off += it.size;
    }
    std::memcpy(prev.data(), rec, rl);
  }
  return out;
}

std::vector<std::vector<Item>> layered_item_sets(uint16_t version) {
  return {
      {{kPoint14, 30, version}},
      {{kPoint14, 30, version}, {kRgb14, 6, version}},
      {{kPoint14, 30, version}, {kRgbNir14, 8, version}, {kByte14, 7, version}},
      {{kPoint14, 30, version}, {kWavepacket14, 29, version}},
      {{kPoint14, 30, version}, {kRgbNir14, 8, version}, {kWavepacket14, 29, version},
       {kByte14, 3, version}},
      {{kPoint14, 30, version}, {kByte14, 1, version}},
  };
}

TEST(LazEncodeLayered, RandomRecordsRoundTrip) {
  uint64_t seed = 1;
  for (uint16_t version : {3, 4}) {
    for (const auto& items : layered_item_sets(version)) {
      for (double volatility : {0.0, 0.02, 0.5, 1.0}) {
        const std::vector<uint8_t> records = random_records(items, 3000, seed++, volatility);
        const std::string what = "items " + std::to_string(items.size()) + " v" +
                                 std::to_string(version) + ", volatility " +
                                 std::to_string(volatility);
        // Every chunk re-seeds all models: tiny chunks get a prefix to keep the test quick.
        const size_t rl = records.size() / 3000;
        const std::vector<uint8_t> prefix(records.begin(), records.begin() + 150 * rl);
        const std::vector<uint8_t> longer(records.begin(), records.begin() + 700 * rl);
        for (uint64_t cs : {1, 2}) expect_round_trip(items, prefix, cs, what);
        expect_round_trip(items, longer, 7, what);
        for (uint64_t cs : {100, 3000}) expect_round_trip(items, records, cs, what);
      }
    }
  }
}

// The free function is the reusable encoder's first use: same bytes.
TEST(LazEncodeLayered, FreeFunctionMatchesReusedEncoder) {
  const auto items = layered_item_sets(3)[4];
  const std::vector<uint8_t> a = random_records(items, 500, 7, 0.5);
  const std::vector<uint8_t> b = random_records(items, 300, 8, 0.3);
  LayeredChunkEncoder encoder(items);
  std::vector<uint8_t> out;
  encoder.encode(a.data(), 500, out);
  out.clear();
  encoder.encode(b.data(), 300, out);
  EXPECT_TRUE(out == encode_layered_chunk(items, b.data(), 300));
}

// ---- layer emission and layout --------------------------------------------------------------

std::vector<uint32_t> layer_sizes(const std::vector<uint8_t>& chunk, size_t rl, size_t layers) {
  std::vector<uint32_t> sizes(layers);
  for (size_t i = 0; i < layers; ++i) std::memcpy(&sizes[i], chunk.data() + rl + 4 + 4 * i, 4);
  return sizes;
}

TEST(LazEncodeLayered, ConstantFieldsLeaveTheirLayersOut) {
  // POINT14 + RGB14; every field constant except X.
  const std::vector<Item> items = {{kPoint14, 30, 3}, {kRgb14, 6, 3}};
  std::vector<uint8_t> records(100 * 36, 0);
  for (uint32_t p = 0; p < 100; ++p) {
    uint8_t* r = records.data() + 36 * p;
    put32(r, p * 10);
    r[14] = 0x11;
    r[16] = 2;
    put16(r + 30, 500);  // grey
    put16(r + 32, 500);
    put16(r + 34, 500);
  }
  std::vector<uint8_t> chunk = encode_layered_chunk(items, records.data(), 100);
  std::vector<uint32_t> sizes = layer_sizes(chunk, 36, 10);
  EXPECT_GT(sizes[0], 0u);  // XY
  EXPECT_GT(sizes[1], 0u);  // Z, always emitted
  for (size_t i = 2; i < 10; ++i) EXPECT_EQ(sizes[i], 0u) << "layer " << i;
  uint32_t count;
  std::memcpy(&count, chunk.data() + 36, 4);
  EXPECT_EQ(count, 100u);  // the raw point included
  expect_round_trip(items, records, 100, "constant fields");

  // A constant but non-grey colour: LASzip still emits the RGB layer (its symbol is non-zero).
  for (uint32_t p = 0; p < 100; ++p) put16(records.data() + 36 * p + 34, 600);
  chunk = encode_layered_chunk(items, records.data(), 100);
  sizes = layer_sizes(chunk, 36, 10);
  EXPECT_GT(sizes[9], 0u);
  for (size_t i = 2; i < 9; ++i) EXPECT_EQ(sizes[i], 0u) << "layer " << i;
  expect_round_trip(items, records, 100, "constant colour");
}

TEST(LazEncodeLayered, OnePointChunkHasLaszipLayout) {
  const std::vector<Item> items = {{kPoint14, 30, 3}, {kRgbNir14, 8, 3}, {kByte14, 2, 3}};
  const std::vector<uint8_t> records = random_records(items, 1, 3, 1.0);
  const std::vector<uint8_t> chunk = encode_layered_chunk(items, records.data(), 1);
  // Raw point, count 1, 13 layer sizes, then XY and Z as empty streams ("01 00 00 00" each).
  ASSERT_EQ(chunk.size(), 40u + 4 + 13 * 4 + 8);
  EXPECT_EQ(std::memcmp(chunk.data(), records.data(), 40), 0);
  const std::vector<uint32_t> sizes = layer_sizes(chunk, 40, 13);
  EXPECT_EQ(sizes[0], 4u);
  EXPECT_EQ(sizes[1], 4u);
  const uint8_t empty[8] = {1, 0, 0, 0, 1, 0, 0, 0};
  EXPECT_EQ(std::memcmp(chunk.data() + chunk.size() - 8, empty, 8), 0);
  EXPECT_TRUE(encode_layered_chunk(items, records.data(), 0).empty());
}

TEST(LazEncodeLayered, RejectsItemsCompressor3CannotCarry) {
  const uint8_t rec[64] = {};
  EXPECT_THROW(encode_layered_chunk({{kPoint14, 30, 2}}, rec, 1), ArgumentError);
  EXPECT_THROW(encode_layered_chunk({{kPoint14, 28, 3}}, rec, 1), ArgumentError);
  EXPECT_THROW(encode_layered_chunk({{kPoint10, 20, 2}}, rec, 1), ArgumentError);
  EXPECT_THROW(encode_layered_chunk({{kPoint14, 30, 3}, {kByte14, 0, 3}}, rec, 1),
               ArgumentError);
  EXPECT_THROW(encode_layered_chunk({}, rec, 1), ArgumentError);
}

// ---- a whole file read by laspy + lazrs -----------------------------------------------------

const char* kLaspyReader = R"PY(
import sys
try:
    import laspy, lazrs  # noqa: F401
except ImportError:
    sys.exit(77)
las = laspy.read(sys.argv[1], laz_backend=laspy.LazBackend.Lazrs)
open(sys.argv[2], "wb").write(las.points.array.tobytes())
)PY";

// Takes a real PDRF 8 LAZ file's header and VLRs, replaces its points by random multi-channel
// records encoded by us (chunks + chunk table), and has laspy/lazrs decode the result.
TEST(LazEncodeLayered, LazrsReadsOurFile) {
  const std::string src = data_dir() + "/ign-pdal-tools/test_data_77055_627760_LA93_IGN69.laz";
  std::vector<uint8_t> file;
  if (!read_file(src, file)) GTEST_SKIP() << "test data not found: " << src;
  io::PointReader reader(src);
  const auto& info = reader.info();
  ASSERT_TRUE(info.laszip.has_value());
  ASSERT_EQ(info.header.evlr_count, 0u);
  const std::vector<Item> items = items_of(info);
  const uint32_t chunk_size = info.laszip->chunk_size;
  ASSERT_FALSE(info.laszip->variable_chunks());

  const uint64_t n = uint64_t(chunk_size) + 1234;  // a full chunk and a partial one
  const std::vector<uint8_t> records = random_records(items, n, 99, 0.5);
  const size_t rl = info.header.record_length;
  std::vector<uint8_t> out(file.begin(), file.begin() + info.header.offset_to_points);
  const uint64_t table_pointer_at = out.size();
  out.resize(out.size() + 8);
  LayeredChunkEncoder encoder(items);
  std::vector<io::ChunkInfo> chunks;
  for (uint64_t first = 0; first < n; first += chunk_size) {
    io::ChunkInfo c;
    c.first_point = first;
    c.point_count = std::min<uint64_t>(chunk_size, n - first);
    c.offset = out.size();
    encoder.encode(records.data() + first * rl, c.point_count, out);
    c.bytes = out.size() - c.offset;
    chunks.push_back(c);
  }
  put64(out.data() + table_pointer_at, out.size());
  const std::vector<uint8_t> table = encode_chunk_table(chunks, false);
  out.insert(out.end(), table.begin(), table.end());
  put32(out.data() + 107, 0);  // legacy count: 0 for PDRF 6-10
  put64(out.data() + 247, n);
  for (int i = 0; i < 15; ++i) put64(out.data() + 255 + 8 * i, i == 0 ? n : 0);

  const std::string dir = ::testing::TempDir();
  const std::string laz = dir + "/lidarhd_encode_layered.laz";
  {
    std::ofstream f(laz, std::ios::binary);
    f.write(reinterpret_cast<const char*>(out.data()), std::streamsize(out.size()));
  }
  std::string log;
  const int status =
      test::run_python(kLaspyReader, "lidarhd_read_laspy.py", laz + " " + laz + ".records", log);
  std::vector<uint8_t> decoded;
  if (test::python_missing(status)) GTEST_SKIP() << "python3 with laspy and lazrs is missing";
  ASSERT_EQ(status, 0) << log;
  ASSERT_TRUE(read_file(laz + ".records", decoded));
  EXPECT_EQ(first_diff(records, decoded, rl), -1) << "lazrs decodes our file differently";

  // Our own reader agrees too.
  io::PointReader ours(laz);
  EXPECT_TRUE(ours.read_all_records() == records);
  for (const std::string& f : {laz, laz + ".records"}) std::remove(f.c_str());
}

}  // namespace
}  // namespace lidarhd::laz::detail
