// Dataset writers (LIDARHD_DATASETS=ON): NPZ read back entry by entry (npy headers and bytes),
// same record -> same bytes, HDF5 groups/datasets/attributes read back with the C API, LAZ
// patches read back with the project's reader, atomic outputs (no temporary file left, a writer
// destroyed without close() leaves nothing), the split by tile and metadata.json.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>
#include <zip.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "io/npz/npy.hpp"
#include "lidarhd/core/error.hpp"
#include "lidarhd/io/reader.hpp"
#include "lidarhd/patches/dataset.hpp"
#include "lidarhd/patches/labels.hpp"
#include "temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using namespace lidarhd::patches;

using lidarhd::test::TempDir;

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

// A patch whose every value follows from its index (labels from lod2).
PatchRecord make_record(size_t n, bool colours, int64_t index = 3, int aug = 0) {
  PatchRecord r;
  r.feature_names = {"planarity", "normal_z", "height_above_ground"};
  const uint8_t codes[] = {2, 3, 5, 6, 6, 6, 7, 17, 66, 9};
  for (size_t i = 0; i < n; ++i) {
    const float x = float(i) * 0.5f - 10, y = float(i % 7) - 3, z = float(i) * 0.01f;
    r.points.insert(r.points.end(), {x, y, z});
    r.world_xyz.insert(r.world_xyz.end(), {650000.0 + x, 6860000.0 + y, 100.0 + z});
    const float planarity = float((i * 37) % 100 + 0.5) / 100.0f;
    const float normal_z = float((i * 53) % 100 + 0.5) / 100.0f;
    r.features.insert(r.features.end(), {planarity, normal_z, float(i) * 0.25f});
    r.classification.push_back(codes[i % 10]);
    if (colours) {
      r.rgb.insert(r.rgb.end(), {float(i % 256) / 255, float((3 * i) % 256) / 255, 0.5f});
      r.nir.push_back(float((7 * i) % 256) / 255);
      r.ndvi.push_back(0.25f);
    }
  }
  r.labels.resize(n);
  std::vector<float> pl(n), nz(n);
  for (size_t i = 0; i < n; ++i) pl[i] = r.features[i * 3], nz[i] = r.features[i * 3 + 1];
  apply_labels(label_map("lod2"), r.classification.data(), pl.data(), nz.data(), n,
               r.labels.data());
  r.center = {650000.0, 6860000.0, 100.0};
  r.bounds = {649925.0, 6859925.0, 650075.0, 6860075.0};
  r.tile = "LHD_FXX_0650_6860_PTS_C_LAMB93_IGN69";
  r.patch_index = index;
  r.augmentation = aug;
  return r;
}

// Entries of a zip file: name -> bytes.
std::map<std::string, std::vector<uint8_t>> read_zip(const std::string& path) {
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_RDONLY, &err);
  EXPECT_NE(z, nullptr) << path;
  std::map<std::string, std::vector<uint8_t>> out;
  if (!z) return out;
  for (zip_int64_t i = 0; i < zip_get_num_entries(z, 0); ++i) {
    zip_stat_t st;
    zip_stat_index(z, zip_uint64_t(i), 0, &st);
    EXPECT_EQ(st.comp_method, ZIP_CM_DEFLATE) << st.name;
    std::vector<uint8_t> data(st.size);
    zip_file_t* f = zip_fopen_index(z, zip_uint64_t(i), 0);
    EXPECT_EQ(zip_fread(f, data.data(), st.size), zip_int64_t(st.size));
    zip_fclose(f);
    out[st.name] = data;
  }
  zip_close(z);
  return out;
}

// The header dict of a .npy and its data bytes.
std::pair<std::string, std::vector<uint8_t>> split_npy(const std::vector<uint8_t>& npy) {
  EXPECT_GE(npy.size(), 10u);
  EXPECT_EQ(std::memcmp(npy.data(), "\x93NUMPY\x01\x00", 8), 0);
  const size_t len = npy[8] | (size_t(npy[9]) << 8);
  EXPECT_EQ((10 + len) % 64, 0u);
  std::string header(npy.begin() + 10, npy.begin() + 10 + long(len));
  return {header, std::vector<uint8_t>(npy.begin() + 10 + long(len), npy.end())};
}

template <class T>
std::vector<uint8_t> as_bytes(const std::vector<T>& v) {
  const auto* p = reinterpret_cast<const uint8_t*>(v.data());
  return std::vector<uint8_t>(p, p + v.size() * sizeof(T));
}

TEST(Npy, Headers) {
  const std::vector<float> v(6, 1.0f);
  auto [h, d] = split_npy(lidarhd::io::npy::encode("<f4", {2, 3}, v));
  EXPECT_EQ(h.rfind("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 0), 0u) << h;
  EXPECT_EQ(h.back(), '\n');
  EXPECT_EQ(d.size(), 24u);
  h = split_npy(lidarhd::io::npy::encode("<i8", {5}, std::vector<int64_t>(5))).first;
  EXPECT_NE(h.find("'shape': (5,)"), std::string::npos) << h;
  auto u = split_npy(lidarhd::io::npy::encode_unicode({"ab", "\xc3\xa9t\xc3\xa9"}, false));
  EXPECT_NE(u.first.find("'descr': '<U3', 'fortran_order': False, 'shape': (2,)"),
            std::string::npos)
      << u.first;
  const std::vector<uint32_t> want = {'a', 'b', 0, 0xE9, 't', 0xE9};
  EXPECT_EQ(u.second, as_bytes(want));
  u = split_npy(lidarhd::io::npy::encode_unicode({"tile"}, true));
  EXPECT_NE(u.first.find("'descr': '<U4', 'fortran_order': False, 'shape': ()"), std::string::npos);
  EXPECT_THROW(lidarhd::io::npy::encode_unicode({"bad \xff"}, false), lidarhd::ArgumentError);
  EXPECT_THROW(lidarhd::io::npy::encode_unicode({"\xc3"}, false), lidarhd::ArgumentError);
}

TEST(Npz, KeysShapesAndValues) {
  TempDir dir;
  const PatchRecord r = make_record(50, true);
  write_npz(dir / "p.npz", r);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"p.npz"});  // no temporary file left
  const auto entries = read_zip(dir / "p.npz");
  std::vector<std::string> names;
  for (const auto& kv : entries) names.push_back(kv.first);
  EXPECT_EQ(names, (std::vector<std::string>{
                       "augmentation.npy", "bounds.npy", "center.npy", "classification.npy",
                       "feature_names.npy", "features.npy", "labels.npy", "ndvi.npy", "nir.npy",
                       "patch_index.npy", "points.npy", "rgb.npy", "scale.npy", "tile.npy"}));
  const auto header = [&](const std::string& key) { return split_npy(entries.at(key)).first; };
  const auto data = [&](const std::string& key) { return split_npy(entries.at(key)).second; };
  EXPECT_NE(header("points.npy").find("'<f4', 'fortran_order': False, 'shape': (50, 3)"),
            std::string::npos);
  EXPECT_NE(header("features.npy").find("'shape': (50, 3)"), std::string::npos);
  EXPECT_NE(header("labels.npy").find("'|u1'"), std::string::npos);
  EXPECT_NE(header("patch_index.npy").find("'<i8', 'fortran_order': False, 'shape': ()"),
            std::string::npos);
  EXPECT_NE(header("augmentation.npy").find("'<i4'"), std::string::npos);
  EXPECT_NE(header("feature_names.npy").find("'<U19'"), std::string::npos);  // height_above_ground
  EXPECT_EQ(data("points.npy"), as_bytes(r.points));
  EXPECT_EQ(data("features.npy"), as_bytes(r.features));
  EXPECT_EQ(data("labels.npy"), r.labels);
  EXPECT_EQ(data("classification.npy"), r.classification);
  EXPECT_EQ(data("rgb.npy"), as_bytes(r.rgb));
  EXPECT_EQ(data("center.npy"), as_bytes(std::vector<double>(r.center.begin(), r.center.end())));
  EXPECT_EQ(data("patch_index.npy"), as_bytes(std::vector<int64_t>{3}));
}

TEST(Npz, NoColoursNoKeysAndEmptyPatch) {
  TempDir dir;
  write_npz(dir / "p.npz", make_record(10, false));
  const auto entries = read_zip(dir / "p.npz");
  EXPECT_EQ(entries.count("rgb.npy") + entries.count("nir.npy") + entries.count("ndvi.npy"), 0u);
  PatchRecord empty = make_record(0, false);
  empty.feature_names.clear();
  write_npz(dir / "e.npz", empty);
  const auto e = read_zip(dir / "e.npz");
  EXPECT_NE(split_npy(e.at("features.npy")).first.find("'shape': (0, 0)"), std::string::npos);
  EXPECT_NE(split_npy(e.at("feature_names.npy")).first.find("'<U1'"), std::string::npos);
}

TEST(Npz, SameRecordSameBytes) {
  TempDir dir;
  const PatchRecord r = make_record(300, true);
  write_npz(dir / "a.npz", r);
  sleep(1);  // a clock in the archive would show now
  write_npz(dir / "b.npz", r);
  const auto a = read_bytes(dir / "a.npz");
  EXPECT_GT(a.size(), 100u);
  EXPECT_EQ(a, read_bytes(dir / "b.npz"));
}

TEST(Npz, BadRecordIsRefusedAndWritesNothing) {
  TempDir dir;
  PatchRecord r = make_record(20, true);
  r.features.pop_back();
  try {
    write_npz(dir / "p.npz", r);
    FAIL() << "no exception";
  } catch (const lidarhd::ArgumentError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("dataset: patch 3 of tile 'LHD_FXX_0650_6860_PTS_C_LAMB93_IGN69': "
                       "features has 59 values, expected N x C = 60"),
              std::string::npos)
        << msg;
  }
  r = make_record(20, true);
  r.rgb.resize(10);
  EXPECT_THROW(write_npz(dir / "p.npz", r), lidarhd::ArgumentError);
  r = make_record(20, false);
  r.feature_names[1] = "planarity";
  EXPECT_THROW(write_npz(dir / "p.npz", r), lidarhd::ArgumentError);
  EXPECT_TRUE(dir.entries().empty());
  EXPECT_THROW(write_npz(dir / "missing/p.npz", make_record(5, false)), lidarhd::IoError);
}

// --- HDF5 -------------------------------------------------------------------------------------

struct H5File {
  explicit H5File(const std::string& path)
      : id(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT)) {}
  ~H5File() {
    if (id >= 0) H5Fclose(id);
  }
  hid_t id;
};

std::vector<hsize_t> dims_of(hid_t file, const std::string& name) {
  const hid_t set = H5Dopen2(file, name.c_str(), H5P_DEFAULT);
  EXPECT_GE(set, 0) << name;
  const hid_t space = H5Dget_space(set);
  std::vector<hsize_t> dims(size_t(H5Sget_simple_extent_ndims(space)));
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  H5Sclose(space);
  H5Dclose(set);
  return dims;
}

template <class T>
std::vector<T> read_set(hid_t file, const std::string& name, hid_t mem_type) {
  hsize_t count = 1;
  for (hsize_t d : dims_of(file, name)) count *= d;
  std::vector<T> v(count);
  const hid_t set = H5Dopen2(file, name.c_str(), H5P_DEFAULT);
  EXPECT_GE(H5Dread(set, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), 0) << name;
  H5Dclose(set);
  return v;
}

bool compressed(hid_t file, const std::string& name) {
  const hid_t set = H5Dopen2(file, name.c_str(), H5P_DEFAULT);
  const hid_t dcpl = H5Dget_create_plist(set);
  bool deflate = false;
  for (int i = 0; i < H5Pget_nfilters(dcpl); ++i) {
    unsigned flags = 0;
    size_t nelmts = 0;
    char fname[64];
    if (H5Pget_filter2(dcpl, unsigned(i), &flags, &nelmts, nullptr, sizeof fname, fname, nullptr) ==
        H5Z_FILTER_DEFLATE)
      deflate = true;
  }
  H5Pclose(dcpl);
  H5Dclose(set);
  return deflate;
}

TEST(Hdf5, GroupsDatasetsAttributes) {
  TempDir dir;
  const PatchRecord a = make_record(40, true, 12, 0);
  const PatchRecord b = make_record(40, true, 12, 1);
  const PatchRecord c = make_record(25, false, 13, 0);
  {
    Hdf5TileWriter w(dir / "tile.h5");
    w.add(a);
    w.add(b);
    w.add(c);
    EXPECT_EQ(w.patches(), 3u);
    EXPECT_FALSE(fs::exists(dir / "tile.h5"));  // only the hidden temporary file until close()
    ASSERT_EQ(dir.entries().size(), 1u);
    EXPECT_EQ(dir.entries()[0].rfind(".tile.h5.tmp-", 0), 0u);
    EXPECT_THROW(w.add(a), lidarhd::ArgumentError);  // patch_000012 again
    PatchRecord other = c;
    other.tile = "another";
    other.patch_index = 99;
    EXPECT_THROW(w.add(other), lidarhd::ArgumentError);
    w.close();
  }
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"tile.h5"});
  H5File f(dir / "tile.h5");
  ASSERT_GE(f.id, 0);
  for (const char* g : {"patch_000012", "patch_000012_aug1", "patch_000013"})
    EXPECT_GT(H5Lexists(f.id, g, H5P_DEFAULT), 0) << g;
  EXPECT_EQ(dims_of(f.id, "patch_000012/points"), (std::vector<hsize_t>{40, 3}));
  EXPECT_EQ(dims_of(f.id, "patch_000012/features"), (std::vector<hsize_t>{40, 3}));
  EXPECT_EQ(dims_of(f.id, "patch_000013/labels"), (std::vector<hsize_t>{25}));
  EXPECT_EQ(H5Lexists(f.id, "patch_000013/rgb", H5P_DEFAULT), 0);
  EXPECT_TRUE(compressed(f.id, "patch_000012/points"));
  EXPECT_TRUE(compressed(f.id, "patch_000012/labels"));
  EXPECT_EQ(read_set<float>(f.id, "patch_000012/points", H5T_NATIVE_FLOAT), a.points);
  EXPECT_EQ(read_set<float>(f.id, "patch_000012_aug1/features", H5T_NATIVE_FLOAT), b.features);
  EXPECT_EQ(read_set<uint8_t>(f.id, "patch_000013/labels", H5T_NATIVE_UINT8), c.labels);
  EXPECT_EQ(read_set<float>(f.id, "patch_000012/nir", H5T_NATIVE_FLOAT), a.nir);
  EXPECT_EQ(read_set<double>(f.id, "patch_000012/bounds", H5T_NATIVE_DOUBLE),
            std::vector<double>(a.bounds.begin(), a.bounds.end()));

  // Attributes: patch_index (int64), augmentation (int32), tile (UTF-8 string).
  const hid_t g = H5Gopen2(f.id, "patch_000012_aug1", H5P_DEFAULT);
  int64_t index = 0;
  int32_t aug = 0;
  hid_t attr = H5Aopen(g, "patch_index", H5P_DEFAULT);
  H5Aread(attr, H5T_NATIVE_INT64, &index);
  H5Aclose(attr);
  attr = H5Aopen(g, "augmentation", H5P_DEFAULT);
  H5Aread(attr, H5T_NATIVE_INT32, &aug);
  H5Aclose(attr);
  attr = H5Aopen(g, "tile", H5P_DEFAULT);
  const hid_t type = H5Aget_type(attr);
  EXPECT_EQ(H5Tget_cset(type), H5T_CSET_UTF8);
  char* tile = nullptr;
  H5Aread(attr, type, &tile);
  EXPECT_STREQ(tile, a.tile.c_str());
  H5free_memory(tile);
  H5Tclose(type);
  H5Aclose(attr);
  H5Gclose(g);
  EXPECT_EQ(index, 12);
  EXPECT_EQ(aug, 1);
}

TEST(Hdf5, DestroyedWithoutCloseLeavesNothing) {
  TempDir dir;
  {
    Hdf5TileWriter w(dir / "tile.h5");
    w.add(make_record(30, true));
  }
  EXPECT_TRUE(dir.entries().empty());
  EXPECT_THROW(Hdf5TileWriter(dir / "missing/tile.h5"), lidarhd::IoError);
}

TEST(Hdf5, SamePatchesSameBytes) {
  TempDir dir;
  for (const char* name : {"a.h5", "b.h5"}) {
    Hdf5TileWriter w(dir / name);
    w.add(make_record(500, true, 1));
    w.add(make_record(0, false, 2));
    w.close();
    sleep(1);
  }
  EXPECT_EQ(read_bytes(dir / "a.h5"), read_bytes(dir / "b.h5"));
}

// --- LAZ patches ------------------------------------------------------------------------------

TEST(LazPatch, ExtraDimensionsColoursAndCoordinates) {
  TempDir dir;
  const PatchRecord r = make_record(60, true);
  write_patch_laz(dir / "p.laz", r);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"p.laz"});
  lidarhd::io::PointReader reader(dir / "p.laz");
  EXPECT_EQ(reader.info().header.point_format, 8);  // RGB + NIR
  EXPECT_EQ(reader.info().header.version_minor, 4);
  EXPECT_TRUE(reader.info().header.compressed);
  std::vector<std::string> dims;
  for (const auto& d : reader.info().extra_dims) dims.push_back(d.name);
  EXPECT_EQ(dims, (std::vector<std::string>{"planarity", "normal_z", "height_above_ground", "ndvi",
                                            "label"}));
  const lidarhd::io::PointTable t = reader.read_table();
  ASSERT_EQ(t.size(), 60u);
  for (size_t i = 0; i < 60; ++i) {
    EXPECT_NEAR(t.x(i), r.world_xyz[i * 3], 0.005);
    EXPECT_NEAR(t.y(i), r.world_xyz[i * 3 + 1], 0.005);
    EXPECT_NEAR(t.z(i), r.world_xyz[i * 3 + 2], 0.005);
    EXPECT_EQ(t.column("classification").data<uint8_t>()[i], r.classification[i]);
    EXPECT_EQ(t.column("label").data<uint8_t>()[i], r.labels[i]);
    EXPECT_EQ(t.column("planarity").data<float>()[i], r.features[i * 3]);
    EXPECT_EQ(t.column("height_above_ground").data<float>()[i], r.features[i * 3 + 2]);
    EXPECT_EQ(t.column("red").data<uint16_t>()[i], uint16_t((i % 256) * 256));
    EXPECT_EQ(t.column("nir").data<uint16_t>()[i], uint16_t(((7 * i) % 256) * 256));
  }
}

TEST(LazPatch, PlainFormatAndErrors) {
  TempDir dir;
  write_patch_laz(dir / "p.las", make_record(10, false));
  lidarhd::io::PointReader reader(dir / "p.las");
  EXPECT_EQ(reader.info().header.point_format, 6);
  EXPECT_FALSE(reader.info().header.compressed);
  PatchRecord r = make_record(10, false);
  r.world_xyz.clear();
  EXPECT_THROW(write_patch_laz(dir / "q.laz", r), lidarhd::ArgumentError);
  r = make_record(10, false);
  r.feature_names[2] = "intensity";
  EXPECT_THROW(write_patch_laz(dir / "q.laz", r), lidarhd::ArgumentError);
  EXPECT_THROW(write_patch_laz(dir / "q.txt", make_record(10, false)), lidarhd::ArgumentError);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"p.las"});
}

// --- split and metadata -----------------------------------------------------------------------

TEST(Split, DeterministicByTileName) {
  std::map<std::string, int> count;
  int moved = 0;
  for (int i = 0; i < 4000; ++i) {
    const std::string tile =
        "LHD_FXX_" + std::to_string(600 + i % 80) + "_" + std::to_string(6800 + i / 80) + ".laz";
    const std::string s = split_for_tile(tile, 42);
    EXPECT_EQ(s, split_for_tile("/some/folder/" + tile, 42));
    ++count[s];
    if (split_for_tile(tile, 43) != s) ++moved;
  }
  EXPECT_NEAR(count["train"], 3200, 120);
  EXPECT_NEAR(count["val"], 400, 80);
  EXPECT_NEAR(count["test"], 400, 80);
  EXPECT_GT(moved, 500);  // another seed, another split
  EXPECT_EQ(split_for_tile("a.laz", 1, 1.0, 0.0), "train");
  EXPECT_EQ(split_for_tile("a.laz", 1, 0.0, 1.0), "val");
  EXPECT_EQ(split_for_tile("a.laz", 1, 0.0, 0.0), "test");
  EXPECT_THROW(split_for_tile("a.laz", 1, 0.8, 0.3), lidarhd::ArgumentError);
  EXPECT_THROW(split_for_tile("a.laz", 1, -0.1, 0.3), lidarhd::ArgumentError);
}

TEST(Metadata, Document) {
  TempDir dir;
  DatasetMetadata m;
  m.feature_names = {"planarity", "normal_z", "my_column"};
  m.label_map = label_map("lod2");
  m.normalize = "center";
  m.eigen_norm = "sum";
  m.num_points = 16384;
  m.config_json = R"({"patches": {"size": 150}, "seed": 1})";
  m.config_yaml = "seed: 1\n";
  m.splits = {{"a.laz", "train"}};
  m.created = "2025-01-02T03:04:05Z";
  m.conventions["halo"] = "20 m";
  write_metadata_json(dir / "metadata.json", m);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"metadata.json"});
  std::ifstream in(dir / "metadata.json");
  const nlohmann::json j = nlohmann::json::parse(in);
  EXPECT_EQ(j["format"], "lidarhd-dataset");
  EXPECT_EQ(j["lidarhd_version"], library_version());
  EXPECT_EQ(j["created"], "2025-01-02T03:04:05Z");
  EXPECT_EQ(j["feature_names"][2], "my_column");
  EXPECT_EQ(j["features"][0]["unit"], "[0,1]");
  EXPECT_EQ(j["features"][2]["unit"], "");
  EXPECT_EQ(j["conventions"]["eigen_norm"], "sum");
  EXPECT_EQ(j["conventions"]["halo"], "20 m");
  EXPECT_EQ(j["labels"]["name"], "lod2");
  EXPECT_EQ(j["labels"]["class_names"].size(), 15u);
  EXPECT_FALSE(j["labels"]["from_asprs"].contains("17"));  // the default (other), not vehicle
  EXPECT_EQ(j["labels"]["default_label"], 14);
  EXPECT_EQ(j["config"]["patches"]["size"], 150);
  EXPECT_EQ(j["config_yaml"], "seed: 1\n");
  EXPECT_EQ(j["points_per_patch"], 16384);
  EXPECT_EQ(j["splits"]["a.laz"], "train");
  EXPECT_EQ(metadata_json(m), metadata_json(m));  // fixed date: deterministic text
  m.config_json = "{not json";
  EXPECT_THROW(metadata_json(m), lidarhd::ArgumentError);
}

}  // namespace
