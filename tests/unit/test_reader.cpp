// Reader acceptance tests on the real files of ../shared/data: point counts and the SHA-256 of all
// decoded records in file order (values from ../shared/data/README.md), with 1 and 2 threads, in
// one piece and streamed; COPC queries; rejection of the corrupted IGN file.
#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <filesystem>
#include <string>

#include "io/las/le_bytes.hpp"
#include "lidarhd/core/error.hpp"
#include "lidarhd/io/reader.hpp"
#include "real_files.hpp"
#include "util/sha256.hpp"

namespace {

namespace fs = std::filesystem;
using lidarhd::io::PointReader;
using lidarhd::io::ReadOptions;

using lidarhd::test::kRealFiles;
using lidarhd::test::RealFileInfo;

class RealFile : public ::testing::TestWithParam<std::tuple<RealFileInfo, unsigned>> {};

std::string digest(const std::vector<uint8_t>& v) {
  return lidarhd::util::sha256_hex(v.data(), v.size());
}

TEST_P(RealFile, DigestAndCountWholeFile) {
  const auto& [e, threads] = GetParam();
  REQUIRE_DATA(e.file);
  ReadOptions opt;
  opt.threads = threads;
  PointReader reader(path, opt);
  EXPECT_EQ(reader.point_count(), e.points);
  const auto records = reader.read_all_records();
  EXPECT_EQ(records.size(), e.points * reader.record_length());
  EXPECT_EQ(digest(records), e.sha256);
}

TEST_P(RealFile, DigestStreamed) {
  const auto& [e, threads] = GetParam();
  REQUIRE_DATA(e.file);
  ReadOptions opt;
  opt.threads = threads;
  PointReader reader(path, opt);
  lidarhd::util::Sha256 sha;
  std::vector<uint8_t> batch;
  uint64_t total = 0, n;
  const uint64_t max_batch = 7919;  // a prime: batches straddle chunk boundaries
  while ((n = reader.read_batch(batch, max_batch)) > 0) {
    ASSERT_LE(n, max_batch);
    ASSERT_EQ(batch.size(), n * reader.record_length());
    sha.update(batch.data(), batch.size());
    total += n;
  }
  EXPECT_EQ(total, e.points);
  EXPECT_EQ(sha.hex_digest(), e.sha256);
}

INSTANTIATE_TEST_SUITE_P(Data, RealFile,
                         ::testing::Combine(::testing::ValuesIn(kRealFiles),
                                            ::testing::Values(1u, 2u)),
                         [](const auto& info) {
                           std::string name = std::get<0>(info.param).file;
                           for (auto& c : name)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return name + "_t" + std::to_string(std::get<1>(info.param));
                         });

TEST(Reader, RejectsCorruptedIgnFile) {
  REQUIRE_DATA("ign-pdal-tools/Semis_2022_0906_6665_LA93_IGN69_nok.laz");
  try {
    PointReader reader(path);
    reader.read_all_records();
    FAIL() << "the corrupted file was accepted";
  } catch (const lidarhd::FormatError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("Semis_2022_0906_6665_LA93_IGN69_nok.laz"), std::string::npos) << msg;
  }
}

TEST(Reader, MissingFileIsAnIoError) {
  EXPECT_THROW(PointReader("/nonexistent/lidarhd/file.laz"), lidarhd::IoError);
}

TEST(Reader, SelectiveDecodingKeepsRequestedFields) {
  REQUIRE_DATA("ign-pdal-tools/test_data_77055_627760_LA93_IGN69.laz");
  const auto full = PointReader(path).read_all_records();
  ReadOptions opt;
  opt.layers = lidarhd::io::layers::kZ | lidarhd::io::layers::kClassification;
  PointReader reader(path, opt);
  const auto part = reader.read_all_records();
  ASSERT_EQ(part.size(), full.size());
  const uint32_t rl = reader.record_length();
  for (size_t i = 0; i < full.size() / rl; ++i) {
    ASSERT_EQ(0, std::memcmp(&full[i * rl], &part[i * rl], 12)) << "XYZ of point " << i;
    ASSERT_EQ(full[i * rl + 16], part[i * rl + 16]) << "classification of point " << i;
  }
}

// COPC: a box query decodes only the nodes it needs and returns exactly the points inside the
// box, the same set a full decode filtered by the box gives.
void check_copc_box(const std::string& path, double fraction) {
  PointReader full_reader(path);
  const auto& h = full_reader.info().header;
  const auto all = full_reader.read_all_records();
  const uint32_t rl = full_reader.record_length();
  lidarhd::io::Box box;
  for (int a = 0; a < 3; ++a) {
    box.min[a] = h.min[a];
    box.max[a] = h.min[a] + (h.max[a] - h.min[a]) * (a == 2 ? 1.0 : fraction);
  }
  std::multiset<std::string> expected;
  for (size_t i = 0; i < all.size() / rl; ++i) {
    const uint8_t* r = &all[i * rl];
    const double x = lidarhd::io::detail::i32_at(r) * h.scale[0] + h.offset[0];
    const double y = lidarhd::io::detail::i32_at(r + 4) * h.scale[1] + h.offset[1];
    const double z = lidarhd::io::detail::i32_at(r + 8) * h.scale[2] + h.offset[2];
    if (box.contains(x, y, z)) expected.emplace(reinterpret_cast<const char*>(r), rl);
  }
  for (unsigned threads : {1u, 2u}) {
    ReadOptions opt;
    opt.box = box;
    opt.threads = threads;
    PointReader reader(path, opt);
    const auto got = reader.read_all_records();
    std::multiset<std::string> got_set;
    for (size_t i = 0; i < got.size() / rl; ++i)
      got_set.emplace(reinterpret_cast<const char*>(&got[i * rl]), rl);
    EXPECT_EQ(got_set.size(), expected.size());
    EXPECT_TRUE(got_set == expected) << path;
  }
  EXPECT_GT(expected.size(), 0u);
  EXPECT_LT(expected.size(), all.size() / rl);
}

TEST(Copc, BoxQueryEqualsFilteredFullDecode) {
  for (const char* f : {"laspy/simple_with_page.copc.laz", "copc.js/ellipsoid.copc.laz",
                        "ctview/test_data_77050_627755_LA93_IGN69.copc.laz"}) {
    REQUIRE_DATA(f);
    SCOPED_TRACE(f);
    check_copc_box(path, 0.5);
  }
}

TEST(Copc, LevelQueryDecodesOnlyShallowNodes) {
  REQUIRE_DATA("laspy/simple_with_page.copc.laz");
  PointReader all(path);
  uint64_t level0 = 0;
  for (const auto& n : all.copc_nodes())
    if (n.level == 0) level0 += uint64_t(n.point_count);
  ASSERT_GT(level0, 0u);
  ReadOptions opt;
  opt.max_level = 0;
  PointReader reader(path, opt);
  EXPECT_EQ(reader.read_all_records().size(), level0 * reader.record_length());
}

TEST(Copc, HierarchyCoversEveryPoint) {
  for (const char* f : {"laspy/simple.copc.laz", "laspy/simple_with_page.copc.laz",
                        "copc.js/ellipsoid.copc.laz", "las-rs/autzen.copc.laz"}) {
    REQUIRE_DATA(f);
    PointReader reader(path);
    uint64_t sum = 0;
    for (const auto& n : reader.copc_nodes()) sum += uint64_t(n.point_count);
    EXPECT_EQ(sum, reader.point_count()) << f;
  }
}

}  // namespace
