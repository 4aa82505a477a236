"""Dataset files written by the C++ writers load in numpy, h5py and laspy with the documented keys,
dtypes, shapes and values (docs/datasets.md), and their labels follow the mapping
recorded in metadata.json.

The test-only program `dataset_example` (tests/tools/dataset_example.cpp) writes example.npz,
example.h5 (patch 7 and its augmented copy), example.laz and metadata.json; every value follows
from the point index i by the formulas repeated in `expected()` below.

Environment: LIDARHD_DATASET_EXAMPLE (default <repo>/build/cpu/tests/dataset_example); the module
is skipped without it (built with the tests when LIDARHD_DATASETS=ON).
"""

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = Path(
    os.environ.get("LIDARHD_DATASET_EXAMPLE", REPO / "build" / "cpu" / "tests" / "dataset_example")
)
if not (EXAMPLE.is_file() and os.access(EXAMPLE, os.X_OK)):
    pytest.skip(
        f"dataset_example not found at {EXAMPLE} (build the cpu preset with LIDARHD_DATASETS=ON, "
        "or set LIDARHD_DATASET_EXAMPLE)",
        allow_module_level=True,
    )

N = 100
TILE = "LHD_FXX_0650_6861_PTS_C_LAMB93_IGN69"
CODES = [2, 3, 4, 5, 6, 6, 6, 6, 7, 9, 17, 18, 66, 1]


def expected():
    i = np.arange(N)
    f = i.astype(np.float32)
    e = {}
    e["points"] = np.stack(
        [f * np.float32(0.5) - np.float32(25), (i % 10).astype(np.float32) - np.float32(5),
         f * np.float32(0.125)], axis=1).astype(np.float32)
    planarity = (((i * 37) % 100).astype(np.float32) + np.float32(0.5)) / np.float32(100)
    normal_z = (((i * 53) % 100).astype(np.float32) + np.float32(0.5)) / np.float32(100)
    e["features"] = np.stack([planarity, normal_z, f * np.float32(0.25)], axis=1)
    e["classification"] = np.array([CODES[k % 14] for k in i], dtype=np.uint8)
    e["rgb"] = np.stack([f / np.float32(255), (255 - i).astype(np.float32) / np.float32(255),
                         ((2 * i) % 256).astype(np.float32) / np.float32(255)], axis=1)
    e["nir"] = ((3 * i) % 256).astype(np.float32) / np.float32(255)
    e["ndvi"] = np.full(N, 0.5, dtype=np.float32)
    e["center"] = np.array([650075.5, 6860075.25, 100.0])
    e["bounds"] = np.array([650000.5, 6860000.25, 650150.5, 6860150.25])
    return e


def apply_mapping(mapping, classification, planarity, normal_z):
    """The label rules of metadata.json's `labels`, re-implemented independently."""
    labels = np.full(classification.shape, mapping["default_label"], dtype=np.int64)
    for code, label in mapping["from_asprs"].items():
        labels[classification == int(code)] = label
    features = {"planarity": planarity.astype(np.float64), "normal_z": normal_z.astype(np.float64)}
    for idx in range(len(labels)):
        for rule in mapping["geometry"]:
            if classification[idx] != rule["asprs"]:
                continue
            ok = True
            for name, bounds in rule["when"].items():
                v = features[name][idx]
                ok &= v > bounds.get("gt", -np.inf) and v >= bounds.get("ge", -np.inf)
                ok &= v < bounds.get("lt", np.inf) and v <= bounds.get("le", np.inf)
            if ok:
                labels[idx] = rule["label"]
                break
    return labels.astype(np.uint8)


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dataset")
    subprocess.run([str(EXAMPLE), str(folder)], check=True, capture_output=True, timeout=120)
    return folder


def test_files_and_no_temporaries(out):
    names = sorted(p.name for p in out.iterdir())
    assert names == ["example.h5", "example.laz", "example.npz", "metadata.json"], names


def test_npz_keys_dtypes_shapes_values(out):
    e = expected()
    with np.load(out / "example.npz", allow_pickle=False) as z:
        assert sorted(z.files) == sorted([
            "points", "features", "feature_names", "labels", "classification", "rgb", "nir",
            "ndvi", "center", "scale", "bounds", "tile", "patch_index", "augmentation"])
        assert z["points"].dtype == np.float32 and z["points"].shape == (N, 3)
        assert z["features"].dtype == np.float32 and z["features"].shape == (N, 3)
        assert z["feature_names"].dtype.kind == "U"
        assert list(z["feature_names"]) == ["planarity", "normal_z", "height_above_ground"]
        assert z["labels"].dtype == np.uint8 and z["labels"].shape == (N,)
        assert z["classification"].dtype == np.uint8
        assert z["rgb"].shape == (N, 3) and z["rgb"].dtype == np.float32
        assert z["nir"].shape == (N,) and z["ndvi"].shape == (N,)
        assert z["center"].dtype == np.float64 and z["bounds"].shape == (4,)
        assert z["scale"].dtype == np.float64 and z["scale"].shape == () and float(z["scale"]) == 1
        assert z["tile"].shape == () and str(z["tile"]) == TILE
        assert z["patch_index"].dtype == np.int64 and int(z["patch_index"]) == 7
        assert z["augmentation"].shape == () and int(z["augmentation"]) == 0
        for key in ["points", "features", "classification", "rgb", "nir", "ndvi", "center",
                    "bounds"]:
            np.testing.assert_array_equal(z[key], e[key], err_msg=key)


def test_labels_follow_the_recorded_mapping(out):
    meta = json.loads((out / "metadata.json").read_text())
    mapping = meta["labels"]
    assert mapping["name"] == "lod2" and len(mapping["class_names"]) == 15
    assert mapping["ignore_label"] == 255
    with np.load(out / "example.npz") as z:
        labels, cls, feats = z["labels"], z["classification"], z["features"]
    np.testing.assert_array_equal(labels, apply_mapping(mapping, cls, feats[:, 0], feats[:, 1]))
    # The documented lod2 facts, independently of the file's own table.
    assert set(labels[np.isin(cls, [7, 18, 66])]) == {255}
    assert set(labels[cls == 17]) == {14}  # bridges: other, never vehicle (13)
    assert set(labels[cls == 2]) == {9}
    building = labels[cls == 6]
    assert {0, 1, 2} >= set(building) and len(set(building)) >= 2
    pl, nz = feats[cls == 6, 0], feats[cls == 6, 1]
    np.testing.assert_array_equal(building == 1, (pl > 0.85) & (nz > 0.9))


def test_hdf5_groups_datasets_attributes(out):
    h5py = pytest.importorskip("h5py", reason="h5py is required (tests/python/requirements.txt)")
    e = expected()
    with h5py.File(out / "example.h5", "r") as f:
        assert sorted(f.keys()) == ["patch_000007", "patch_000007_aug1"]
        assert f.attrs["tile"] == TILE
        for name, aug in [("patch_000007", 0), ("patch_000007_aug1", 1)]:
            g = f[name]
            assert set(g.keys()) == {"points", "features", "feature_names", "labels",
                                     "classification", "rgb", "nir", "ndvi", "center",
                                     "bounds"}
            assert g.attrs["tile"] == TILE
            assert int(g.attrs["patch_index"]) == 7 and int(g.attrs["augmentation"]) == aug
            assert float(g.attrs["scale"]) == 1.0
            assert g["points"].dtype == np.float32 and g["points"].shape == (N, 3)
            assert g["points"].compression == "gzip"
            assert g["labels"].dtype == np.uint8
            assert list(g["feature_names"].asstr()[()]) == [
                "planarity", "normal_z", "height_above_ground"]
            for key in ["points", "features", "classification", "rgb", "nir", "center"]:
                np.testing.assert_array_equal(g[key][()], e[key], err_msg=f"{name}/{key}")
        with np.load(out / "example.npz") as z:
            np.testing.assert_array_equal(f["patch_000007/labels"][()], z["labels"])


def test_laz_patch_extra_dimensions(out):
    laspy = pytest.importorskip("laspy", reason="laspy is required (requirements.txt)")
    pytest.importorskip("lazrs", reason="lazrs is required (requirements.txt)")
    e = expected()
    las = laspy.read(out / "example.laz")
    assert las.header.point_format.id == 8 and las.header.version.minor == 4
    assert list(las.point_format.extra_dimension_names) == [
        "planarity", "normal_z", "height_above_ground", "ndvi", "label"]
    world = e["points"].astype(np.float64) + e["center"]
    np.testing.assert_allclose(las.x, world[:, 0], atol=0.0051)
    np.testing.assert_allclose(las.y, world[:, 1], atol=0.0051)
    np.testing.assert_allclose(las.z, world[:, 2], atol=0.0051)
    np.testing.assert_array_equal(np.asarray(las.classification), e["classification"])
    np.testing.assert_array_equal(np.asarray(las["planarity"]), e["features"][:, 0])
    np.testing.assert_array_equal(np.asarray(las["height_above_ground"]), e["features"][:, 2])
    assert las["planarity"].dtype == np.float32 and las["label"].dtype == np.uint8
    np.testing.assert_array_equal(np.asarray(las.red), np.arange(N) * 256)  # 8-bit x 256
    np.testing.assert_array_equal(np.asarray(las.nir), ((3 * np.arange(N)) % 256) * 256)
    with np.load(out / "example.npz") as z:
        np.testing.assert_array_equal(np.asarray(las["label"]), z["labels"])


def test_metadata(out):
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["format"] == "lidarhd-dataset"
    assert meta["feature_names"] == ["planarity", "normal_z", "height_above_ground"]
    assert [f["unit"] for f in meta["features"]] == ["[0,1]", "unit vector", "m"]
    assert meta["config"] == {"labels": "lod2", "seed": 1}
    assert meta["conventions"]["normalize"] == "center"
    assert meta["splits"][TILE] in ("train", "val", "test")
    assert meta["lidarhd_version"]


def test_same_input_same_bytes(out, tmp_path):
    subprocess.run([str(EXAMPLE), str(tmp_path)], check=True, capture_output=True, timeout=120)
    for name in ["example.npz", "example.h5", "metadata.json"]:
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes(), name
