// The real files of ../shared/data with their point counts and record digests, and the helpers
// that find them. Shared by the reader, writer and LAZ codec tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#ifndef LIDARHD_SOURCE_DIR
#define LIDARHD_SOURCE_DIR "."
#endif

namespace lidarhd::test {

// LIDARHD_TEST_DATA, else the shared/data folder next to the checkout.
inline std::string data_dir() {
  if (const char* env = std::getenv("LIDARHD_TEST_DATA")) return env;
  return std::string(LIDARHD_SOURCE_DIR) + "/../shared/data";
}

}  // namespace lidarhd::test

// Declares `path` (data_dir()/rel) and skips the test when that file is missing.
#define REQUIRE_DATA(rel)                                                 \
  const std::string path = ::lidarhd::test::data_dir() + "/" + (rel);     \
  if (!std::filesystem::exists(path)) {                                   \
    GTEST_SKIP() << "test data not found: " << path                       \
                 << " (set LIDARHD_TEST_DATA to the shared data folder)"; \
  }

namespace lidarhd::test {

struct RealFileInfo {
  const char* file;  // relative to data_dir()
  uint64_t points;
  const char* sha256;  // of all decoded point records, in file order
};

// From ../shared/data/README.md ("Decoded points" and "sha256 ... file order"): every readable
// file, LAS, LAZ (compressors 1-3) and COPC.
inline constexpr RealFileInfo kRealFiles[] = {
    {"ign-pdal-tools/test_data_77055_627760_LA93_IGN69.laz", 60653, "9bffe76250c4c2352b182b8f98beaa5e576259d18b876601b292807e85512e28"},
    {"ign-pdal-tools/test_data_77050_627755_LA93_IGN69.laz", 73355, "ebc159a692f984483c7cb52debad805d39e49831735476fa65c2ec031ba5a388"},
    {"ign-pdal-tools/test_data_77050_627760_LA93_IGN69.laz", 56035, "257b6e0ed581860897019032e168985a2ae185105d55b4256fdd3a35fe31d978"},
    {"ign-pdal-tools/test_data_77055_627755_LA93_IGN69.laz", 72770, "3e31031b3ace1abacd5305abd7afdd9a1e050e0d63e6a04fb01ccbb1a3c3e76f"},
    {"ign-pdal-tools/test_data_77060_627760_LA93_IGN69.laz", 59606, "98b571773ae9c4e5b7f2f94fbe93a8e2293a1be2e0c5ca8cc53917addfff532c"},
    {"ign-pdal-tools/test_data_77055_627755_LA93_IGN69_extra_dims.laz", 72770, "7e8ee68b5fd2ed04ddca8f46afde17cf8e3494c6cc978cd640c6052e9ebb9240"},
    {"ign-pdal-tools/test_semis_2023_0292_6833_LA93_IGN69.laz", 289055, "230742cf40d7f525ba1dd2cc11025236f75a6b2eebc9baf4aa88ea3477c0e88b"},
    {"ign-pdal-tools/las_with_several_extra_byte_bloc.laz", 697721, "c19b99bc99062598ede4bed3bc6648832211f51b80ac22c8095cb547d8836406"},
    {"ign-pdal-tools/crop_duplicate.laz", 849, "1ca5c2bd3da840846b8788fde84fba6b75fec25cf44ec1a5807135b760144ca4"},
    {"ign-pdal-tools/sample_lareunion_epsg2975.laz", 59712, "1a31de2ea79b28dcec81d158654a83fa86aa5a47d31187498754a4b58790f0a2"},
    {"ign-pdal-tools/test_data_0436_6384_LA93_IGN69_single_point.laz", 1, "3ac60a853fa91bd5cc1b633c518167590ea5734ae284efce064a4fe4628ece8c"},
    {"ign-pdal-tools/test_noepsg_043500_629205_IGN69.laz", 17845, "1e45eacfabafe3d88054d23dafe5c137017c1355e286536e0c31427cfe34f850"},
    {"ign-pdal-tools/test_pdalfail_0643_6319_LA93_IGN69.laz", 89, "047a26c498a7fb10c15017e0de9d3e36e9edf237a26139850ef93d006ad94f98"},
    {"ign-pdal-tools/Semis_2022_0906_6665_LA93_IGN69_ok.laz", 64572, "f8407883595ab62c7c4f9a586031d8805cd4a244670d2f7a37660f6ec4d871c6"},
    {"ctview/test_data_77050_627755_LA93_IGN69.copc.laz", 21172, "d0d598e2032b45af8b47374af149bcc77e21dd4f4187a8ba57841f5c8a78b45c"},
    {"ctview/test_data_77050_627755_LA93_IGN69.las", 21172, "224206d4ed0d458c5b8897049390a6e54a25cacb38b19a887a09efbfd4cca87b"},
    {"lidar-prod/870000_6618000.subset.postValidation.laz", 70840, "320fd1c4b13d99ff9dd0581bf43fd291a0c62042570dd7aa28834c6d6ad022cc"},
    {"pdal-ign-plugin/68.laz", 1000, "40084e82eafd9be15fe67a350b14937ab7536923951884f88dbf2a5673db4ece"},
    {"pdal-ign-plugin/crop_1.laz", 210582, "791bdc4fada580f971749617c883b84c4a73d990efa4971c1bf0f60a99e564e1"},
    {"laspy/1_4_w_evlr.laz", 1000, "923571fd0bdbfdc886522adcb5fccaa6462642142937b1a3c490519155d447ba"},
    {"laspy/simple.copc.laz", 1065, "361eda6829430490b1bba3a2665408642d16211f6c349b2f11edf451c8164422"},
    {"laspy/simple_with_page.copc.laz", 1065, "361eda6829430490b1bba3a2665408642d16211f6c349b2f11edf451c8164422"},
    {"laspy/extra.laz", 1065, "c98294910637458e4b55447460f2dece893aca5990f4fd5624fec7d570783c31"},
    {"laspy/autzen_trim.laz", 110000, "f4eb6d80bf1fa507ffdcdaa73606d09041982659a50ee3895957e0b2b347f54b"},
    {"laspy/simple1_4.las", 22600, "2854467625435251f7192600766132a6bfd737e3d72e1a762ac1aef5ab56d88e"},
    {"laspy/test1_4.las", 1000, "923571fd0bdbfdc886522adcb5fccaa6462642142937b1a3c490519155d447ba"},
    {"laspy/unregistered_extra_bytes.las", 4, "5c7065fca1170eec2706de842679d3c9f89d5bd90cf0c08889872f2255bdbd41"},
    {"pdal/laszip-generated.laz", 1065, "0717948a72e6bf719db8d96ded1e76b760d73fb683347ebe3dd603832e3d5015"},
    {"pdal/liblas-generated.laz", 1065, "0717948a72e6bf719db8d96ded1e76b760d73fb683347ebe3dd603832e3d5015"},
    {"laz-rs/point10.laz", 1065, "d2033d0504e6b849a1301368703f90c77eda09c93e5d623e89cab06cb98ad63f"},
    {"laz-rs/point10.las", 1065, "d2033d0504e6b849a1301368703f90c77eda09c93e5d623e89cab06cb98ad63f"},
    {"laz-rs/point-time-color.laz", 1065, "df9ea7bd185ff9d99700cbfced75989bb91415a12c893381273cca1dbd7182c1"},
    {"laz-rs/point-time-color.las", 1065, "df9ea7bd185ff9d99700cbfced75989bb91415a12c893381273cca1dbd7182c1"},
    {"laz-rs/point-version-1-point-wise.las", 11781, "bc1d14fa2fe3c6e0e8c9e922812176f70fdd772123cc77d05a032ac7fed97a15"},
    {"laz-perf/point-time-1.4.las.laz", 1065, "0e80c2de788f2a50a3a2797cd807af2434ecd3fd3b8330a2087f699725c94874"},
    {"laz-perf/no-points-1.3.laz", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"copc.js/ellipsoid.copc.laz", 100000, "f441db6de8fe6d198cbdbe9b16c372b229f6e31f392e81e4a6918a9e669c0746"},
    {"las-rs/autzen.copc.laz", 107, "4207ec2b64218878bc7a37e7e004c7f8934668593609a8d4864651b7e1409c99"},
    {"rlas/las14_prf6.laz", 135, "481f8ba7bc89d9d87f9fe2624c2a10085132a73a14f46aae53f7ddd152ab064a"},
    {"rlas/extra_byte.laz", 62, "ac7b3045de08c571ea0abbb0551b6939a54f4f1e7a7b107a339f27c36da255ec"},
    // compressor 1 (LASzip 1.x): the README gives the digest of its .las twin
    {"laz-rs/point-version-1-point-wise.laz", 11781, "bc1d14fa2fe3c6e0e8c9e922812176f70fdd772123cc77d05a032ac7fed97a15"},
};

// The README entry of `file` (a path relative to data_dir()); fails the test when there is none.
inline const RealFileInfo& real_file(const char* file) {
  for (const RealFileInfo& f : kRealFiles)
    if (std::strcmp(f.file, file) == 0) return f;
  ADD_FAILURE() << file << " is not in kRealFiles";
  static const RealFileInfo none{"", 0, ""};
  return none;
}

}  // namespace lidarhd::test
