// Writes one example of each dataset file into a folder, for tests/python/test_dataset_files.py
// (numpy, h5py and laspy read them back): example.npz, example.h5 (a patch and its augmented
// copy), example.laz and metadata.json. Every value follows from the point index by the formulas
// below, which the Python test repeats.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "lidarhd/patches/dataset.hpp"
#include "lidarhd/patches/labels.hpp"

namespace {

using namespace lidarhd::patches;

constexpr size_t kPoints = 100;

PatchRecord example(int augmentation) {
  PatchRecord r;
  r.feature_names = {"planarity", "normal_z", "height_above_ground"};
  const uint8_t codes[] = {2, 3, 4, 5, 6, 6, 6, 6, 7, 9, 17, 18, 66, 1};
  for (size_t i = 0; i < kPoints; ++i) {
    const float fi = float(i);
    r.points.insert(r.points.end(), {fi * 0.5f - 25.0f, float(i % 10) - 5.0f, fi * 0.125f});
    r.world_xyz.insert(r.world_xyz.end(),
                       {650075.5 + double(fi * 0.5f - 25.0f),
                        6860075.25 + double(float(i % 10) - 5.0f), 100.0 + double(fi * 0.125f)});
    const float planarity = (float((i * 37) % 100) + 0.5f) / 100.0f;
    const float normal_z = (float((i * 53) % 100) + 0.5f) / 100.0f;
    r.features.insert(r.features.end(), {planarity, normal_z, fi * 0.25f});
    r.classification.push_back(codes[i % 14]);
    r.rgb.insert(r.rgb.end(),
                 {float(i) / 255.0f, float(255 - i) / 255.0f, float((2 * i) % 256) / 255.0f});
    r.nir.push_back(float((3 * i) % 256) / 255.0f);
    r.ndvi.push_back(0.5f);
  }
  std::vector<float> pl(kPoints), nz(kPoints);
  for (size_t i = 0; i < kPoints; ++i) pl[i] = r.features[i * 3], nz[i] = r.features[i * 3 + 1];
  r.labels.resize(kPoints);
  apply_labels(label_map("lod2"), r.classification.data(), pl.data(), nz.data(), kPoints,
               r.labels.data());
  r.center = {650075.5, 6860075.25, 100.0};
  r.bounds = {650000.5, 6860000.25, 650150.5, 6860150.25};
  r.tile = "LHD_FXX_0650_6861_PTS_C_LAMB93_IGN69";
  r.patch_index = 7;
  r.augmentation = augmentation;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: dataset_example OUTPUT_FOLDER\n");
    return 2;
  }
  const std::string out = argv[1];
  try {
    const PatchRecord r = example(0);
    write_npz(out + "/example.npz", r);
    Hdf5TileWriter h5(out + "/example.h5");
    h5.add(r);
    h5.add(example(1));
    h5.close();
    write_patch_laz(out + "/example.laz", r);
    DatasetMetadata m;
    m.feature_names = r.feature_names;
    m.label_map = label_map("lod2");
    m.num_points = kPoints;
    m.config_json = R"({"labels": "lod2", "seed": 1})";
    m.created = "2025-01-01T00:00:00Z";
    m.splits[r.tile] = split_for_tile(r.tile, 1);
    write_metadata_json(out + "/metadata.json", m);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dataset_example: %s\n", e.what());
    return 1;
  }
  return 0;
}
