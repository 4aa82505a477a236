// LAS container: read_las_info on every real file of ../shared/data against its README, the
// corrupt _nok file, and synthetic broken headers, VLRs, LASzip VLRs and Extra Bytes VLRs.
#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <vector>

#include "io/laz/chunk_table.hpp"
#include "io/laz/laszip_vlr.hpp"
#include "las_test_util.hpp"
#include "lidarhd/core/error.hpp"
#include "lidarhd/io/byte_source.hpp"
#include "lidarhd/io/las.hpp"
#include "util/sha256.hpp"

namespace {

using namespace lidarhd;
using namespace lidarhd::io;
using namespace lidarhd::test;

// Expected values, copied from ../shared/data/README.md.
struct Expected {
  const char* path;
  uint64_t size;
  int minor, pdrf;
  uint64_t points;
  int record_length, header_size;
  uint32_t offset_to_points;
  int compressor;  // 0 = not compressed
  const char* laszip_version;
  uint32_t chunk_size;
  const char* items;
  bool copc;
  const char* crs;
  const char* extra;  // "name:type;..." (raw Extra Bytes data types)
  int vlr_count;
  const char* vlrs;  // "user/record (N B), ..."
  int evlr_count;
  uint64_t evlr_start;
  const char* evlrs;
  const char* records_sha256;  // uncompressed files only
};

// clang-format off
const Expected kFiles[] = {
    {"ign-pdal-tools/test_data_77055_627760_LA93_IGN69.laz",
     234300, 4, 8, 60653, 38, 375, 1947, 3, "3.4r3", 50000u,
     "POINT14(size=30,v3), RGBNIR14(size=8,v3)",
     false, "EPSG:2154", "", 3,
     "LASF_Projection/2112 (682 B), liblas/2112 (682 B), laszip encoded/22204 (46 B)",
     0, 0, "",
     ""},
    {"ign-pdal-tools/test_data_77050_627755_LA93_IGN69.laz",
     309612, 4, 8, 73355, 38, 375, 1947, 3, "3.4r3", 50000u,
     "POINT14(size=30,v3), RGBNIR14(size=8,v3)",
     false, "EPSG:2154", "", 3,
     "LASF_Projection/2112 (682 B), liblas/2112 (682 B), laszip encoded/22204 (46 B)",
     0, 0, "",
     ""},
    {"ign-pdal-tools/test_data_77050_627760_LA93_IGN69.laz",
     207944, 4, 8, 56035, 38, 375, 1947, 3, "3.4r3", 50000u,
     "POINT14(size=30,v3), RGBNIR14(size=8,v3)",
     false, "EPSG:2154", "", 3,
     "LASF_Projection/2112 (682 B), liblas/2112 (682 B), laszip encoded/22204 (46 B)",
     0, 0, "",
     ""},
    {"ign-pdal-tools/test_data_77055_627755_LA93_IGN69.laz",
     258816, 4, 8, 72770, 38, 375, 1947, 3, "3.4r3", 50000u,
     "POINT14(size=30,v3), RGBNIR14(size=8,v3)",
     false, "EPSG:2154", "", 3,
     "LASF_Projection/2112 (682 B), liblas/2112 (682 B), laszip encoded/22204 (46 B)",
     0, 0, "",
     ""},
    {"ign-pdal-tools/test_data_77060_627760_LA93_IGN69.laz",
     230913, 4, 8, 59606, 38, 375, 1947, 3, "3.4r3", 50000u,
     "POINT14(size=30,v3), RGBNIR14(size=8,v3)",
     false, "EPSG:2154", "", 3,
     "LASF_Projection/2112 (682 B), liblas/2112 (682 B), laszip encoded/22204 (46 B)",
     0, 0, "",
     ""},
    {"ign-pdal-tools/test_data_77055_627755_LA93_IGN69_extra_dims.laz",
     337601, 4, 8, 72770, 54, 375, 2391, 3, "3.4r3", 50000u,
     "POINT14(size=30,v3), RGBNIR14(size=8,v3), BYTE14(size=16,v3)",
     false, "EPSG:2154", "dtm_marker:10;dsm_marker:10", 4,
     "LASF_Spec/4 (384 B), LASF_Projection/2112 (682 B), liblas/2112 (682 B), "
     "laszip encoded/22204 (52 B)",
     0, 0, "",
     ""},
    {"ign-pdal-tools/test_semis_2023_0292_6833_LA93_IGN69.laz",
     3057033, 4, 6, 289055, 30, 375, 1941, 3, "3.4r3", 50000u,
     "POINT14(size=30,v3)",
     false, "EPSG:2154", "", 3,
     "LASF_Projection/2112 (682 B), liblas/2112 (682 B), laszip encoded/22204 (40 B)",
     0, 0, "",
     ""},
    {"ign-pdal-tools/las_with_several_extra_byte_bloc.laz",
     3240041, 4, 8, 697721, 41, 375, 2123, 3, "3.4r3", 50000u,
     "POINT14(size=30,v3), RGBNIR14(size=8,v3), BYTE14(size=3,v3)",
     false, "EPSG:2154", "Deviation:3;confidence:1", 5,
     "LASF_Projection/34735 (16 B), LASF_Projection/2112 (1026 B), "
     "LASF_Spec/4 (192 B), LASF_Spec/4 (192 B), laszip encoded/22204 (52 B)",
     0, 0, "",
     ""},
    {"ign-pdal-tools/crop_duplicate.laz",
     11408, 4, 8, 849, 43, 375, 2561, 3, "3.4r3", 50000u,
     "POINT14(size=30,v3), RGBNIR14(size=8,v3), BYTE14(size=5,v3)",
     false, "EPSG:2154", "Infrared:3;Deviation:3;confidence:1", 4,
     "LASF_Spec/4 (576 B), LASF_Projection/2112 (671 B), liblas/2112 (671 B), "
     "laszip encoded/22204 (52 B)",
     0, 0, "",
     ""},
    {"ign-pdal-tools/sample_lareunion_epsg2975.laz",
     326842, 4, 8, 59712, 38, 375, 1843, 3, "3.4r3", 50000u,
     "POINT14(size=30,v3), RGBNIR14(size=8,v3)",
     false, "EPSG:2975", "", 3,
     "LASF_Projection/2112 (630 B), liblas/2112 (630 B), laszip encoded/22204 (46 B)",
     0, 0, "",
     ""},
    {"ign-pdal-tools/test_data_0436_6384_LA93_IGN69_single_point.laz",
     590, 4, 8, 1, 38, 375, 475, 3, "2.2r0", 50000u,
     "POINT14(size=30,v3), RGBNIR14(size=8,v3)",
     false, "none", "", 1,
     "laszip encoded/22204 (46 B)",
     0, 0, "",
     ""},
    {"ign-pdal-tools/test_noepsg_043500_629205_IGN69.laz",
     70698, 2, 3, 17845, 34, 227, 482, 2, "3.4r3", 50000u,
     "POINT10(size=20,v2), GPSTIME11(size=8,v2), RGB12(size=6,v2)",
     false, "none", "", 3,
     "LASF_Projection/34735 (32 B), LASF_Projection/34737 (9 B), "
     "laszip encoded/22204 (52 B)",
     0, 0, "",
     ""},
    {"ign-pdal-tools/test_pdalfail_0643_6319_LA93_IGN69.laz",
     2714, 4, 8, 89, 53, 375, 1673, 3, "3.4r3", 50000u,
     "POINT14(size=30,v3), RGBNIR14(size=8,v3), BYTE14(size=15,v3)",
     false, "EPSG:65535", "Deviation:3;confidence:1;Distance:6;Group:5;Normal:5", 5,
     "LASF_Projection/34735 (16 B), LASF_Spec/4 (192 B), LASF_Spec/4 (192 B), "
     "LASF_Spec/4 (576 B), laszip encoded/22204 (52 B)",
     0, 0, "",
     ""},
    {"ign-pdal-tools/Semis_2022_0906_6665_LA93_IGN69_ok.laz",
     625017, 4, 7, 64572, 36, 375, 1947, 3, "3.4r3", 50000u,
     "POINT14(size=30,v3), RGB14(size=6,v3)",
     false, "EPSG:2154", "", 3,
     "LASF_Projection/2112 (682 B), liblas/2112 (682 B), laszip encoded/22204 (46 B)",
     0, 0, "",
     ""},
    {"ctview/test_data_77050_627755_LA93_IGN69.copc.laz",
     109247, 4, 6, 21172, 30, 375, 737, 3, "3.4r3", 4294967295u,
     "POINT14(size=30,v3)",
     true, "none", "", 3,
     "copc/1 (160 B), laszip encoded/22204 (40 B), LASF_Projection/2112 (0 B)",
     2, 107263, "copc/1000 (160 B), qgis/0 (1704 B)",
     ""},
    {"ctview/test_data_77050_627755_LA93_IGN69.las",
     635535, 4, 6, 21172, 30, 375, 375, 0, "", 0u, "",
     false, "none", "", 0,
     "",
     0, 0, "",
     "224206d4ed0d458c5b8897049390a6e54a25cacb38b19a887a09efbfd4cca87b"},
    {"lidar-prod/870000_6618000.subset.postValidation.laz",
     1016866, 4, 8, 70840, 94, 375, 3351, 3, "3.4r3", 50000u,
     "POINT14(size=30,v3), RGBNIR14(size=8,v3), BYTE14(size=56,v3)",
     false, "EPSG:2154",
     "entropy:10;PredictedClassification:10;building:10;F_CandidateB:10;ClusterID:8;"
     "CID_CandidateB:8;BDTopoOverlay:10",
     4,
     "LASF_Spec/4 (1344 B), LASF_Projection/2112 (682 B), liblas/2112 (682 B), "
     "laszip encoded/22204 (52 B)",
     0, 0, "",
     ""},
    {"pdal-ign-plugin/68.laz",
     10552, 4, 6, 1000, 30, 375, 1755, 3, "2.2r0", 50000u,
     "POINT14(size=30,v3)",
     false, "EPSG:2154", "", 2,
     "LASF_Projection/2112 (1232 B), laszip encoded/22204 (40 B)",
     0, 0, "",
     ""},
    {"pdal-ign-plugin/crop_1.laz",
     573236, 4, 6, 210582, 31, 375, 2193, 3, "3.4r3", 50000u,
     "POINT14(size=30,v3), BYTE14(size=1,v3)",
     false, "EPSG:2154", "ScanChannel:1", 4,
     "LASF_Spec/4 (192 B), LASF_Projection/2112 (682 B), liblas/2112 (682 B), "
     "laszip encoded/22204 (46 B)",
     0, 0, "",
     ""},
    {"laspy/1_4_w_evlr.laz",
     8948, 4, 6, 1000, 30, 375, 2399, 3, "2.2r0", 50000u,
     "POINT14(size=30,v3)",
     false, "EPSG:2903", "", 3,
     "LASF_Projection/2112 (911 B), liblas/2112 (911 B), laszip encoded/22204 (40 B)",
     1, 8872, "pylastest/42 (16 B)",
     ""},
    {"laspy/simple.copc.laz",
     33684, 4, 7, 1065, 36, 375, 1709, 3, "3.4r3", 4294967295u,
     "POINT14(size=30,v3), RGB14(size=6,v3)",
     true, "EPSG:2991+6360", "", 3,
     "copc/1 (160 B), laszip encoded/22204 (46 B), LASF_Projection/2112 (966 B)",
     1, 31544, "copc/1000 (2080 B)",
     ""},
    {"laspy/simple_with_page.copc.laz",
     33716, 4, 7, 1065, 36, 375, 1709, 3, "3.4r3", 4294967295u,
     "POINT14(size=30,v3), RGB14(size=6,v3)",
     true, "EPSG:2991+6360", "", 3,
     "copc/1 (160 B), laszip encoded/22204 (46 B), LASF_Projection/2112 (966 B)",
     1, 31544, "copc/1000 (2112 B)",
     ""},
    {"laspy/extra.laz",
     29084, 4, 3, 1065, 61, 375, 1501, 2, "3.1r0", 50000u,
     "POINT10(size=20,v2), GPSTIME11(size=8,v2), RGB12(size=6,v2), BYTE(size=27,v2)",
     false, "none", "Colors:23;Reserved:0;Flags:12;Intensity:5;Time:7", 2,
     "LASF_Spec/4 (960 B), laszip encoded/22204 (58 B)",
     0, 0, "",
     ""},
    {"laspy/autzen_trim.laz",
     603353, 2, 3, 110000, 34, 227, 2144, 2, "2.2r0", 50000u,
     "POINT10(size=20,v2), GPSTIME11(size=8,v2), RGB12(size=6,v2)",
     false, "none", "", 6,
     "LASF_Projection/34735 (184 B), LASF_Projection/34736 (72 B), "
     "LASF_Projection/34737 (99 B), LASF_Projection/2112 (593 B), "
     "liblas/2112 (593 B), laszip encoded/22204 (52 B)",
     0, 0, "",
     ""},
    {"laspy/simple1_4.las",
     814388, 4, 7, 22600, 36, 375, 571, 0, "", 0u, "",
     false, "EPSG:4326", "", 2,
     "LASF_Projection/34735 (64 B), LASF_Projection/34736 (24 B)",
     1, 814171, "LASF_Projection/2112 (157 B)",
     "2854467625435251f7192600766132a6bfd737e3d72e1a762ac1aef5ab56d88e"},
    {"laspy/test1_4.las",
     32305, 4, 6, 1000, 30, 375, 2305, 0, "", 0u, "",
     false, "EPSG:2903", "", 2,
     "LASF_Projection/2112 (911 B), liblas/2112 (911 B)",
     0, 0, "",
     "923571fd0bdbfdc886522adcb5fccaa6462642142937b1a3c490519155d447ba"},
    {"laspy/unregistered_extra_bytes.las",
     511, 4, 6, 4, 34, 375, 375, 0, "", 0u, "",
     false, "none", "", 0,
     "",
     0, 0, "",
     "5c7065fca1170eec2706de842679d3c9f89d5bd90cf0c08889872f2255bdbd41"},
    {"pdal/laszip-generated.laz",
     18219, 2, 3, 1065, 34, 227, 335, 2, "2.0r1", 50000u,
     "POINT10(size=20,v2), GPSTIME11(size=8,v2), RGB12(size=6,v2)",
     false, "none", "", 1,
     "laszip encoded/22204 (52 B)",
     0, 0, "",
     ""},
    {"pdal/liblas-generated.laz",
     18249, 2, 3, 1065, 34, 227, 333, 2, "2.0r1", 50000u,
     "POINT10(size=20,v2), GPSTIME11(size=8,v2), RGB12(size=6,v2)",
     false, "none", "", 1,
     "laszip encoded/22204 (52 B)",
     0, 0, "",
     ""},
    {"laz-rs/point10.laz",
     9976, 2, 0, 1065, 20, 227, 321, 2, "2.2r0", 50000u,
     "POINT10(size=20,v2)",
     false, "none", "", 1,
     "laszip encoded/22204 (40 B)",
     0, 0, "",
     ""},
    {"laz-rs/point10.las",
     21527, 2, 0, 1065, 20, 227, 227, 0, "", 0u, "",
     false, "none", "", 0,
     "",
     0, 0, "",
     "d2033d0504e6b849a1301368703f90c77eda09c93e5d623e89cab06cb98ad63f"},
    {"laz-rs/point-time-color.laz",
     17546, 2, 3, 1065, 34, 227, 333, 2, "2.2r0", 50000u,
     "POINT10(size=20,v2), GPSTIME11(size=8,v2), RGB12(size=6,v2)",
     false, "none", "", 1,
     "laszip encoded/22204 (52 B)",
     0, 0, "",
     ""},
    {"laz-rs/point-time-color.las",
     36437, 2, 3, 1065, 34, 227, 227, 0, "", 0u, "",
     false, "none", "", 0,
     "",
     0, 0, "",
     "df9ea7bd185ff9d99700cbfced75989bb91415a12c893381273cca1dbd7182c1"},
    {"laz-rs/point-version-1-point-wise.laz",
     70993, 0, 0, 11781, 20, 227, 995, 1, "1.0r0", 1u,
     "POINT10(size=20,v1)",
     false, "EPSG:32128", "", 6,
     "LASF_Projection/34735 (192 B), LASF_Projection/34736 (96 B), "
     "LASF_Projection/34737 (78 B), NIIRS10/4 (10 B), NIIRS10/1 (26 B), "
     "laszip encoded/22204 (40 B)",
     0, 0, "",
     ""},
    {"laz-rs/point-version-1-point-wise.las",
     236521, 0, 0, 11781, 20, 227, 901, 0, "", 0u, "",
     false, "EPSG:32128", "", 5,
     "LASF_Projection/34735 (192 B), LASF_Projection/34736 (96 B), "
     "LASF_Projection/34737 (78 B), NIIRS10/4 (10 B), NIIRS10/1 (26 B)",
     0, 0, "",
     "bc1d14fa2fe3c6e0e8c9e922812176f70fdd772123cc77d05a032ac7fed97a15"},
    {"laz-perf/point-time-1.4.las.laz",
     16111, 4, 1, 1065, 28, 375, 1817, 2, "3.4r3", 50000u,
     "POINT10(size=20,v2), GPSTIME11(size=8,v2)",
     false, "EPSG:26910", "", 3,
     "LASF_Projection/2112 (617 B), liblas/2112 (617 B), laszip encoded/22204 (46 B)",
     0, 0, "",
     ""},
    {"laz-perf/no-points-1.3.laz",
     345, 3, 0, 0, 20, 235, 329, 2, "3.4r3", 50000u,
     "POINT10(size=20,v2)",
     false, "none", "", 1,
     "laszip encoded/22204 (40 B)",
     0, 0, "",
     ""},
    {"copc.js/ellipsoid.copc.laz",
     630740, 4, 7, 100000, 36, 375, 1424, 3, "3.4r3", 4294967295u,
     "POINT14(size=30,v3), RGB14(size=6,v3)",
     true, "EPSG:3857", "", 3,
     "copc/1 (160 B), laszip encoded/22204 (46 B), LASF_Projection/2112 (681 B)",
     1, 630520, "copc/1000 (160 B)",
     ""},
    {"las-rs/autzen.copc.laz",
     4368, 4, 7, 107, 36, 375, 1736, 3, "3.4r3", 4294967295u,
     "POINT14(size=30,v3), RGB14(size=6,v3)",
     true, "EPSG:2992+6360", "", 3,
     "copc/1 (160 B), laszip encoded/22204 (46 B), LASF_Projection/2112 (993 B)",
     1, 4276, "copc/1000 (32 B)",
     ""},
    {"rlas/las14_prf6.laz",
     46728, 4, 6, 135, 30, 375, 44317, 3, "3.4r3", 50000u,
     "POINT14(size=30,v3)",
     false, "none", "", 10,
     "LeicaGeo/1002 (22 B), LeicaGeo/1003 (54 B), LeicaGeo/1005 (1536 B), "
     "LeicaGeo/2001 (32 B), LeicaGeo/1008 (64 B), LeicaGeo/1009 (1 B), "
     "LeicaGeo/1001 (20480 B), LeicaGeo/1101 (20480 B), LASF_Projection/2112 (693 B), "
     "laszip encoded/22204 (40 B)",
     0, 0, "",
     ""},
    {"rlas/extra_byte.laz",
     2142, 2, 1, 62, 32, 227, 1223, 2, "3.4r3", 50000u,
     "POINT10(size=20,v2), GPSTIME11(size=8,v2), BYTE(size=4,v2)",
     false, "none", "Amplitude:3;Pulse width:3", 5,
     "LASF_Projection/34735 (208 B), LASF_Projection/34736 (64 B), "
     "LASF_Projection/34737 (18 B), LASF_Spec/4 (384 B), laszip encoded/22204 (52 B)",
     0, 0, "",
     ""},

};
// clang-format on

std::string describe_records(const std::vector<Vlr>& list) {
  std::string s;
  for (const Vlr& v : list) {
    if (!s.empty()) s += ", ";
    s += v.user_id + "/" + std::to_string(v.record_id) + " (" + std::to_string(v.data_size) + " B)";
  }
  return s;
}

bool is_leftover(const ExtraDim& d) {
  return d.type == ExtraType::kUndocumented && d.name.rfind("extra_bytes_", 0) == 0;
}

std::string describe_extra(const std::vector<ExtraDim>& dims) {
  std::string s;
  for (const ExtraDim& d : dims) {
    if (is_leftover(d)) continue;
    const int raw = d.type == ExtraType::kUndocumented ? 0 : int(d.type) + 10 * int(d.elements - 1);
    if (!s.empty()) s += ";";
    s += d.name + ":" + std::to_string(raw);
  }
  return s;
}

class ReadmeFile : public ::testing::TestWithParam<Expected> {};

TEST_P(ReadmeFile, InfoMatchesReadme) {
  const Expected& e = GetParam();
  REQUIRE_DATA(e.path);
  const LasFileInfo info = read_las_info(path);
  const LasHeader& h = info.header;
  EXPECT_EQ(info.file_size, e.size);
  EXPECT_EQ(h.version_major, 1);
  EXPECT_EQ(h.version_minor, e.minor);
  EXPECT_EQ(h.point_format, e.pdrf);
  EXPECT_EQ(h.point_count, e.points);
  EXPECT_EQ(h.record_length, e.record_length);
  EXPECT_EQ(h.header_size, e.header_size);
  EXPECT_EQ(h.offset_to_points, e.offset_to_points);
  EXPECT_EQ(h.compressed, e.compressor != 0);
  ASSERT_EQ(info.laszip.has_value(), e.compressor != 0);
  if (info.laszip) {
    const LaszipInfo& z = *info.laszip;
    EXPECT_EQ(z.compressor, e.compressor);
    EXPECT_EQ(z.coder, 0);
    EXPECT_EQ(std::to_string(z.version_major) + "." + std::to_string(z.version_minor) + "r" +
                  std::to_string(z.version_revision),
              e.laszip_version);
    EXPECT_EQ(z.chunk_size, e.chunk_size);
    EXPECT_EQ(laz::describe_items(z), e.items);
  }
  EXPECT_EQ(info.copc.has_value(), e.copc);
  EXPECT_EQ(info.crs.to_string(), e.crs);
  EXPECT_EQ(describe_extra(info.extra_dims), e.extra);
  EXPECT_EQ(int(info.vlrs.size()), e.vlr_count);
  EXPECT_EQ(describe_records(info.vlrs), e.vlrs);
  EXPECT_EQ(int(info.evlrs.size()), e.evlr_count);
  EXPECT_EQ(h.evlr_count, uint32_t(e.evlr_count));
  if (e.evlr_count) {
    EXPECT_EQ(h.evlr_start, e.evlr_start);
  }
  EXPECT_EQ(describe_records(info.evlrs), e.evlrs);
  // Extra dims (documented or not) cover the record exactly after the standard fields.
  uint32_t end = point_format_base_size(h.point_format);
  for (const ExtraDim& d : info.extra_dims) {
    EXPECT_EQ(d.offset, end) << d.name;
    end += d.size;
  }
  EXPECT_EQ(end, h.record_length);

  if (e.records_sha256[0]) {
    // Uncompressed: the records are stored as is, so their digest is the README's.
    auto src = open_file_source(path);
    const auto records =
        src->read_vector(h.offset_to_points, size_t(h.point_count * h.record_length));
    EXPECT_EQ(util::sha256_hex(records.data(), records.size()), e.records_sha256);
  }
}

std::string param_name(const ::testing::TestParamInfo<Expected>& p) {
  std::string s = p.param.path;
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

INSTANTIATE_TEST_SUITE_P(SharedData, ReadmeFile, ::testing::ValuesIn(kFiles), param_name);

// Chunk tables of every real LAZ file: readable, consistent, summing to the header count.
TEST(LazChunkTable, RealFiles) {
  for (const Expected& e : kFiles) {
    if (e.compressor == 0) continue;
    const std::string path = data_dir() + "/" + e.path;
    if (!file_exists(path)) GTEST_SKIP() << "test data not found: " << path;
    SCOPED_TRACE(e.path);
    auto src = open_file_source(path);
    const LasFileInfo info = read_las_info(*src);
    const laz::ChunkTable t = laz::read_chunk_table(*src, info);
    EXPECT_TRUE(t.usable) << t.problem;
    uint64_t points = 0, next = t.data_start;
    for (const ChunkInfo& c : t.chunks) {
      EXPECT_EQ(c.first_point, points);
      EXPECT_EQ(c.offset, next);
      points += c.point_count;
      next += c.bytes;
    }
    EXPECT_EQ(points, e.points);
    EXPECT_EQ(next, t.data_end);
    if (e.compressor == 1) {
      EXPECT_EQ(t.chunks.size(), 1u);
    } else if (e.chunk_size != 0xFFFFFFFFu) {
      EXPECT_EQ(t.chunks.size(), (e.points + e.chunk_size - 1) / e.chunk_size);
    }
  }
}

TEST(LasInfo, CorruptNokFileIsRejected) {
  REQUIRE_DATA("ign-pdal-tools/Semis_2022_0906_6665_LA93_IGN69_nok.laz");
  try {
    read_las_info(path);
    FAIL() << "the corrupt file was accepted";
  } catch (const FormatError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("las: "), std::string::npos) << msg;
    EXPECT_NE(msg.find("_nok.laz"), std::string::npos) << msg;
    EXPECT_NE(msg.find("header size field is 0"), std::string::npos) << msg;
    EXPECT_NE(msg.find("offset to point data is 0"), std::string::npos) << msg;
  }
}

TEST(LasInfo, SyntheticValidFiles) {
  const LasFileInfo a = info_of(make_las(2, 3, 34, 5));
  EXPECT_EQ(a.header.point_count, 5u);
  EXPECT_TRUE(a.extra_dims.empty());
  EXPECT_EQ(a.crs.to_string(), "none");
  const LasFileInfo b = info_of(make_las(4, 6, 30, 3, {}, {{"test", 7, {1, 2, 3}}}));
  EXPECT_EQ(b.header.point_count, 3u);
  ASSERT_EQ(b.evlrs.size(), 1u);
  EXPECT_EQ(b.evlrs[0].data.size(), 3u);
  EXPECT_TRUE(b.evlrs[0].extended);
  // A header larger than the standard size (allowed): the VLRs start at header_size.
  auto big = make_las(2, 0, 20, 2, {{"v", 9, {5, 6}}});
  big.insert(big.begin() + 227, 25, 0xEE);
  put<uint16_t>(big, 94, 252);
  put<uint32_t>(big, 96, 252 + 54 + 2);
  const LasFileInfo c = info_of(big);
  ASSERT_EQ(c.vlrs.size(), 1u);
  EXPECT_EQ(c.vlrs[0].user_id, "v");
  EXPECT_EQ(c.vlrs[0].data, (std::vector<uint8_t>{5, 6}));
  // Zero points, zero VLRs, LAS 1.0 header.
  EXPECT_EQ(info_of(make_las(0, 0, 20, 0)).header.point_count, 0u);
}

TEST(LasInfo, SyntheticBrokenHeaders) {
  const auto good = make_las(4, 6, 30, 4);
  auto b = good;
  b[0] = 'X';
  expect_format_error(b, "is not a LAS file (signature \"XASF\"");
  expect_format_error(std::vector<uint8_t>(good.begin(), good.begin() + 2), "is not a LAS file");
  expect_format_error(std::vector<uint8_t>(good.begin(), good.begin() + 100), "truncated");
  expect_format_error(std::vector<uint8_t>(good.begin(), good.begin() + 300), "truncated");
  b = good;
  b[24] = 2;
  expect_format_error(b, "LAS version 2.4 is not supported");
  b = good;
  b[25] = 9;
  expect_format_error(b, "LAS version 1.9 is not supported");
  b = good;
  put<uint16_t>(b, 94, 100);
  expect_format_error(b, "header size field is 100");
  b = good;
  b[104] = 11;
  expect_format_error(b, "point data record format 11");
  b = good;
  put<uint16_t>(b, 105, 20);
  expect_format_error(b, "record length 20 is smaller than the 30 bytes of point format 6");
  b = good;
  put<uint32_t>(b, 96, 100);
  expect_format_error(b, "lies inside the public header");
  b = good;
  put<uint32_t>(b, 96, 100000);
  expect_format_error(b, "past the end of the file");
  b = good;
  put<uint64_t>(b, 247, uint64_t(1) << 62);
  expect_format_error(b, "truncated file or wrong point count");
  b = good;
  put<uint64_t>(b, 247, 5);  // one more than stored
  expect_format_error(b, "header declares 5 points");
  b = good;
  put<uint32_t>(b, 100, 0xFFFFFFFFu);
  expect_format_error(b, "declares 4294967295 VLRs");
  b = good;
  for (int i = 0; i < 3; ++i) put<double>(b, 131 + 8 * i, 0.0);
  expect_format_error(b, "scale/offset");
  b = good;
  b[104] = 0x86;  // compressed PDRF 6 without a LASzip VLR
  expect_format_error(b, "no LASzip VLR");
}

TEST(LasInfo, SyntheticBrokenVlrs) {
  // A VLR whose length runs past the point data.
  auto b = make_las(2, 0, 20, 2, {{"x", 1, std::vector<uint8_t>(10, 7)}});
  put<uint16_t>(b, 227 + 20, 500);
  expect_format_error(b, "extends past the offset to point data");
  // Two VLRs declared, room for one.
  b = make_las(2, 0, 20, 2, {{"x", 1, std::vector<uint8_t>(60, 7)}});
  put<uint32_t>(b, 100, 2);
  expect_format_error(b, "VLR 1 header");
  // EVLR past the end of the file; EVLR start inside the points; absurd EVLR count.
  b = make_las(4, 6, 30, 2, {}, {{"e", 1, std::vector<uint8_t>(8, 1)}});
  const uint64_t evlr_start = 375 + 60;
  put<uint64_t>(b, evlr_start + 20, 1000);
  expect_format_error(b, "EVLR 0 (e/1, 1000 bytes");
  b = make_las(4, 6, 30, 2, {}, {{"e", 1, {}}});
  put<uint64_t>(b, 235, 380);
  expect_format_error(b, "before the end of the point data");
  b = make_las(4, 6, 30, 2, {}, {{"e", 1, {}}});
  put<uint32_t>(b, 243, 1000000);
  expect_format_error(b, "declares 1000000 EVLRs");
  b = make_las(4, 6, 30, 2, {}, {{"e", 1, {}}});
  put<uint64_t>(b, 235, uint64_t(1) << 60);
  expect_format_error(b, "past the end of the file");
}

TEST(LasInfo, SyntheticLaszipVlr) {
  const auto make = [](uint16_t compressor, std::vector<LaszipItemInfo> items, uint8_t format,
                       uint16_t length) {
    auto b = make_las(4, format, length, 0,
                      {{"laszip encoded", 22204, laszip_payload(compressor, items)}});
    b[104] = uint8_t(format | 0x80);
    b.resize(b.size() + 8, 0);  // chunk table pointer
    return b;
  };
  const LasFileInfo ok = info_of(make(3, {{10, 30, 3}, {11, 6, 3}}, 7, 36));
  ASSERT_TRUE(ok.laszip);
  EXPECT_EQ(ok.laszip->items.size(), 2u);
  expect_format_error(make(3, {{10, 30, 3}}, 7, 36), "items [POINT14] do not match point format 7");
  expect_format_error(make(2, {{10, 30, 3}, {11, 6, 3}}, 7, 36), "needs the layered chunked");
  expect_format_error(make(3, {{6, 20, 2}}, 0, 20), "cannot use the layered compressor");
  expect_format_error(make(3, {{10, 30, 3}, {14, 3, 3}}, 6, 36), "item sizes sum to 33");
  expect_format_error(make(3, {{10, 30, 9}}, 6, 30), "unknown item type or version");
  expect_format_error(make(3, {{10, 31, 3}}, 6, 31), "wrong size");
  expect_format_error(make(2, {{6, 20, 2}, {0, 4, 2}}, 6, 34), "needs the layered chunked");
  expect_format_error(make(2, {{6, 20, 2}, {14, 4, 3}}, 0, 24), "does not fit point format 0");
  auto b = make(3, {{10, 30, 3}}, 6, 30);
  put<uint16_t>(b, 375 + 54 + 32, 40);  // item count larger than the payload
  expect_format_error(b, "lists 40 items");
  b = make(3, {{10, 30, 3}}, 6, 30);
  put<uint16_t>(b, 375 + 54 + 2, 1);  // coder
  expect_format_error(b, "coder 1 is not supported");
}

TEST(LasInfo, ExtraBytes) {
  std::vector<uint8_t> vlr;
  for (const auto& d : {extra_descriptor(9, "height"), extra_descriptor(23, "colors", 0x19),
                        extra_descriptor(0, "pad", 3)}) {
    vlr.insert(vlr.end(), d.begin(), d.end());
  }
  put<double>(vlr, 192 + 112, 0.5);       // colors scale[0]
  put<double>(vlr, 192 + 128, 0.25);      // colors scale[2]
  put<double>(vlr, 192 + 136 + 8, 10.0);  // colors offset[1]
  put<uint64_t>(vlr, 192 + 40, 65535);    // colors no_data
  // 4 + 6 + 3 = 13 described bytes, 2 more undocumented.
  const LasFileInfo info = info_of(make_las(2, 0, 35, 1, {{"LASF_Spec", 4, vlr}}));
  ASSERT_EQ(info.extra_dims.size(), 4u);
  const auto& d = info.extra_dims;
  EXPECT_EQ(d[0].name, "height");
  EXPECT_EQ(d[0].type, ExtraType::kF32);
  EXPECT_EQ(d[0].offset, 20u);
  EXPECT_EQ(d[1].name, "colors");
  EXPECT_EQ(d[1].type, ExtraType::kU16);
  EXPECT_EQ(d[1].elements, 3u);
  EXPECT_EQ(d[1].offset, 24u);
  EXPECT_EQ(d[1].size, 6u);
  EXPECT_TRUE(d[1].has_scale());
  EXPECT_TRUE(d[1].has_offset());
  EXPECT_EQ(d[1].scale[0], 0.5);
  EXPECT_EQ(d[1].scale[2], 0.25);
  EXPECT_EQ(d[1].offset_value[1], 10.0);
  ASSERT_TRUE(d[1].no_data.has_value());
  EXPECT_EQ(*d[1].no_data, 65535.0);
  EXPECT_EQ(d[2].name, "pad");
  EXPECT_EQ(d[2].type, ExtraType::kUndocumented);
  EXPECT_EQ(d[2].size, 3u);
  EXPECT_EQ(d[3].name, "extra_bytes_33");
  EXPECT_EQ(d[3].offset, 33u);
  EXPECT_EQ(d[3].size, 2u);

  // Descriptors describing more bytes than the records have.
  expect_format_error(make_las(2, 0, 22, 1, {{"LASF_Spec", 4, extra_descriptor(10, "big")}}),
                      "'big' (8 bytes at record offset 20) does not fit in the 2 extra bytes");
  expect_format_error(make_las(2, 0, 28, 1, {{"LASF_Spec", 4, extra_descriptor(31, "bad")}}),
                      "data type 31");
  expect_format_error(make_las(2, 0, 28, 1, {{"LASF_Spec", 4, std::vector<uint8_t>(100, 0)}}),
                      "not a multiple of the 192-byte");
  // Duplicate names get a suffix so that table columns stay unique.
  std::vector<uint8_t> dup = extra_descriptor(1, "a");
  const auto second = extra_descriptor(1, "a");
  dup.insert(dup.end(), second.begin(), second.end());
  const LasFileInfo di = info_of(make_las(2, 0, 22, 1, {{"LASF_Spec", 4, dup}}));
  ASSERT_EQ(di.extra_dims.size(), 2u);
  EXPECT_EQ(di.extra_dims[1].name, "a_2");
}

}  // namespace
