"""Files written by `lidarhd convert` are read by laspy + lazrs (the Rust LAZ codec) with the values
of their source.

Covered: LAS and LAZ output in point formats 0-3 and 6-8 (conversions between the legacy and the
extended families map returns, classification, flags and scan angle as PDAL does), source extra
bytes kept, extra dimensions added through convert's hidden test option
`--add-extra-dim NAME:TYPE[:SCALE]` (float32, float64 and scaled integers, filled with the pattern
k = (37 i + 11) mod 101, value (k - 50) * scale, or k * scale for unsigned types), refusal of lossy
conversions (no output file left), thread-count independence of the LAZ bytes, and LASzip
byte-exactness of the point area for laz-rs point10 / point-time-color.

Sources are generated with laspy in pytest's tmp_path (always available) and, when present, read
from the shared data folder (LIDARHD_TEST_DATA, default <repo>/../shared/data).

Environment: LIDARHD_BIN (default <repo>/build/cpu/lidarhd); the module is skipped without it.
"""

import os
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

laspy = pytest.importorskip(
    "laspy", reason="laspy is required (pip install -r tests/python/requirements.txt)"
)
lazrs = pytest.importorskip(
    "lazrs", reason="lazrs is required (pip install -r tests/python/requirements.txt)"
)

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("LIDARHD_BIN", REPO / "build" / "cpu" / "lidarhd"))
DATA = Path(os.environ.get("LIDARHD_TEST_DATA", REPO.parent / "shared" / "data"))
if not (BIN.is_file() and os.access(BIN, os.X_OK)):
    pytest.skip(
        f"lidarhd binary not found at {BIN} (build it with `cmake --preset cpu && "
        "cmake --build --preset cpu` or set LIDARHD_BIN)",
        allow_module_level=True,
    )

LEGACY = (0, 1, 2, 3)
EXTENDED = (6, 7, 8)
LAZ_BACKEND = laspy.LazBackend.Lazrs


def convert(src, dst, *args, check=True):
    cmd = [str(BIN), "convert", str(src), str(dst), *map(str, args)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if check and proc.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


def read(path):
    with laspy.open(str(path), laz_backend=LAZ_BACKEND) as f:
        return f.read()


def data_file(rel):
    path = DATA / rel
    if not path.is_file():
        pytest.skip(f"test data not found: {path} (set LIDARHD_TEST_DATA)")
    return path


# ---------------------------------------------------------------------------------------------
# Sources written by laspy at test time
# ---------------------------------------------------------------------------------------------


def make_source(path, point_format, n=5000, seed=7, extra=False):
    """Airborne-like records whose values survive every legacy <-> extended conversion."""
    rng = np.random.default_rng(seed)
    header = laspy.LasHeader(point_format=point_format, version="1.4" if point_format >= 6 else "1.2")
    header.scales = np.array([0.01, 0.01, 0.01])
    header.offsets = np.array([650000.0, 6860000.0, 0.0])
    if extra:
        header.add_extra_dims(
            [
                laspy.ExtraBytesParams("src_f64", "f8"),
                laspy.ExtraBytesParams("src_u16_scaled", "u2", scales=[0.05], offsets=[10.0]),
            ]
        )
    las = laspy.LasData(header)
    las.X = rng.integers(0, 100000, n, dtype=np.int32)
    las.Y = rng.integers(0, 100000, n, dtype=np.int32)
    las.Z = rng.integers(-5000, 20000, n, dtype=np.int32)
    las.intensity = rng.integers(0, 65536, n, dtype=np.uint16)
    nret = rng.integers(1, 8, n)
    las.number_of_returns = nret
    las.return_number = 1 + (rng.integers(0, 7, n) % nret)
    las.scan_direction_flag = rng.integers(0, 2, n)
    las.edge_of_flight_line = rng.integers(0, 2, n)
    las.classification = rng.integers(0, 32, n)
    las.synthetic = rng.integers(0, 2, n)
    las.key_point = rng.integers(0, 2, n)
    las.withheld = rng.integers(0, 2, n)
    las.user_data = rng.integers(0, 256, n)
    las.point_source_id = rng.integers(0, 65536, n)
    if point_format >= 6:
        # Multiples of 1/0.006 degree steps that map to whole degrees both ways.
        las.scan_angle = np.round(rng.integers(-90, 91, n) / 0.006).astype(np.int16)
    else:
        las.scan_angle_rank = rng.integers(-90, 91, n)
    names = set(las.point_format.dimension_names)
    if "gps_time" in names:
        las.gps_time = np.sort(rng.uniform(3e8, 3.1e8, n))
    if "red" in names:
        las.red = rng.integers(0, 65536, n)
        las.green = rng.integers(0, 65536, n)
        las.blue = rng.integers(0, 65536, n)
    if "nir" in names:
        las.nir = rng.integers(0, 65536, n)
    if extra:
        las.src_f64 = rng.normal(0, 1000, n)
        las.src_u16_scaled = np.round(rng.uniform(10, 3000, n) / 0.05) * 0.05
    las.write(str(path))
    return path


def vlr_ids(vlrs):
    """VLRs a conversion must keep: all but LASzip's, the Extra Bytes one and COPC's."""
    return [
        (v.user_id, v.record_id, v.description)
        for v in vlrs
        if v.user_id not in ("laszip encoded", "copc")
        and not (v.user_id == "LASF_Spec" and v.record_id == 4)
    ]


def scan_degrees(las):
    if las.header.point_format.id >= 6:
        return np.asarray(las.scan_angle, dtype=np.float64) * 0.006
    return np.asarray(las.scan_angle_rank, dtype=np.float64)


def assert_same_points(src, dst):
    """Every value the two formats share is equal; fields only the target has are zero."""
    assert len(dst.points) == len(src.points)
    for dim in ("X", "Y", "Z", "intensity", "return_number", "number_of_returns",
                "scan_direction_flag", "edge_of_flight_line", "classification", "synthetic",
                "key_point", "withheld", "user_data", "point_source_id"):
        np.testing.assert_array_equal(np.asarray(dst[dim]), np.asarray(src[dim]), err_msg=dim)
    np.testing.assert_allclose(scan_degrees(dst), scan_degrees(src), atol=0.0031)
    sn, dn = set(src.point_format.dimension_names), set(dst.point_format.dimension_names)
    for dim in ("gps_time", "red", "green", "blue", "nir"):
        if dim in dn:
            expected = np.asarray(src[dim]) if dim in sn else 0
            np.testing.assert_array_equal(np.asarray(dst[dim]), expected, err_msg=dim)
    for name in src.point_format.extra_dimension_names:
        assert name in dst.point_format.extra_dimension_names
        np.testing.assert_array_equal(np.asarray(dst[name]), np.asarray(src[name]), err_msg=name)
    np.testing.assert_allclose(dst.header.mins, np.min(np.c_[dst.x, dst.y, dst.z], axis=0))
    np.testing.assert_allclose(dst.header.maxs, np.max(np.c_[dst.x, dst.y, dst.z], axis=0))


@pytest.mark.parametrize("src_format", [3, 8])
@pytest.mark.parametrize("dst_format", LEGACY + EXTENDED)
@pytest.mark.parametrize("ext", [".las", ".laz"])
def test_generated_sources_in_every_format(tmp_path, src_format, dst_format, ext):
    src = make_source(tmp_path / f"src{src_format}.las", src_format, extra=True)
    out = tmp_path / f"out{dst_format}{ext}"
    convert(src, out, "--point-format", dst_format, "--chunk-size", 1000, "--threads", 2)
    dst = read(out)
    assert dst.header.point_format.id == dst_format
    assert dst.header.version.minor == (4 if dst_format >= 6 or src_format >= 6 else 2)
    assert (dst.header.point_format.id, ext == ".laz") == (dst_format, out.read_bytes()[104] >= 128)
    assert_same_points(read(src), dst)


@pytest.mark.parametrize(
    "rel,formats",
    [
        ("laz-rs/point-time-color.las", LEGACY + EXTENDED),
        ("ign-pdal-tools/test_data_77055_627760_LA93_IGN69.laz", LEGACY + EXTENDED),
        ("laspy/simple.copc.laz", (3, 7)),
        ("laspy/extra.laz", (3, 8)),
    ],
)
def test_real_files_in_every_format(tmp_path, rel, formats):
    path = data_file(rel)
    src = read(path)
    for pf in formats:
        for ext in (".las", ".laz"):
            out = tmp_path / f"o{pf}{ext}"
            convert(path, out, "--point-format", pf)
            dst = read(out)
            assert dst.header.point_format.id == pf
            assert_same_points(src, dst)
            assert vlr_ids(dst.header.vlrs) == vlr_ids(src.header.vlrs)
            assert vlr_ids(dst.evlrs or []) == vlr_ids(src.evlrs or [])


EXTRA_SPECS = [
    ("feat_f32", "f32", None),
    ("feat_f64", "f64", None),
    ("hag_i16_scaled", "i16", 0.01),
    ("count_u8", "u8", None),
    ("dist_u32_scaled", "u32", 0.001),
    ("name_of_exactly_32_bytes_abcdefg", "i32", 0.5),
]


def pattern(n, type_name, scale):
    k = (np.arange(n, dtype=np.uint64) * 37 + 11) % 101
    k = k.astype(np.float64)
    value = (k if type_name.startswith("u") else k - 50) * (scale or 1.0)
    return value


@pytest.mark.parametrize("ext", [".las", ".laz"])
@pytest.mark.parametrize("dst_format", [3, 6, 8])
def test_added_extra_dimensions(tmp_path, ext, dst_format):
    src_path = make_source(tmp_path / "src.las", 3, n=3001, extra=True)
    out = tmp_path / f"x{ext}"
    args = ["--point-format", dst_format, "--chunk-size", 500]
    for name, type_name, scale in EXTRA_SPECS:
        args += ["--add-extra-dim", f"{name}:{type_name}" + (f":{scale}" if scale else "")]
    convert(src_path, out, *args)
    src, dst = read(src_path), read(out)
    assert_same_points(src, dst)
    names = list(dst.point_format.extra_dimension_names)
    assert names == ["src_f64", "src_u16_scaled"] + [s[0] for s in EXTRA_SPECS]
    for name, type_name, scale in EXTRA_SPECS:
        expected = pattern(len(src.points), type_name, scale)
        got = np.asarray(dst[name], dtype=np.float64)
        if type_name == "f32":
            np.testing.assert_array_equal(got, expected.astype(np.float32), err_msg=name)
        else:
            np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9, err_msg=name)
        dim = dst.point_format.dimension_by_name(name)
        assert dim.dtype == np.dtype({"f32": "f4", "f64": "f8", "i16": "i2", "u8": "u1",
                                      "u32": "u4", "i32": "i4"}[type_name])
        if scale:
            assert dim.scales is not None and np.isclose(dim.scales[0], scale)


def test_extra_dimension_name_too_long(tmp_path):
    src = make_source(tmp_path / "src.las", 1, n=10)
    out = tmp_path / "long.las"
    proc = convert(src, out, "--add-extra-dim", "n" * 33 + ":f32", check=False)
    assert proc.returncode != 0
    assert "32" in proc.stderr
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src.las"]


def test_lossy_conversion_is_refused(tmp_path):
    src = data_file("ign-pdal-tools/test_data_77055_627755_LA93_IGN69_extra_dims.laz")
    out = tmp_path / "p3.laz"
    proc = convert(src, out, "--point-format", 3, check=False)
    assert proc.returncode == 1
    assert "classification 64 is over 31" in proc.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_unwritable_destination(tmp_path):
    src = make_source(tmp_path / "src.las", 0, n=10)
    (tmp_path / "file").write_text("x")
    for out in (tmp_path / "file" / "o.las", Path("/proc/lidarhd_nope/o.laz")):
        proc = convert(src, out, check=False)
        assert proc.returncode == 1
        assert str(out) in proc.stderr
        assert not out.exists()


def test_bad_output_extension(tmp_path):
    src = make_source(tmp_path / "src.las", 0, n=10)
    for name in ("o.txt", "o.copc.laz"):
        proc = convert(src, tmp_path / name, check=False)
        assert proc.returncode == 1 and name in proc.stderr


def test_laz_bytes_do_not_depend_on_threads(tmp_path):
    src = make_source(tmp_path / "src.las", 8, n=20000)
    outs = []
    for threads in (1, 2, 4):
        out = tmp_path / f"t{threads}.laz"
        convert(src, out, "--chunk-size", 1500, "--threads", threads)
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] == outs[2]


def point_area(path):
    """The chunks and the chunk table of a LAZ file (everything after the i64 table offset)."""
    data = path.read_bytes()
    offset_to_points = struct.unpack_from("<I", data, 96)[0]
    return data[offset_to_points + 8:]


@pytest.mark.parametrize("name", ["point10", "point-time-color"])
def test_point_area_identical_to_laszip(tmp_path, name):
    las = data_file(f"laz-rs/{name}.las")
    reference = data_file(f"laz-rs/{name}.laz")
    out = tmp_path / f"{name}.laz"
    convert(las, out)
    assert point_area(out) == point_area(reference)
