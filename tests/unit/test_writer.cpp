// LAS/LAZ writer tests: round trips of every real file of ../shared/data (decode -> write LAS or
// LAZ -> decode gives the same records), format conversions, extra dimensions, header
// statistics, LASzip byte-exactness, thread determinism, and bad input (coordinate overflow,
// long names, unwritable destinations, interrupted writes: no file under the final name).
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <algorithm>
#include <string>
#include <vector>

#include "io/las/le_bytes.hpp"
#include "lidarhd/core/error.hpp"
#include "lidarhd/io/reader.hpp"
#include "lidarhd/io/writer.hpp"
#include "real_files.hpp"
#include "temp_dir.hpp"
#include "util/sha256.hpp"

namespace {

namespace fs = std::filesystem;
using namespace lidarhd::io;

using lidarhd::test::data_dir;
using lidarhd::test::kRealFiles;
using lidarhd::test::RealFileInfo;
using lidarhd::test::TempDir;


std::string file_sha(const std::string& path, unsigned threads = 1) {
  return records_sha256(path, threads);
}

std::vector<uint8_t> file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)),
                              std::istreambuf_iterator<char>());
}

// The streaming conversion `lidarhd convert` performs; batches of a prime size straddle chunks.
void convert(const std::string& in, const std::string& out, WriteOptions wo) {
  ReadOptions ro;
  ro.threads = wo.threads;
  PointReader reader(in, ro);
  LasWriter writer(out, reader.info(), wo);
  RecordConverter conv(reader.info(), writer.header());
  std::vector<uint8_t> batch, recs;
  uint64_t n, done = 0;
  while ((n = reader.read_batch(batch, 7919)) > 0) {
    recs.resize(n * writer.record_length());
    conv.convert(batch.data(), n, recs.data(), done);
    writer.write_records(recs.data(), n);
    done += n;
  }
  writer.close();
}

bool same_vlr(const Vlr& a, const Vlr& b) {
  return a.user_id == b.user_id && a.record_id == b.record_id && a.description == b.description &&
         a.data == b.data && a.data_size == b.data_size;
}

// VLRs the writer carries over (the LASzip, Extra Bytes and COPC ones are regenerated/dropped).
std::vector<Vlr> carried(const std::vector<Vlr>& vlrs) {
  std::vector<Vlr> out;
  for (const Vlr& v : vlrs)
    if (!(v.user_id == "laszip encoded" || (v.user_id == "LASF_Spec" && v.record_id == 4) ||
          v.user_id == "copc"))
      out.push_back(v);
  return out;
}

enum class Mode { kLas, kLaz1, kLaz2 };

class RoundTrip : public ::testing::TestWithParam<std::tuple<RealFileInfo, Mode>> {};

TEST_P(RoundTrip, SameRecordsDimsAndVlrs) {
  const auto& [e, mode] = GetParam();
  REQUIRE_DATA(e.file);
  TempDir tmp;
  WriteOptions wo;
  wo.compressed = mode != Mode::kLas;
  wo.threads = mode == Mode::kLaz2 ? 2 : 1;
  const std::string out = tmp / (wo.compressed ? "out.laz" : "out.las");
  convert(path, out, wo);
  EXPECT_EQ(tmp.entries().size(), 1u) << "temporary file left behind";

  const LasFileInfo src = read_las_info(path), dst = read_las_info(out);
  EXPECT_EQ(dst.header.point_count, e.points);
  EXPECT_EQ(dst.header.point_format, src.header.point_format);
  EXPECT_EQ(dst.header.record_length, src.header.record_length);
  EXPECT_EQ(dst.laszip.has_value(), wo.compressed);
  EXPECT_FALSE(dst.copc.has_value());
  EXPECT_EQ(dst.crs.to_string(), src.crs.to_string());
  ASSERT_EQ(dst.extra_dims.size(), src.extra_dims.size());
  for (size_t i = 0; i < src.extra_dims.size(); ++i) {
    EXPECT_EQ(dst.extra_dims[i].name, src.extra_dims[i].name);
    EXPECT_EQ(dst.extra_dims[i].type, src.extra_dims[i].type);
    EXPECT_EQ(dst.extra_dims[i].offset, src.extra_dims[i].offset);
    EXPECT_EQ(dst.extra_dims[i].scale, src.extra_dims[i].scale);
  }
  const auto sv = carried(src.vlrs), dv = carried(dst.vlrs);
  const auto se = carried(src.evlrs), de = carried(dst.evlrs);
  ASSERT_EQ(dv.size(), sv.size());
  for (size_t i = 0; i < sv.size(); ++i) EXPECT_TRUE(same_vlr(dv[i], sv[i])) << sv[i].user_id;
  ASSERT_EQ(de.size(), se.size());
  for (size_t i = 0; i < se.size(); ++i) EXPECT_TRUE(same_vlr(de[i], se[i])) << se[i].user_id;

  EXPECT_EQ(file_sha(out, 1), e.sha256);
  if (wo.compressed) {
    EXPECT_EQ(file_sha(out, 3), e.sha256);
  }
}

INSTANTIATE_TEST_SUITE_P(Data, RoundTrip,
                         ::testing::Combine(::testing::ValuesIn(kRealFiles),
                                            ::testing::Values(Mode::kLas, Mode::kLaz1,
                                                              Mode::kLaz2)),
                         [](const auto& info) {
                           std::string name = std::get<0>(info.param).file;
                           for (auto& c : name)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           const Mode m = std::get<1>(info.param);
                           return name + (m == Mode::kLas    ? "_las"
                                          : m == Mode::kLaz1 ? "_laz_t1"
                                                             : "_laz_t2");
                         });

// Header statistics of the first file, recomputed: counts by return and bounds.
TEST(Writer, HeaderStatisticsMatchTheRecords) {
  REQUIRE_DATA("ign-pdal-tools/test_data_77055_627760_LA93_IGN69.laz");
  TempDir tmp;
  convert(path, tmp / "a.las", {});
  const LasFileInfo src = read_las_info(path), dst = read_las_info(tmp / "a.las");
  EXPECT_EQ(dst.header.point_count, src.header.point_count);
  EXPECT_EQ(dst.header.points_by_return, src.header.points_by_return);
  EXPECT_EQ(dst.header.legacy_point_count, 0u);  // PDRF 8: legacy fields are 0
  for (int a = 0; a < 3; ++a) {
    EXPECT_NEAR(dst.header.min[a], src.header.min[a], 1e-6);
    EXPECT_NEAR(dst.header.max[a], src.header.max[a], 1e-6);
  }
  EXPECT_EQ(dst.header.software, "lidarhd 0.1.0");
  EXPECT_EQ(dst.header.system_id, src.header.system_id);
  EXPECT_TRUE(dst.header.global_encoding & 0x10);  // WKT
}

// Synthetic records: known bounds and returns; LAS 1.4 PDRF 1 mirrors the legacy counts.
TEST(Writer, StatisticsFromSyntheticRecords) {
  TempDir tmp;
  for (uint8_t pf : {uint8_t(1), uint8_t(6)}) {
    LasFileInfo info = make_las_info(pf, {0.01, 0.01, 0.001}, {1000, 2000, 0});
    WriteOptions wo;
    wo.version_minor = 4;
    LasWriter w(tmp / "s.las", info, wo);
    const uint32_t rl = w.record_length();
    std::vector<uint8_t> recs(5 * rl, 0);
    const int32_t xs[5] = {5, -7, 100, 0, 3};
    for (int i = 0; i < 5; ++i) {
      uint8_t* r = recs.data() + i * rl;
      std::memcpy(r, &xs[i], 4);
      const int32_t y = -xs[i], z = 10 * i;
      std::memcpy(r + 4, &y, 4);
      std::memcpy(r + 8, &z, 4);
      const uint8_t ret = uint8_t(1 + i % 3), nret = 3;
      r[14] = pf >= 6 ? uint8_t(ret | nret << 4) : uint8_t(ret | nret << 3);
    }
    w.write_records(recs.data(), 5);
    w.close();
    const LasHeader h = read_las_info(tmp / "s.las").header;
    EXPECT_EQ(h.point_count, 5u);
    EXPECT_EQ(h.points_by_return[0], 2u);
    EXPECT_EQ(h.points_by_return[1], 2u);
    EXPECT_EQ(h.points_by_return[2], 1u);
    EXPECT_EQ(h.legacy_point_count, pf >= 6 ? 0u : 5u);
    EXPECT_EQ(h.legacy_points_by_return[0], pf >= 6 ? 0u : 2u);
    EXPECT_DOUBLE_EQ(h.min[0], 1000 - 0.07);
    EXPECT_DOUBLE_EQ(h.max[0], 1001.0);
    EXPECT_DOUBLE_EQ(h.min[1], 2000 - 1.0);
    EXPECT_DOUBLE_EQ(h.max[2], 0.04);
  }
}

TEST(Writer, EmptyFiles) {
  TempDir tmp;
  for (bool laz : {false, true}) {
    const std::string out = tmp / (laz ? "e.laz" : "e.las");
    WriteOptions wo;
    wo.compressed = laz;
    LasWriter w(out, make_las_info(3, {0.01, 0.01, 0.01}, {0, 0, 0}), wo);
    w.close();
    PointReader r(out);
    EXPECT_EQ(r.point_count(), 0u);
    EXPECT_TRUE(r.read_all_records().empty());
  }
}

// PDRF 3 -> 6, 7, 8 -> 3 keeps every record; 3 -> 8 maps the fields as PDAL does.
TEST(Writer, LegacyToExtendedAndBack) {
  REQUIRE_DATA("laz-rs/point-time-color.las");
  TempDir tmp;
  const auto original = PointReader(path).read_all_records();
  for (int pf : {7, 8}) {
    WriteOptions up;
    up.point_format = pf;
    convert(path, tmp / "up.laz", [&] { auto o = up; o.compressed = true; return o; }());
    convert(path, tmp / "up.las", up);
    EXPECT_EQ(file_sha(tmp / "up.las"), file_sha(tmp / "up.laz"));
    const LasFileInfo info = read_las_info(tmp / "up.las");
    EXPECT_EQ(info.header.point_format, pf);
    EXPECT_EQ(info.header.version_minor, 4);
    WriteOptions down;
    down.point_format = 3;
    convert(tmp / "up.las", tmp / "down.las", down);
    EXPECT_EQ(PointReader(tmp / "down.las").read_all_records(), original) << "via PDRF " << pf;
  }
  convert(path, tmp / "p8.las", [] { WriteOptions o; o.point_format = 8; return o; }());
  const auto up = PointReader(tmp / "p8.las").read_all_records();
  for (size_t i = 0; i < 1065; i += 97) {
    const uint8_t* s = original.data() + i * 34;
    const uint8_t* d = up.data() + i * 38;
    EXPECT_EQ(d[14] & 15, s[14] & 7);
    EXPECT_EQ(d[14] >> 4, (s[14] >> 3) & 7);
    EXPECT_EQ(d[16], s[15] & 31);
    EXPECT_EQ(d[15] & 7, s[15] >> 5);
    EXPECT_EQ(d[15] >> 6, s[14] >> 6);
    int16_t angle;
    std::memcpy(&angle, d + 18, 2);
    EXPECT_NEAR(angle * 0.006, int8_t(s[16]), 0.003);
    EXPECT_EQ(std::memcmp(d + 22, s + 20, 8), 0);  // GPS time
    EXPECT_EQ(std::memcmp(d + 30, s + 28, 6), 0);  // RGB
    EXPECT_EQ(d[36] | d[37], 0);                   // NIR zeroed
  }
}

TEST(Writer, RefusesLossyDowngrade) {
  LasFileInfo src = make_las_info(6, {0.01, 0.01, 0.01}, {0, 0, 0});
  src.path = "mem.las";
  LasHeader target = src.header;
  target.point_format = 1;
  target.record_length = 28;
  RecordConverter conv(src, target);
  std::vector<uint8_t> in(30, 0), out(28);
  in[14] = 9 | (9 << 4);  // return 9 of 9
  try {
    conv.convert(in.data(), 1, out.data(), 41);
    FAIL() << "return number 9 was accepted for PDRF 1";
  } catch (const lidarhd::ArgumentError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("point 41"), std::string::npos) << msg;
    EXPECT_NE(msg.find("return number 9"), std::string::npos) << msg;
    EXPECT_NE(msg.find("mem.las"), std::string::npos) << msg;
  }
  in[14] = 1 | (1 << 4);
  in[16] = 64;  // classification 64
  EXPECT_THROW(conv.convert(in.data(), 1, out.data()), lidarhd::ArgumentError);
  in[16] = 2;
  in[15] = 0x10;  // scanner channel 1
  EXPECT_THROW(conv.convert(in.data(), 1, out.data()), lidarhd::ArgumentError);
  in[15] = 0x08;  // overlap
  EXPECT_THROW(conv.convert(in.data(), 1, out.data()), lidarhd::ArgumentError);
  in[15] = 0x45;  // synthetic + withheld, scan direction
  conv.convert(in.data(), 1, out.data());
  EXPECT_EQ(out[14], 1 | (1 << 3) | 0x40);
  EXPECT_EQ(out[15], 2 | (5 << 5));
}

TEST(Writer, ExtraDimensionsAreTypedColumns) {
  REQUIRE_DATA("laz-rs/point-time-color.las");
  TempDir tmp;
  for (bool laz : {false, true}) {
    const std::string out = tmp / (laz ? "x.laz" : "x.las");
    PointReader reader(path);
    WriteOptions wo;
    wo.compressed = laz;
    wo.point_format = 7;
    LasWriter w(out, reader.info(), wo);
    ExtraDim f;
    f.name = "height_above_ground_32_bytes_xx";  // 31 bytes
    f.type = ExtraType::kF32;
    f.description = "metres";
    const ExtraDim hd = w.add_extra_dim(f);
    ExtraDim s;
    s.name = "planarity";
    s.type = ExtraType::kI16;
    s.scale[0] = 0.001;
    s.offset_value[0] = 1.0;
    s.no_data = -32768;
    const ExtraDim sd = w.add_extra_dim(s);
    EXPECT_EQ(hd.offset, 36u);
    EXPECT_EQ(sd.offset, 40u);
    EXPECT_EQ(w.record_length(), 42u);
    RecordConverter conv(reader.info(), w.header());
    const auto in = reader.read_all_records();
    std::vector<uint8_t> recs(1065 * 42);
    conv.convert(in.data(), 1065, recs.data());
    for (uint64_t i = 0; i < 1065; ++i) {
      set_extra_value(&recs[i * 42], hd, i * 0.25);
      set_extra_value(&recs[i * 42], sd, 1.0 + (int(i % 2001) - 1000) * 0.001);
    }
    w.write_records(recs.data(), 1065);
    w.close();

    const LasFileInfo info = read_las_info(out);
    ASSERT_EQ(info.extra_dims.size(), 2u);
    EXPECT_EQ(info.extra_dims[0].name, f.name);
    EXPECT_EQ(info.extra_dims[0].type, ExtraType::kF32);
    EXPECT_EQ(info.extra_dims[0].description, "metres");
    EXPECT_EQ(info.extra_dims[1].name, "planarity");
    EXPECT_EQ(info.extra_dims[1].type, ExtraType::kI16);
    EXPECT_TRUE(info.extra_dims[1].has_scale());
    EXPECT_TRUE(info.extra_dims[1].has_offset());
    EXPECT_DOUBLE_EQ(info.extra_dims[1].scale[0], 0.001);
    EXPECT_EQ(info.extra_dims[1].no_data, -32768.0);
    const auto back = PointReader(out).read_all_records();
    ASSERT_EQ(back, recs);
    for (uint64_t i = 0; i < 1065; i += 13) {
      EXPECT_FLOAT_EQ(float(get_extra_value(&back[i * 42], info.extra_dims[0])), i * 0.25f);
      EXPECT_NEAR(get_extra_value(&back[i * 42], info.extra_dims[1]),
                  1.0 + (int(i % 2001) - 1000) * 0.001, 1e-9);
    }
  }
}

TEST(Writer, ExtraValueRangeChecks) {
  ExtraDim d;
  d.name = "v";
  d.type = ExtraType::kU8;
  d.offset = 0;
  uint8_t rec[8] = {};
  set_extra_value(rec, d, 255);
  EXPECT_EQ(rec[0], 255);
  EXPECT_THROW(set_extra_value(rec, d, 256), lidarhd::ArgumentError);
  EXPECT_THROW(set_extra_value(rec, d, -1), lidarhd::ArgumentError);
  EXPECT_THROW(set_extra_value(rec, d, std::nan("")), lidarhd::ArgumentError);
  d.type = ExtraType::kF32;
  EXPECT_THROW(set_extra_value(rec, d, 1e300), lidarhd::ArgumentError);
  EXPECT_EQ(parse_extra_type("float32"), ExtraType::kF32);
  EXPECT_THROW(parse_extra_type("complex"), lidarhd::ArgumentError);
}

TEST(Writer, RejectsBadExtraDimensions) {
  TempDir tmp;
  LasWriter w(tmp / "n.las", make_las_info(6, {0.01, 0.01, 0.01}, {0, 0, 0}));
  ExtraDim d;
  d.type = ExtraType::kF32;
  d.name = std::string(33, 'n');
  try {
    w.add_extra_dim(d);
    FAIL() << "a 33-byte name was accepted";
  } catch (const lidarhd::ArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("32"), std::string::npos) << e.what();
  }
  d.name = "";
  EXPECT_THROW(w.add_extra_dim(d), lidarhd::ArgumentError);
  d.name = "ok";
  w.add_extra_dim(d);
  EXPECT_THROW(w.add_extra_dim(d), lidarhd::ArgumentError);  // duplicate
  d.name = "desc";
  d.description = std::string(40, 'd');
  EXPECT_THROW(w.add_extra_dim(d), lidarhd::ArgumentError);
}

TEST(Writer, CoordinateOverflowIsAClearError) {
  EXPECT_EQ(to_stored(1234.567, 0.01, 1000, 'x'), 23457);
  EXPECT_EQ(to_stored(-0.004, 0.01, 0, 'y'), 0);
  try {
    to_stored(1e12, 0.01, 0, 'x');
    FAIL() << "1e12 fitted an int32 with scale 0.01";
  } catch (const lidarhd::ArgumentError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("x = 1e+12 does not fit"), std::string::npos) << msg;
    EXPECT_NE(msg.find("scale 0.01 and offset 0"), std::string::npos) << msg;
    EXPECT_NE(msg.find("choose a larger scale"), std::string::npos) << msg;
  }
  EXPECT_THROW(to_stored(std::nan(""), 1, 0, 'z'), lidarhd::ArgumentError);
  EXPECT_THROW(to_stored(2147483648.0, 1, 0, 'z'), lidarhd::ArgumentError);
  EXPECT_EQ(to_stored(2147483647.0, 1, 0, 'z'), 2147483647);
}

// Re-quantising with a scale too fine for the data fails and leaves no output behind.
TEST(Writer, RequantisationOverflowLeavesNoFile) {
  REQUIRE_DATA("laz-rs/point10.las");
  TempDir tmp;
  WriteOptions wo;
  wo.scale = std::array<double, 3>{1e-9, 1e-9, 1e-9};
  try {
    convert(path, tmp / "fine.las", wo);
    FAIL() << "coordinates fitted an int32 with scale 1e-9";
  } catch (const lidarhd::ArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("does not fit a 32-bit integer"), std::string::npos);
  }
  EXPECT_TRUE(tmp.entries().empty());
}

TEST(Writer, RequantisationKeepsCoordinates) {
  REQUIRE_DATA("laz-rs/point10.las");
  TempDir tmp;
  WriteOptions wo;
  const LasHeader src = read_las_info(path).header;
  wo.scale = std::array<double, 3>{0.001, 0.001, 0.001};
  wo.offset = std::array<double, 3>{std::floor(src.min[0]), std::floor(src.min[1]), 0};
  convert(path, tmp / "q.las", wo);
  const PointTable a = PointReader(path).read_table(), b = PointReader(tmp / "q.las").read_table();
  ASSERT_EQ(a.size(), b.size());
  for (uint64_t i = 0; i < a.size(); ++i) {
    ASSERT_NEAR(a.x(i), b.x(i), 1e-6);
    ASSERT_NEAR(a.z(i), b.z(i), 1e-6);
  }
}

TEST(Writer, RefusesImpossibleVersions) {
  TempDir tmp;
  WriteOptions wo;
  wo.version_minor = 2;
  EXPECT_THROW(LasWriter(tmp / "v.las", make_las_info(6, {1, 1, 1}, {0, 0, 0}), wo),
               lidarhd::ArgumentError);
  wo.version_minor = 5;
  EXPECT_THROW(LasWriter(tmp / "v.las", make_las_info(0, {1, 1, 1}, {0, 0, 0}), wo),
               lidarhd::ArgumentError);
  EXPECT_TRUE(tmp.entries().empty());
}

// EVLRs stay EVLRs in 1.4 (after the chunk table in LAZ) and become VLRs in 1.2.
TEST(Writer, EvlrsCarriedOver) {
  REQUIRE_DATA("laspy/1_4_w_evlr.laz");
  TempDir tmp;
  const LasFileInfo src = read_las_info(path);
  ASSERT_FALSE(src.evlrs.empty());
  WriteOptions wo;
  wo.compressed = true;
  convert(path, tmp / "e.laz", wo);
  const LasFileInfo laz = read_las_info(tmp / "e.laz");
  ASSERT_EQ(laz.evlrs.size(), src.evlrs.size());
  EXPECT_GT(laz.header.evlr_start, laz.header.offset_to_points);
  // LAS 1.2 has no EVLRs: small ones become VLRs.
  LasFileInfo synthetic = make_las_info(1, {0.01, 0.01, 0.01}, {0, 0, 0});
  synthetic.evlrs = carried(src.evlrs);
  WriteOptions old;
  old.version_minor = 2;
  LasWriter(tmp / "e12.las", synthetic, old).close();
  const LasFileInfo v12 = read_las_info(tmp / "e12.las");
  EXPECT_EQ(v12.header.version_minor, 2);
  ASSERT_EQ(v12.vlrs.size(), synthetic.evlrs.size());
  for (size_t i = 0; i < v12.vlrs.size(); ++i)
    EXPECT_TRUE(same_vlr(v12.vlrs[i], synthetic.evlrs[i])) << v12.vlrs[i].user_id;
}

// LASzip's own files: re-encoding their records gives the same chunks and chunk table.
TEST(Writer, LazPointAreaIdenticalToLaszip) {
  for (const char* name : {"point10", "point-time-color"}) {
    const std::string las = data_dir() + "/laz-rs/" + name + ".las";
    const std::string laz = data_dir() + "/laz-rs/" + name + ".laz";
    if (!fs::exists(las) || !fs::exists(laz)) GTEST_SKIP() << "test data not found: " << las;
    TempDir tmp;
    for (unsigned threads : {1u, 2u}) {
      WriteOptions wo;
      wo.compressed = true;
      wo.threads = threads;
      convert(las, tmp / "o.laz", wo);
      const LasFileInfo ours = read_las_info(tmp / "o.laz"), theirs = read_las_info(laz);
      const auto a = file_bytes(tmp / "o.laz"), b = file_bytes(laz);
      const std::vector<uint8_t> area_a(a.begin() + ours.header.offset_to_points + 8, a.end());
      const std::vector<uint8_t> area_b(b.begin() + theirs.header.offset_to_points + 8, b.end());
      EXPECT_EQ(area_a.size(), area_b.size()) << name;
      EXPECT_TRUE(area_a == area_b) << name << ": point area differs from LASzip's";
      EXPECT_EQ(ours.laszip->chunk_size, 50000u);
      EXPECT_EQ(ours.laszip->compressor, 2);
      EXPECT_EQ(ours.laszip->version_major, 3);
      EXPECT_EQ(ours.laszip->version_minor, 4);
      EXPECT_EQ(ours.laszip->version_revision, 3);
    }
  }
}

// Small fixed and variable chunks: any thread count gives the same bytes.
TEST(Writer, LazBytesIndependentOfThreads) {
  REQUIRE_DATA("ign-pdal-tools/test_data_77055_627760_LA93_IGN69.laz");
  TempDir tmp;
  for (uint32_t chunk : {1000u, 7u, kVariableChunks}) {
    std::vector<std::vector<uint8_t>> files;
    for (unsigned threads : {1u, 2u, 5u}) {
      WriteOptions wo;
      wo.compressed = true;
      wo.chunk_size = chunk;
      wo.threads = threads;
      const std::string out = tmp / ("c" + std::to_string(threads) + ".laz");
      PointReader reader(path);
      LasWriter w(out, reader.info(), wo);
      std::vector<uint8_t> batch;
      lidarhd::util::Sha256 written;
      // Tiny chunks cost a model set-up each: 3000 points (428 chunks) are enough there.
      const uint64_t limit = chunk == 7u ? 3000 : UINT64_MAX;
      uint64_t n, k = 0, total = 0;
      while (total < limit && (n = reader.read_batch(batch, 1499)) > 0) {
        n = std::min(n, limit - total);
        w.write_records(batch.data(), n);
        written.update(batch.data(), n * w.record_length());
        total += n;
        if (chunk == kVariableChunks && ++k % 3 == 0) w.end_chunk();
      }
      w.close();
      EXPECT_EQ(file_sha(out, 2), written.hex_digest());
      files.push_back(file_bytes(out));
      const LasFileInfo info = read_las_info(out);
      EXPECT_EQ(info.laszip->chunk_size, chunk);
      EXPECT_EQ(info.laszip->compressor, 3);
    }
    EXPECT_TRUE(files[0] == files[1]) << "chunk size " << chunk;
    EXPECT_TRUE(files[0] == files[2]) << "chunk size " << chunk;
  }
}

void expect_no_file_written(const std::string& target) {
  try {
    LasWriter w(target, make_las_info(0, {1, 1, 1}, {0, 0, 0}));
    w.close();
    FAIL() << "writing " << target << " succeeded";
  } catch (const lidarhd::IoError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(target), std::string::npos) << msg;
    EXPECT_TRUE(msg.find("Not a directory") != std::string::npos ||
                msg.find("No such file") != std::string::npos ||
                msg.find("denied") != std::string::npos ||
                msg.find("not permitted") != std::string::npos)
        << msg;
  }
  EXPECT_FALSE(fs::exists(target));
}

TEST(Writer, UnwritableDestinations) {
  TempDir tmp;
  { std::ofstream(tmp / "plain_file") << "x"; }
  expect_no_file_written(tmp / "plain_file/out.las");  // under a non-directory
  expect_no_file_written("/proc/lidarhd_no_such_dir/out.las");
  expect_no_file_written("/proc/out.las");
  expect_no_file_written(tmp / "missing_dir/out.laz");
  EXPECT_EQ(tmp.entries().size(), 1u);
}

// A destination directory in the way of the rename: the error names it, nothing is left.
TEST(Writer, RenameFailureCleansUp) {
  TempDir tmp;
  fs::create_directories(tmp / "taken.las/inside");
  LasWriter w(tmp / "taken.las", make_las_info(0, {1, 1, 1}, {0, 0, 0}));
  EXPECT_THROW(w.close(), lidarhd::IoError);
  EXPECT_EQ(tmp.entries().size(), 1u);
}

// Disk full / file too large: every write is checked, the temporary file removed.
TEST(Writer, WriteErrorsAreReported) {
  TempDir tmp;
  struct rlimit old;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  auto previous = signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = old;
  small.rlim_cur = 100000;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  std::string message;
  try {
    LasWriter w(tmp / "big.las", make_las_info(0, {1, 1, 1}, {0, 0, 0}));
    std::vector<uint8_t> recs(20 * 100000, 0);
    w.write_records(recs.data(), 100000);
    w.close();
  } catch (const lidarhd::IoError& e) {
    message = e.what();
  }
  setrlimit(RLIMIT_FSIZE, &old);
  signal(SIGXFSZ, previous);
  EXPECT_NE(message.find("big.las"), std::string::npos) << message;
  EXPECT_NE(message.find("too large"), std::string::npos) << message;
  EXPECT_TRUE(tmp.entries().empty());
}

TEST(Writer, AbandonedWriterLeavesNothing) {
  TempDir tmp;
  {
    LasWriter w(tmp / "a.laz", make_las_info(0, {1, 1, 1}, {0, 0, 0}),
                [] { WriteOptions o; o.compressed = true; return o; }());
    std::vector<uint8_t> recs(20 * 10, 0);
    w.write_records(recs.data(), 10);
    EXPECT_EQ(tmp.entries().size(), 1u);
    EXPECT_EQ(tmp.entries()[0].rfind(".a.laz.tmp-", 0), 0u) << tmp.entries()[0];
  }
  EXPECT_TRUE(tmp.entries().empty());
}

// A process killed mid-write leaves a hidden temporary file, never the final name.
TEST(Writer, KilledProcessLeavesNoFinalFile) {
  TempDir tmp;
  const std::string target = tmp / "k.las";
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    LasWriter w(target, make_las_info(0, {1, 1, 1}, {0, 0, 0}));
    std::vector<uint8_t> recs(20 * 100000, 0);
    w.write_records(recs.data(), 100000);
    raise(SIGKILL);
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_FALSE(fs::exists(target));
  const auto names = tmp.entries();
  ASSERT_EQ(names.size(), 1u);
  EXPECT_EQ(names[0].rfind(".k.las.tmp-", 0), 0u) << names[0];
}

TEST(Writer, OverwritesAtomically) {
  REQUIRE_DATA("laz-rs/point10.las");
  TempDir tmp;
  { std::ofstream(tmp / "o.las") << "old content"; }
  convert(path, tmp / "o.las", {});
  EXPECT_EQ(file_sha(tmp / "o.las"),
            "d2033d0504e6b849a1301368703f90c77eda09c93e5d623e89cab06cb98ad63f");
  EXPECT_EQ(tmp.entries().size(), 1u);
}

}  // namespace
