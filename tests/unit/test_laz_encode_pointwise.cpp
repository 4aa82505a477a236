// Pointwise LAZ encoding (compressor 2, PDRF 0-3 items version 2) and chunk table writing:
// byte-exact against LASzip-written files, and encode -> decode round trips on every real
// PDRF 0-3 file of ../shared/data and on random records built to reach the rare code paths.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "io/laz/arith_decoder.hpp"
#include "io/laz/chunk_encoder.hpp"
#include "io/laz/items.hpp"
#include "io/laz/pointwise_chunk.hpp"
#include "io/laz/pointwise_encoders.hpp"
#include "laz_test_util.hpp"
#include "lidarhd/core/error.hpp"
#include "lidarhd/io/reader.hpp"

namespace lidarhd::laz::detail {
namespace {

// ---- helpers ----------------------------------------------------------------------------------

using test::data_dir;
using test::get;
using test::read_file;

// The version 2 items a writer uses for PDRF 0-3 records of `record_length` bytes.
std::vector<Item> items_for(uint8_t pdrf, size_t record_length) {
  std::vector<Item> items{{kPoint10, 20, 2}};
  size_t base = 20;
  if (pdrf == 1 || pdrf == 3) {
    items.push_back({kGpsTime11, 8, 2});
    base += 8;
  }
  if (pdrf == 2 || pdrf == 3) {
    items.push_back({kRgb12, 6, 2});
    base += 6;
  }
  if (record_length > base) items.push_back({kByte, uint16_t(record_length - base), 2});
  return items;
}

size_t record_length_of(const std::vector<Item>& items) {
  size_t n = 0;
  for (const Item& it : items) n += it.size;
  return n;
}

// Encodes `records` in chunks of `chunk_size` points, decodes every chunk back and compares.
// The encoder and decoder are reused across chunks, as a writer/reader thread would.
void expect_round_trip(const std::vector<Item>& items, const std::vector<uint8_t>& records,
                       uint64_t chunk_size, const std::string& what) {
  const size_t rl = record_length_of(items);
  ASSERT_EQ(records.size() % rl, 0u);
  const uint64_t n = records.size() / rl;
  PointwiseChunkEncoder encoder(items);
  PointwiseChunkDecoder decoder(items, what);
  std::vector<uint8_t> chunk, decoded;
  for (uint64_t first = 0; first < n; first += chunk_size) {
    const uint64_t count = std::min(chunk_size, n - first);
    chunk.clear();
    encoder.encode(records.data() + first * rl, count, chunk);
    // Same bytes as the one-shot entry point.
    if (first == 0) {
      ASSERT_EQ(chunk, encode_pointwise_chunk(items, records.data(), count)) << what;
    }
    decoded.assign(count * rl, 0);
    const size_t used = decoder.decode({chunk.data(), chunk.size()}, count, decoded.data(), what);
    // The stream ends exactly where the decoder stops (a 1-point chunk still has 4 flush bytes).
    if (count > 1) {
      EXPECT_EQ(used, chunk.size()) << what << " chunk at " << first;
    } else {
      EXPECT_EQ(chunk.size(), rl + 4) << what;
    }
    if (std::memcmp(decoded.data(), records.data() + first * rl, count * rl) != 0) {
      for (uint64_t i = 0; i < count; ++i) {
        if (std::memcmp(decoded.data() + i * rl, records.data() + (first + i) * rl, rl) != 0) {
          FAIL() << what << ", chunk size " << chunk_size << ": point " << first + i
                 << " differs after the round trip";
        }
      }
    }
  }
}

// ---- byte-exactness against LASzip ------------------------------------------------------------

// Re-encodes the records of a .las twin as one chunk and compares with the .laz's chunk and table.
void expect_same_bytes_as_laszip(const std::string& las_rel, const std::string& laz_rel,
                                 const std::vector<Item>& items) {
  LOAD_OR_SKIP(las_rel, las);
  OPEN_LAZ_OR_SKIP(laz_rel, laz);
  // The twin's records are read with raw header offsets, independently of the library.
  const std::vector<uint8_t> records = test::las_records(las);
  const uint16_t rl = get<uint16_t>(las, 105);
  ASSERT_EQ(rl, record_length_of(items));
  const uint64_t count = records.size() / rl;

  const auto& bytes = laz.bytes;
  const std::vector<uint8_t> want_chunk(bytes.begin() + laz.table.data_start,
                                        bytes.begin() + laz.table.data_end);
  const std::vector<uint8_t> want_table(bytes.begin() + laz.table.data_end, bytes.end());

  const std::vector<uint8_t> chunk = encode_pointwise_chunk(items, records.data(), count);
  ASSERT_EQ(chunk.size(), want_chunk.size()) << laz_rel;
  EXPECT_TRUE(chunk == want_chunk) << laz_rel << ": chunk bytes differ from LASzip's";

  io::ChunkInfo info;
  info.point_count = count;
  info.offset = laz.table.data_start;
  info.bytes = chunk.size();
  EXPECT_EQ(encode_chunk_table({info}, false), want_table) << laz_rel;
}

TEST(LazEncodePointwise, Point10MatchesLaszipBytes) {
  expect_same_bytes_as_laszip("laz-rs/point10.las", "laz-rs/point10.laz", {{kPoint10, 20, 2}});
}

TEST(LazEncodePointwise, PointTimeColorMatchesLaszipBytes) {
  expect_same_bytes_as_laszip("laz-rs/point-time-color.las", "laz-rs/point-time-color.laz",
                              {{kPoint10, 20, 2}, {kGpsTime11, 8, 2}, {kRgb12, 6, 2}});
}

// ---- real files -------------------------------------------------------------------------------

struct RealFile {
  std::string path;
  uint8_t pdrf = 0;
  uint16_t record_length = 0;
  std::vector<uint8_t> records;
};

// Every readable PDRF 0-3 LAS/LAZ file of the shared data (unreadable ones, such as the corrupt
// header sample, are left to the reader tests).
std::vector<RealFile> real_pdrf0_3_files() {
  std::vector<RealFile> out;
  std::error_code ec;
  std::vector<std::string> paths;
  for (auto it = std::filesystem::recursive_directory_iterator(data_dir(), ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    const std::string p = it->path().string();
    const std::string ext = it->path().extension().string();
    if (it->is_regular_file() && (ext == ".las" || ext == ".laz")) paths.push_back(p);
  }
  std::sort(paths.begin(), paths.end());
  for (const std::string& p : paths) {
    try {
      io::PointReader reader(p);
      const auto& h = reader.info().header;
      if (h.point_format > 3 || reader.point_count() == 0) continue;
      RealFile f;
      f.path = p;
      f.pdrf = h.point_format;
      f.record_length = uint16_t(reader.record_length());
      f.records = reader.read_all_records();
      out.push_back(std::move(f));
    } catch (const Error&) {
      continue;
    }
  }
  return out;
}

TEST(LazEncodePointwise, RealFilesRoundTrip) {
  const std::vector<RealFile> files = real_pdrf0_3_files();
  if (files.empty()) GTEST_SKIP() << "no PDRF 0-3 file found under " << data_dir();
  EXPECT_GE(files.size(), 10u) << "fewer real PDRF 0-3 files than expected under " << data_dir();
  std::printf("  %zu real PDRF 0-3 files\n", files.size());
  bool saw_extra_bytes = false, saw_gps = false, saw_rgb = false;
  for (const RealFile& f : files) {
    const std::vector<Item> items = items_for(f.pdrf, f.record_length);
    saw_extra_bytes |= items.back().type == kByte;
    saw_gps |= f.pdrf == 1 || f.pdrf == 3;
    saw_rgb |= f.pdrf >= 2;
    const size_t rl = f.record_length;
    // Tiny chunks restart every model at each point: a prefix of the file covers them.
    const size_t small = std::min(f.records.size(), size_t(1000) * rl);
    const std::vector<uint8_t> prefix(f.records.begin(), f.records.begin() + small);
    SCOPED_TRACE(f.path);
    expect_round_trip(items, prefix, 1, f.path);
    expect_round_trip(items, prefix, 2, f.path);
    expect_round_trip(items, f.records, 100, f.path);
    expect_round_trip(items, f.records, 50000, f.path);
  }
  EXPECT_TRUE(saw_extra_bytes && saw_gps && saw_rgb);
}

// Files written with version 2 items (LASzip inside TerraScan, PDAL, las2las here) come back byte
// for byte, chunk by chunk, and so does their chunk table. (A writer that chose symbols
// differently, e.g. lazrs, which saturates an out-of-range GPS ratio, could legitimately differ.)
TEST(LazEncodePointwise, RealFilesReencodeToTheirOwnChunks) {
  const std::vector<RealFile> files = real_pdrf0_3_files();
  if (files.empty()) GTEST_SKIP() << "no PDRF 0-3 file found under " << data_dir();
  size_t identical = 0, compared = 0;
  for (const RealFile& f : files) {
    io::PointReader reader(f.path);
    const auto& info = reader.info();
    if (!info.laszip || info.laszip->compressor != 2) continue;
    if (std::any_of(info.laszip->items.begin(), info.laszip->items.end(),
                    [](const io::LaszipItemInfo& it) { return it.version != 2; }))
      continue;
    const std::vector<Item> items = test::items_of(info);
    std::vector<uint8_t> file;
    ASSERT_TRUE(read_file(f.path, file));
    const std::vector<io::ChunkInfo>& chunks = reader.chunks();
    bool same = !chunks.empty();
    for (const io::ChunkInfo& c : chunks) {
      ASSERT_LE(c.offset + c.bytes, file.size());
      const std::vector<uint8_t> got = encode_pointwise_chunk(
          items, f.records.data() + c.first_point * f.record_length, c.point_count);
      same = same && got.size() == c.bytes &&
             std::equal(got.begin(), got.end(), file.begin() + long(c.offset));
    }
    if (same) {
      const uint64_t table = chunks.back().offset + chunks.back().bytes;
      const std::vector<uint8_t> t = encode_chunk_table(chunks, info.laszip->variable_chunks());
      same = table + t.size() <= file.size() &&
             std::equal(t.begin(), t.end(), file.begin() + long(table));
    }
    ++compared;
    identical += same;
    EXPECT_TRUE(same) << f.path << " does not re-encode to its own bytes";
    std::printf("  %s %s (%s)\n", same ? "identical" : "differs  ", f.path.c_str(),
                info.header.software.c_str());
  }
  EXPECT_GE(compared, 5u);
  std::printf("  %zu of %zu compressor-2 files re-encode to identical chunks\n", identical,
              compared);
}

// ---- synthetic records ------------------------------------------------------------------------

// Random PDRF 3 records with `extra` extra bytes. Fields mix small changes (the predictors' usual
// case), repeats, and extremes that reach 32-bit residuals (k = 32) and every GPS/RGB branch.
std::vector<uint8_t> synthetic_records(uint64_t n, uint16_t extra, uint32_t seed) {
  std::mt19937 rng(seed);
  const size_t rl = 34 + extra;
  std::vector<uint8_t> out(n * rl);
  auto pick = [&](uint32_t k) { return uint32_t(rng() % k); };
  const uint32_t extremes[] = {0u, 1u, 0x7FFFFFFFu, 0x80000000u, 0xFFFFFFFFu, 0x80000001u};
  uint32_t xyz[3] = {1000, 2000, 3000};
  uint64_t gps_bits = 0x41D0000000000000ull;  // a plausible double
  uint64_t sequences[3] = {gps_bits, gps_bits + (1ull << 40), 0};
  int64_t gps_step = 1000;
  uint16_t rgb[3] = {100, 200, 300};
  for (uint64_t i = 0; i < n; ++i) {
    uint8_t* r = out.data() + i * rl;
    const uint32_t mode = pick(100);
    for (int c = 0; c < 3; ++c) {
      if (mode < 70)
        xyz[c] += uint32_t(int32_t(pick(2001)) - 1000);
      else if (mode < 85)
        xyz[c] = rng();
      else if (mode < 95)
        xyz[c] = extremes[pick(6)];
      std::memcpy(r + 4 * c, &xyz[c], 4);
    }
    const uint16_t intensity = mode < 50 ? uint16_t(pick(4)) : uint16_t(rng());
    std::memcpy(r + 12, &intensity, 2);
    const uint32_t n_ret = pick(8), ret = pick(8);
    r[14] = uint8_t(ret | (n_ret << 3) | (pick(4) << 6));
    r[15] = mode < 60 ? uint8_t(2 + pick(2)) : uint8_t(rng());
    r[16] = uint8_t(rng());
    r[17] = pick(3) == 0 ? uint8_t(rng()) : 0;
    const uint16_t psid = mode < 80 ? uint16_t(7) : uint16_t(rng());
    std::memcpy(r + 18, &psid, 2);

    // GPS: regular steps, multiples, repeats, backward steps, switches between sequences and
    // huge jumps (new sequences, ratios beyond int32).
    const uint32_t g = pick(100);
    if (g < 40)
      gps_bits += uint64_t(gps_step);
    else if (g < 50)
      gps_bits += uint64_t(gps_step) * (2 + pick(600));
    else if (g < 55)
      gps_bits -= uint64_t(gps_step) * (1 + pick(12));
    else if (g < 60)
      gps_step = int64_t(pick(3)) - 1;  // tiny steps: huge ratios next
    else if (g < 65)
      gps_bits += 0x7FFFFFFFull - pick(3);
    else if (g < 72)
      std::swap(gps_bits, sequences[pick(3)]);
    else if (g < 76)
      gps_bits = (uint64_t(rng()) << 32) | rng();
    else if (g < 80)
      gps_step = int64_t(pick(100000)) + 1;
    else if (g < 85)
      gps_bits += uint64_t(int64_t(int32_t(rng())));
    // else: unchanged
    std::memcpy(r + 20, &gps_bits, 8);

    // RGB: grey and coloured runs, single-byte and full changes.
    const uint32_t c = pick(100);
    if (c < 30) {
      rgb[0] = rgb[1] = rgb[2] = uint16_t(rng());
    } else if (c < 60) {
      for (auto& v : rgb) v = uint16_t(v + int32_t(pick(17)) - 8);
    } else if (c < 75) {
      rgb[pick(3)] ^= uint16_t(1u << pick(16));
    } else if (c < 90) {
      for (auto& v : rgb) v = uint16_t(rng());
    }
    std::memcpy(r + 28, rgb, 6);
    for (uint16_t e = 0; e < extra; ++e) r[34 + e] = pick(2) ? uint8_t(rng()) : uint8_t(e);
  }
  return out;
}

TEST(LazEncodePointwise, SyntheticRecordsRoundTrip) {
  for (uint16_t extra : {uint16_t(0), uint16_t(5)}) {
    const std::vector<uint8_t> records = synthetic_records(20000, extra, 1234 + extra);
    const std::vector<Item> items = items_for(3, 34 + extra);
    const std::vector<uint8_t> prefix(records.begin(), records.begin() + 600 * (34 + extra));
    expect_round_trip(items, prefix, 1, "synthetic");
    expect_round_trip(items, prefix, 2, "synthetic");
    expect_round_trip(items, records, 100, "synthetic");
    expect_round_trip(items, records, 50000, "synthetic");
    // The same records through the other PDRF 0-3 item lists.
    for (uint8_t pdrf : {uint8_t(0), uint8_t(1), uint8_t(2)}) {
      const std::vector<Item> sub = items_for(pdrf, pdrf == 0 ? 20 : pdrf == 1 ? 28 : 26);
      const size_t rl = record_length_of(sub);
      std::vector<uint8_t> recs(20000 * rl);
      for (size_t i = 0; i < 20000; ++i) {
        const uint8_t* src = records.data() + i * (34 + extra);
        std::memcpy(recs.data() + i * rl, src, 20);
        if (pdrf == 1) std::memcpy(recs.data() + i * rl + 20, src + 20, 8);
        if (pdrf == 2) std::memcpy(recs.data() + i * rl + 20, src + 28, 6);
      }
      expect_round_trip(sub, recs, 100, "synthetic subset");
      expect_round_trip(sub, recs, 50000, "synthetic subset");
    }
  }
}

TEST(LazEncodePointwise, ConstantAndOnePointChunks) {
  const std::vector<Item> items = items_for(3, 34);
  std::vector<uint8_t> records(500 * 34, 0);
  expect_round_trip(items, records, 500, "all zero");
  std::vector<uint8_t> ones(500 * 34, 0xFF);
  expect_round_trip(items, ones, 7, "all 0xFF");
  // One point: raw record plus the 4 bytes of an empty stream, as LASzip writes it.
  const std::vector<uint8_t> one = encode_pointwise_chunk(items, records.data(), 1);
  ASSERT_EQ(one.size(), 38u);
  EXPECT_EQ(std::vector<uint8_t>(one.begin() + 34, one.end()), (std::vector<uint8_t>{1, 0, 0, 0}));
  EXPECT_TRUE(encode_pointwise_chunk(items, records.data(), 0).empty());
}

TEST(LazEncodePointwise, RejectsItemsItCannotWrite) {
  const uint8_t rec[64] = {};
  EXPECT_THROW(encode_pointwise_chunk({}, rec, 1), ArgumentError);
  EXPECT_THROW(encode_pointwise_chunk({{kPoint10, 20, 1}}, rec, 1), ArgumentError);
  EXPECT_THROW(encode_pointwise_chunk({{kPoint10, 22, 2}}, rec, 1), ArgumentError);
  EXPECT_THROW(encode_pointwise_chunk({{kPoint14, 30, 2}}, rec, 1), ArgumentError);
  EXPECT_THROW(encode_pointwise_chunk({{kPoint10, 20, 2}, {kByte, 0, 2}}, rec, 1), ArgumentError);
  EXPECT_THROW(encode_pointwise_chunk({{kPoint10, 20, 2}, {kWavepacket13, 29, 2}}, rec, 1),
               ArgumentError);
}

// ---- chunk table ------------------------------------------------------------------------------

// Decodes a table the way chunk_table.cpp does.
std::vector<io::ChunkInfo> decode_table(const std::vector<uint8_t>& t, bool variable,
                                        uint32_t chunk_size) {
  EXPECT_EQ(get<uint32_t>(t, 0), 0u);
  const uint32_t n = get<uint32_t>(t, 4);
  std::vector<io::ChunkInfo> out(n);
  if (n == 0) return out;
  ArithDecoder dec;
  dec.init(t.data() + 8, t.size() - 8);
  IntegerDecoder ic(32, 2);
  uint32_t count = 0, bytes = 0;
  for (auto& c : out) {
    if (variable) count = uint32_t(ic.decode(dec, int32_t(count), 0));
    bytes = uint32_t(ic.decode(dec, int32_t(bytes), 1));
    c.point_count = variable ? count : chunk_size;
    c.bytes = bytes;
  }
  EXPECT_FALSE(dec.overrun());
  EXPECT_EQ(size_t(dec.position() - t.data()), t.size()) << "the table stream has trailing bytes";
  return out;
}

TEST(LazEncodePointwise, ChunkTableRoundTrip) {
  EXPECT_EQ(encode_chunk_table({}, false), (std::vector<uint8_t>{0, 0, 0, 0, 0, 0, 0, 0}));
  std::mt19937 rng(7);
  for (int trial = 0; trial < 50; ++trial) {
    const bool variable = trial % 2 == 1;
    std::vector<io::ChunkInfo> chunks(1 + rng() % 300);
    for (auto& c : chunks) {
      c.point_count = variable ? (trial % 5 == 0 ? rng() : rng() % 60000) : 50000;
      c.bytes = trial % 7 == 0 ? rng() : 1000 + rng() % 400000;
    }
    const std::vector<io::ChunkInfo> back =
        decode_table(encode_chunk_table(chunks, variable), variable, 50000);
    ASSERT_EQ(back.size(), chunks.size());
    for (size_t i = 0; i < chunks.size(); ++i) {
      EXPECT_EQ(back[i].point_count, chunks[i].point_count);
      EXPECT_EQ(back[i].bytes, chunks[i].bytes);
    }
  }
  io::ChunkInfo too_big;
  too_big.bytes = uint64_t(1) << 32;
  EXPECT_THROW(encode_chunk_table({too_big}, false), ArgumentError);
  too_big.bytes = 10;
  too_big.point_count = uint64_t(1) << 33;
  EXPECT_THROW(encode_chunk_table({too_big}, true), ArgumentError);
  EXPECT_NO_THROW(encode_chunk_table({too_big}, false));  // fixed tables store no counts
}

// ---- speed (informational; the benchmark suite holds the real numbers) ------------------------

TEST(LazEncodePointwise, EncodeSpeedAutzen) {
  io::PointReader* reader = nullptr;
  std::unique_ptr<io::PointReader> owner;
  try {
    owner = std::make_unique<io::PointReader>(data_dir() + "/laspy/autzen_trim.laz");
    reader = owner.get();
  } catch (const Error&) {
    GTEST_SKIP() << "autzen_trim.laz not found under " << data_dir();
  }
  const std::vector<uint8_t> records = reader->read_all_records();
  const auto& h = reader->info().header;
  const std::vector<Item> items = items_for(h.point_format, h.record_length);
  const uint64_t n = reader->point_count();
  PointwiseChunkEncoder encoder(items);
  std::vector<uint8_t> out;
  double best = 1e30;
  for (int rep = 0; rep < 3; ++rep) {
    out.clear();
    const auto t0 = std::chrono::steady_clock::now();
    for (uint64_t first = 0; first < n; first += 50000) {
      encoder.encode(records.data() + first * h.record_length, std::min<uint64_t>(50000, n - first),
                     out);
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::min(best, s);
  }
  std::printf("  autzen_trim: %llu points encoded in %.1f ms = %.2f M points/s (%zu bytes)\n",
              static_cast<unsigned long long>(n), best * 1e3, double(n) / best / 1e6, out.size());
}

}  // namespace
}  // namespace lidarhd::laz::detail
