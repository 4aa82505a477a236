// LAS container internals: chunk tables, COPC hierarchy, CRS parsing, the point table, byte
// sources and SHA-256, on real files of ../shared/data and on synthetic corruptions.
#include <gtest/gtest.h>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "io/copc/copc.hpp"
#include "io/laz/chunk_table.hpp"
#include "las_test_util.hpp"
#include "lidarhd/core/error.hpp"
#include "lidarhd/io/byte_source.hpp"
#include "lidarhd/io/las.hpp"
#include "lidarhd/io/point_table.hpp"
#include "util/sha256.hpp"

namespace {

using namespace lidarhd;
using namespace lidarhd::io;
using namespace lidarhd::test;

struct CopcExpected {
  const char* path;
  size_t nodes, pages;
  int max_depth;
  uint64_t points;
};

TEST(CopcHierarchy, HierarchyMatchesReadme) {
  const CopcExpected cases[] = {
      {"ctview/test_data_77050_627755_LA93_IGN69.copc.laz", 5, 1, 1, 21172},
      {"laspy/simple.copc.laz", 65, 1, 3, 1065},
      {"laspy/simple_with_page.copc.laz", 65, 2, 3, 1065},
      {"copc.js/ellipsoid.copc.laz", 5, 1, 1, 100000},
      {"las-rs/autzen.copc.laz", 1, 1, 0, 107},
  };
  for (const CopcExpected& c : cases) {
    const std::string path = data_dir() + "/" + c.path;
    if (!file_exists(path)) GTEST_SKIP() << "test data not found: " << path;
    SCOPED_TRACE(c.path);
    auto src = open_file_source(path);
    const LasFileInfo info = read_las_info(*src);
    const copc::Hierarchy hier(*src, info);
    EXPECT_EQ(hier.page_count(), c.pages);
    EXPECT_EQ(hier.max_depth(), c.max_depth);
    EXPECT_EQ(hier.total_points(), c.points);
    const auto all = hier.select(std::nullopt, -1);
    EXPECT_EQ(all.size(), c.nodes);
    uint64_t sum = 0;
    for (const CopcNode& n : all) sum += uint64_t(n.point_count);
    EXPECT_EQ(sum, c.points);
    // Every data node is also a chunk of the regular chunk table.
    const laz::ChunkTable t = laz::read_chunk_table(*src, info);
    ASSERT_TRUE(t.usable) << t.problem;
    EXPECT_EQ(t.chunks.size(), c.nodes);
    for (const CopcNode& n : all) {
      bool found = false;
      for (const ChunkInfo& ch : t.chunks)
        found |= ch.offset == n.offset && ch.bytes == uint64_t(n.byte_size) &&
                 ch.point_count == uint64_t(n.point_count);
      EXPECT_TRUE(found) << "node " << n.level << "-" << n.x << "-" << n.y << "-" << n.z;
    }
    // Level 0 only: the root.
    const auto root = hier.select(std::nullopt, 0);
    ASSERT_EQ(root.size(), 1u);
    EXPECT_EQ(root[0].level, 0);
    for (int i = 0; i < 3; ++i) {
      EXPECT_DOUBLE_EQ(root[0].bounds.min[i], info.copc->center[i] - info.copc->halfsize);
      EXPECT_DOUBLE_EQ(root[0].bounds.max[i], info.copc->center[i] + info.copc->halfsize);
    }
    // A box far away selects nothing; a box in one octant drops the other octants' nodes.
    Box far;
    far.min = {1e12, 1e12, 1e12};
    far.max = {2e12, 2e12, 2e12};
    EXPECT_TRUE(hier.select(far, -1).empty());
    if (c.max_depth > 0) {
      Box corner;
      corner.max = {info.copc->center[0] - 1e-6, info.copc->center[1] - 1e-6, 1e300};
      const auto part = hier.select(corner, -1);
      EXPECT_LT(part.size(), all.size());
      for (const CopcNode& n : part) {
        EXPECT_LE(n.bounds.min[0], corner.max[0]);
        EXPECT_LE(n.bounds.min[1], corner.max[1]);
      }
    }
  }
}

TEST(Crs, Wkt) {
  EXPECT_EQ(parse_wkt_crs("PROJCS[\"a\",GEOGCS[\"g\",AUTHORITY[\"EPSG\",\"4171\"]],"
                          "AUTHORITY[\"EPSG\",\"2154\"]]")
                .to_string(),
            "EPSG:2154");
  const Crs w2 = parse_wkt_crs(
      "PROJCRS[\"RGF93 v1 / Lambert-93\",BASEGEOGCRS[\"x\",ID[\"EPSG\",4171]],"
      "CS[Cartesian,2],ID[\"EPSG\",2154]]");
  EXPECT_EQ(w2.epsg, 2154);
  EXPECT_EQ(w2.name, "RGF93 v1 / Lambert-93");
  EXPECT_EQ(w2.source, "wkt");
  EXPECT_EQ(parse_wkt_crs("COMPOUNDCRS[\"c\",PROJCRS[\"h\",ID[\"EPSG\",2154]],"
                          "VERTCRS[\"v\",ID[\"EPSG\",5720]]]")
                .to_string(),
            "EPSG:2154+5720");
  EXPECT_EQ(parse_wkt_crs("COMPOUNDCRS[\"c\",PROJCRS[\"h\"],VERTCRS[\"v\"],ID[\"EPSG\",5698]]")
                .to_string(),
            "EPSG:5698");
  EXPECT_EQ(parse_wkt_crs("BOUNDCRS[SOURCECRS[PROJCRS[\"s\",ID[\"EPSG\",32631]]],"
                          "TARGETCRS[GEOGCRS[\"t\",ID[\"EPSG\",4326]]]]")
                .to_string(),
            "EPSG:32631");
  // No authority on the outermost node: a nested one must not be taken.
  EXPECT_EQ(parse_wkt_crs("PROJCS[\"x\",GEOGCS[\"g\",AUTHORITY[\"EPSG\",\"4326\"]]]").to_string(),
            "none");
  EXPECT_EQ(parse_wkt_crs("PROJCS[\"quote \"\"in\"\" name\"]").name, "quote \"in\" name");
  // Garbage and hostile nesting: no CRS, no crash.
  for (const std::string& bad :
       {std::string(""), std::string("PROJCS["), std::string("[[[]]"), std::string(100000, '['),
        std::string("A[") + std::string(5000, 'B') + "[", std::string("PROJCS[\"unterminated")}) {
    EXPECT_EQ(parse_wkt_crs(bad).to_string(), "none");
  }
  std::string deep;
  for (int i = 0; i < 10000; ++i) deep += "A[";
  EXPECT_EQ(parse_wkt_crs(deep).to_string(), "none");
}

TEST(Crs, GeoTiffKeys) {
  const auto keys = [](std::vector<uint16_t> k) {
    std::vector<uint8_t> d(k.size() * 2);
    std::memcpy(d.data(), k.data(), d.size());
    return Vlr{"LASF_Projection", 34735, "", d};
  };
  EXPECT_EQ(parse_crs({keys({1, 1, 0, 1, 3072, 0, 1, 2154})}, {}).to_string(), "EPSG:2154");
  EXPECT_EQ(parse_crs({keys({1, 1, 0, 2, 2048, 0, 1, 4326, 3072, 0, 1, 32767})}, {}).to_string(),
            "EPSG:4326");
  EXPECT_EQ(parse_crs({keys({1, 1, 0, 1, 3072, 0, 1, 32767})}, {}).to_string(), "none");
  EXPECT_EQ(parse_crs({keys({1, 1, 0, 200, 3072, 0, 1, 2154})}, {}).to_string(), "EPSG:2154");
  EXPECT_EQ(parse_crs({keys({1, 1})}, {}).to_string(), "none");
  // The WKT wins when it has a code; the GeoTIFF keys fill in when it has none.
  Vlr wkt{"LASF_Projection", 2112, "", {}};
  const std::string text = "GEOGCS[\"Geographic Coordinate System\"]";
  wkt.data.assign(text.begin(), text.end());
  wkt.data.push_back(0);
  const Crs c = parse_crs({keys({1, 1, 0, 1, 2048, 0, 1, 4326})}, {wkt});
  EXPECT_EQ(c.to_string(), "EPSG:4326");
  EXPECT_EQ(c.source, "geotiff");
  EXPECT_EQ(c.name, "Geographic Coordinate System");
}

TEST(LazChunkTable, SyntheticProblems) {
  REQUIRE_DATA("laz-rs/point10.laz");
  const std::vector<uint8_t> orig = read_file(path);
  auto table_of = [](const std::vector<uint8_t>& bytes) {
    auto src = memory_source(bytes.data(), bytes.size(), "mem.laz");
    const LasFileInfo info = read_las_info(*src);
    return laz::read_chunk_table(*src, info);
  };
  const laz::ChunkTable base = table_of(orig);
  ASSERT_TRUE(base.usable) << base.problem;
  ASSERT_EQ(base.chunks.size(), 1u);
  EXPECT_EQ(base.chunks[0].bytes, 9633u);  // laz-format.md section 3 example
  const uint32_t otp = base.data_start - 8;
  uint64_t table_pos;
  std::memcpy(&table_pos, orig.data() + otp, 8);

  // Pointer -1: the real offset is in the last 8 bytes.
  auto b = orig;
  put<int64_t>(b, otp, -1);
  put<uint64_t>(b, b.size(), table_pos);
  laz::ChunkTable t = table_of(b);
  ASSERT_TRUE(t.usable) << t.problem;
  EXPECT_EQ(t.chunks[0].bytes, 9633u);

  // Pointer to itself (unfinished writer): no table, fixed-size layout for a sequential walk.
  b = orig;
  put<int64_t>(b, otp, int64_t(otp));
  t = table_of(b);
  EXPECT_FALSE(t.usable);
  EXPECT_NE(t.problem.find("points at itself"), std::string::npos) << t.problem;
  ASSERT_EQ(t.chunks.size(), 1u);
  EXPECT_EQ(t.chunks[0].point_count, 1065u);

  // Pointer past the end, and into the chunk data (sizes then do not end at the "table").
  b = orig;
  put<int64_t>(b, otp, int64_t(1) << 40);
  EXPECT_NE(table_of(b).problem.find("outside the point data area"), std::string::npos);
  b = orig;
  put<int64_t>(b, otp, int64_t(table_pos - 100));
  t = table_of(b);
  EXPECT_FALSE(t.usable);
  EXPECT_FALSE(t.problem.empty());

  // Truncated table; absurd chunk count; wrong version.
  b.assign(orig.begin(), orig.begin() + table_pos + 9);
  t = table_of(b);
  EXPECT_FALSE(t.usable);
  b = orig;
  put<uint32_t>(b, table_pos + 4, 0x7FFFFFFFu);
  EXPECT_NE(table_of(b).problem.find("can hold at most"), std::string::npos);
  b = orig;
  put<uint32_t>(b, table_pos, 3);
  EXPECT_NE(table_of(b).problem.find("version 3"), std::string::npos);

  // A header count that the table disagrees with.
  b = orig;
  put<uint32_t>(b, 107, 200000);
  t = table_of(b);
  EXPECT_FALSE(t.usable);
  EXPECT_NE(t.problem.find("need 4"), std::string::npos) << t.problem;
}

TEST(CopcHierarchy, SyntheticProblems) {
  REQUIRE_DATA("laspy/simple_with_page.copc.laz");
  const std::vector<uint8_t> orig = read_file(path);
  const auto load = [](const std::vector<uint8_t>& bytes) {
    auto src = memory_source(bytes.data(), bytes.size(), "mem.copc.laz");
    const LasFileInfo info = read_las_info(*src);
    copc::Hierarchy h(*src, info);
    return h.select(std::nullopt, -1).size();
  };
  ASSERT_EQ(load(orig), 65u);
  auto src = memory_source(orig.data(), orig.size(), "x");
  const LasFileInfo info = read_las_info(*src);
  const uint64_t root = info.copc->root_hier_offset;
  const uint64_t n = info.copc->root_hier_size / 32;
  // Find the child-page entry and make it point back at the root page (a cycle).
  size_t page_entry = n;
  for (size_t i = 0; i < n; ++i) {
    int32_t count;
    std::memcpy(&count, orig.data() + root + 32 * i + 28, 4);
    if (count == -1) page_entry = i;
  }
  ASSERT_LT(page_entry, n);
  auto b = orig;
  put<uint64_t>(b, root + 32 * page_entry + 16, root);
  put<int32_t>(b, root + 32 * page_entry + 24, int32_t(info.copc->root_hier_size));
  try {
    load(b);
    ADD_FAILURE() << "cycle accepted";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("referenced more than once"), std::string::npos);
  }
  // A data entry past the end of the file; an impossible key; a bad point count.
  const size_t data_entry = page_entry == 0 ? 1 : 0;
  b = orig;
  put<uint64_t>(b, root + 32 * data_entry + 16, uint64_t(1) << 40);
  EXPECT_THROW(load(b), FormatError);
  b = orig;
  put<int32_t>(b, root + 32 * data_entry + 4, 1000);
  EXPECT_THROW(load(b), FormatError);
  b = orig;
  put<int32_t>(b, root + 32 * data_entry + 28, -7);
  EXPECT_THROW(load(b), FormatError);
}

TEST(PointTable, Pdrf3AndPdrf6Columns) {
  // PDRF 3 + 2 extra bytes (one u16 dim), two records.
  auto file = make_las(2, 3, 36, 2, {{"LASF_Spec", 4, extra_descriptor(3, "amp")}});
  const LasFileInfo info = info_of(file);
  std::vector<uint8_t> rec(72, 0);
  put<int32_t>(rec, 0, -5);
  put<int32_t>(rec, 8, 7);
  put<uint16_t>(rec, 12, 1234);
  rec[14] = uint8_t(2 | (3 << 3) | (1 << 6));
  rec[15] = uint8_t(6 | (1 << 5) | (1 << 7));
  rec[16] = uint8_t(int8_t(-12));
  put<double>(rec, 20, 42.5);
  put<uint16_t>(rec, 28, 65535);
  put<uint16_t>(rec, 34, 777);
  put<int32_t>(rec, 36, 9);
  PointTable t = records_to_table(info, rec.data(), 2);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t.column("X").data<int32_t>()[0], -5);
  EXPECT_EQ(t.column("X").data<int32_t>()[1], 9);
  EXPECT_EQ(t.column("intensity").data<uint16_t>()[0], 1234);
  EXPECT_EQ(t.column("return_number").data<uint8_t>()[0], 2);
  EXPECT_EQ(t.column("number_of_returns").data<uint8_t>()[0], 3);
  EXPECT_EQ(t.column("scan_direction_flag").data<uint8_t>()[0], 1);
  EXPECT_EQ(t.column("edge_of_flight_line").data<uint8_t>()[0], 0);
  EXPECT_EQ(t.column("classification").data<uint8_t>()[0], 6);
  EXPECT_EQ(t.column("synthetic").data<uint8_t>()[0], 1);
  EXPECT_EQ(t.column("withheld").data<uint8_t>()[0], 1);
  EXPECT_EQ(t.column("scan_angle_rank").type, ColumnType::kI8);
  EXPECT_EQ(t.column("scan_angle_rank").data<int8_t>()[0], -12);
  EXPECT_EQ(t.column("gps_time").data<double>()[0], 42.5);
  EXPECT_EQ(t.column("red").data<uint16_t>()[0], 65535);
  EXPECT_EQ(t.column("amp").type, ColumnType::kU16);
  EXPECT_EQ(t.column("amp").data<uint16_t>()[0], 777);
  EXPECT_FALSE(t.has("overlap"));
  EXPECT_DOUBLE_EQ(t.x(0), -0.05);
  EXPECT_DOUBLE_EQ(t.z(0), 0.07);
  EXPECT_THROW(t.column("nope"), ArgumentError);
  append_records(t, info, rec.data(), 1);
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t.column("amp").data<uint16_t>()[2], 777);
  EXPECT_EQ(t.column("X").data<int32_t>()[2], -5);

  // PDRF 8: 1.4 bit layout and the undocumented leftover bytes.
  const LasFileInfo info8 = info_of(make_las(4, 8, 40, 1));
  std::vector<uint8_t> r8(40, 0);
  r8[14] = uint8_t(9 | (12 << 4));
  r8[15] = uint8_t(0x8 | (2 << 4) | 0x80);
  r8[16] = 200;
  put<int16_t>(r8, 18, -30000);
  put<uint16_t>(r8, 36, 4321);
  r8[38] = 0xAB;
  r8[39] = 0xCD;
  const PointTable t8 = records_to_table(info8, r8.data(), 1);
  EXPECT_EQ(t8.column("return_number").data<uint8_t>()[0], 9);
  EXPECT_EQ(t8.column("number_of_returns").data<uint8_t>()[0], 12);
  EXPECT_EQ(t8.column("overlap").data<uint8_t>()[0], 1);
  EXPECT_EQ(t8.column("scanner_channel").data<uint8_t>()[0], 2);
  EXPECT_EQ(t8.column("edge_of_flight_line").data<uint8_t>()[0], 1);
  EXPECT_EQ(t8.column("classification").data<uint8_t>()[0], 200);
  EXPECT_EQ(t8.column("scan_angle").data<int16_t>()[0], -30000);
  EXPECT_EQ(t8.column("nir").data<uint16_t>()[0], 4321);
  EXPECT_EQ(t8.column("extra_bytes_38[0]").data<uint8_t>()[0], 0xAB);
  EXPECT_EQ(t8.column("extra_bytes_38[1]").data<uint8_t>()[0], 0xCD);
  EXPECT_FALSE(t8.has("scan_angle_rank"));
}

TEST(PointTable, RealFileColumns) {
  REQUIRE_DATA("laz-rs/point-time-color.las");
  auto src = open_file_source(path);
  const LasFileInfo info = read_las_info(*src);
  const auto rec = src->read_vector(info.header.offset_to_points,
                                    size_t(info.header.point_count * info.header.record_length));
  const PointTable t = records_to_table(info, rec.data(), info.header.point_count);
  // README first point and sums.
  EXPECT_EQ(t.column("X").data<int32_t>()[0], 49442861);
  EXPECT_EQ(t.column("Y").data<int32_t>()[0], 487745558);
  EXPECT_EQ(t.column("classification").data<uint8_t>()[0], 1);
  EXPECT_EQ(t.column("scan_angle_rank").data<int8_t>()[0], -9);
  EXPECT_EQ(t.column("user_data").data<uint8_t>()[0], 132);
  EXPECT_EQ(t.column("red").data<uint16_t>()[0], 68);
  int64_t sum_x = 0, sum_i = 0;
  for (uint64_t i = 0; i < t.size(); ++i) {
    sum_x += t.column("X").data<int32_t>()[i];
    sum_i += t.column("intensity").data<uint16_t>()[i];
  }
  EXPECT_EQ(sum_x, 52663681664);
  EXPECT_EQ(sum_i, 81361);
}

TEST(ByteSource, Errors) {
  const uint8_t data[10] = {};
  auto m = memory_source(data, sizeof(data), "buf");
  uint8_t out[8];
  try {
    m->read(5, 8, out);
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_STREQ(e.what(), "las: buf is truncated: needs bytes 5..13, file has 10");
  }
  EXPECT_THROW(m->read(~uint64_t(0), 2, out), FormatError);  // no wrap-around
  m->read(10, 0, out);
  try {
    open_file_source("/nonexistent/dir/file.laz");
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/file.laz"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("No such file"), std::string::npos);
  }
  EXPECT_THROW(read_las_info("/nonexistent.las"), IoError);
}

TEST(Sha256, KnownDigests) {
  EXPECT_EQ(util::sha256_hex("abc", 3),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  util::Sha256 h;
  EXPECT_EQ(h.hex_digest(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  h.update("a", 1);
  h.update("bc", 2);
  EXPECT_EQ(h.hex_digest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
