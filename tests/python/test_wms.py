"""`lidarhd colorize --rgb wms` against the project's WMS server (wms_server.py) serving the IGN
test orthophotos, with fault injection.

Covered: colours from the WMS equal the orthophoto's pixels (and those of `--rgb FILE`) when the
WMS grid (0.2 m, anchored at 0, 0) falls on the file's pixels; several GetMap requests per tile
(--wms-block 100); a second run with --offline writes the same bytes and sends no request;
transient faults (5xx, 429 with Retry-After, timeouts, truncated and non-image bodies) are
retried; persistent ones fail with a message naming the problem and leave only decodable images
in the cache; a server dying mid-run fails the run, and a run against a restarted server
completes from the blocks already cached.

Environment: LIDARHD_BIN (default <repo>/build/cpu/lidarhd), LIDARHD_TEST_DATA (default
<repo>/../shared/data); the module is skipped without the binary, the data or the packages.
"""

import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

laspy = pytest.importorskip(
    "laspy", reason="laspy is required (pip install -r tests/python/requirements.txt)"
)
rasterio = pytest.importorskip(
    "rasterio", reason="rasterio is required (pip install -r tests/python/requirements.txt)"
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from wms_server import Fault, WmsServer  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("LIDARHD_BIN", REPO / "build" / "cpu" / "lidarhd"))
DATA = Path(os.environ.get("LIDARHD_TEST_DATA", REPO.parent / "shared" / "data"))
if not (BIN.is_file() and os.access(BIN, os.X_OK)):
    pytest.skip(
        f"lidarhd binary not found at {BIN} (build it with `cmake --preset cpu && "
        "cmake --build --preset cpu` or set LIDARHD_BIN)",
        allow_module_level=True,
    )
if subprocess.run([str(BIN), "colorize", "--help"], capture_output=True).returncode != 0:
    pytest.skip(f"{BIN} has no colorize command", allow_module_level=True)

TILE = DATA / "ign-pdal-tools" / "test_data_77055_627760_LA93_IGN69.laz"
RGB_TIF = DATA / "ign-pdal-tools" / "test_data_rgb.tif"
IRC_TIF = DATA / "ign-pdal-tools" / "test_data_irc.tif"
for path in (TILE, RGB_TIF, IRC_TIF):
    if not path.is_file():
        pytest.skip(f"test data not found: {path} (set LIDARHD_TEST_DATA)", allow_module_level=True)

RGB_LAYER = "HR.ORTHOIMAGERY.ORTHOPHOTOS"
IRC_LAYER = "ORTHOIMAGERY.ORTHOPHOTOS.IRC"
BLOCK = 100  # 20 m per request: the 50 m tile needs 9 to 16 of them
RES_CM = 20  # WMS resolution 0.2 m, in the centimetres of the LAS coordinates


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def server():
    with WmsServer({RGB_LAYER: RGB_TIF, IRC_LAYER: IRC_TIF}) as s:
        yield s


def colorize(src, dst, *args, check=True, timeout=300):
    cmd = [str(BIN), "colorize", str(src), str(dst), "--quiet", *map(str, args)]
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    proc.seconds = time.monotonic() - start
    if check and proc.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


def wms_args(server, cache, *extra, retries=3, backoff=0.05, timeout=10, connections=3):
    return ["--rgb", "wms", "--wms-url", server.url, "--wms-block", BLOCK, "--cache", cache,
            "--retries", retries, "--backoff", backoff, "--timeout", timeout,
            "--connections", connections, *extra]


def read_las(path):
    las = laspy.read(str(path))
    return las


def raster(path):
    with rasterio.open(path) as src:
        t = src.transform
        return src.read(), round(t.c * 100), round(t.f * 100)


def expected_colours(las, tif, band_count=3):
    """Per point, the orthophoto's pixel under it on the 0.2 m WMS grid, in exact integer
    arithmetic, as LAS 16-bit values (x 256); plus a mask of points on a pixel edge, where
    floating-point rounding may pick either neighbour."""
    data, x0_cm, y0_cm = raster(tif)
    x_cm = np.rint(np.asarray(las.x) * 100).astype(np.int64)
    y_cm = np.rint(np.asarray(las.y) * 100).astype(np.int64)
    assert x0_cm % RES_CM == 0 and y0_cm % RES_CM == 0, "the orthophoto is off the WMS grid"
    col = (x_cm - x0_cm) // RES_CM
    row = (y0_cm - y_cm) // RES_CM
    edge = (x_cm % RES_CM == 0) | (y_cm % RES_CM == 0)
    h, w = data.shape[1:]
    assert col.min() >= 0 and row.min() >= 0 and col.max() < w and row.max() < h
    values = data[:band_count, row, col].astype(np.uint16) * 256
    return values, edge, (data, row, col)


def las_rgb(las):
    return np.stack([np.asarray(las.red), np.asarray(las.green), np.asarray(las.blue)])


def check_colours(las, tif=RGB_TIF):
    """Colours equal the orthophoto's pixels; points on an edge take one of the adjacent ones."""
    want, edge, (data, row, col) = expected_colours(las, tif)
    got = las_rgb(las)
    exact = ~edge
    assert exact.sum() > 0.9 * len(edge)
    mismatch = np.flatnonzero(exact & (got != want).any(axis=0))
    assert mismatch.size == 0, (
        f"{mismatch.size} points differ from the orthophoto, first {mismatch[:5]}: "
        f"got {got[:, mismatch[:5]].T.tolist()}, want {want[:, mismatch[:5]].T.tolist()}")
    ok = np.zeros(len(edge), dtype=bool)
    for dr in (-1, 0):
        for dc in (-1, 0):
            r, c = np.maximum(row + dr, 0), np.maximum(col + dc, 0)
            ok |= (got == data[:3, r, c].astype(np.uint16) * 256).all(axis=0)
    assert ok[edge].all(), f"{(~ok[edge]).sum()} edge points match no adjacent pixel"


def cache_files(cache):
    return sorted(p for p in Path(cache).rglob("*") if p.is_file())


def check_cache_decodes(cache, bands=3):
    """Every cache entry is a whole BLOCK x BLOCK image; no temporary file is left."""
    files = cache_files(cache)
    for path in files:
        assert not path.name.startswith("."), f"temporary file left in the cache: {path}"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # NotGeoreferencedWarning: a plain PNG
            with rasterio.open(path) as src:
                data = src.read()  # raises on a truncated or corrupt image
        assert data.shape == (bands, BLOCK, BLOCK), f"{path}: {data.shape}"
    return len(files)


def run_json(proc):
    return json.loads(proc.stdout)


def total_requests(summary):
    return sum(w["requests"] for w in summary.get("wms", {}).values())


# ---------------------------------------------------------------------------------------------
# Colours and the cache
# ---------------------------------------------------------------------------------------------


def test_colours_equal_orthophoto_and_local_file(server, tmp_path):
    out = tmp_path / "wms.las"
    proc = colorize(TILE, out, *wms_args(server, tmp_path / "cache"), "--json")
    las = read_las(out)
    check_colours(las)

    gets = server.getmaps()
    assert len(gets) >= 9, f"only {len(gets)} GetMap requests for 20 m blocks over a 50 m tile"
    for g in gets:
        p = g["params"]
        assert (p["WIDTH"], p["HEIGHT"], p["CRS"], p["LAYERS"]) == ("100", "100", "EPSG:2154",
                                                                    RGB_LAYER)
        minx, miny, maxx, maxy = map(float, p["BBOX"].split(","))
        assert (maxx - minx, maxy - miny) == pytest.approx((20.0, 20.0))
        assert round(minx * 100) % 2000 == 0 and round(maxy * 100) % 2000 == 0
    assert total_requests(run_json(proc)) == len(gets)
    assert check_cache_decodes(tmp_path / "cache") == len(gets)

    # The local file gives the same colours wherever its pixel is not NoData (255) and the
    # point is not on a pixel edge (the file's pixel size is 0.19999999999963, not 0.2).
    local = tmp_path / "file.las"
    colorize(TILE, local, "--rgb", RGB_TIF)
    ref = read_las(local)
    _, edge, (data, row, col) = expected_colours(las, RGB_TIF)
    nodata = (data[:3, row, col] == 255).any(axis=0)
    same = ~edge & ~nodata
    assert np.array_equal(las_rgb(las)[:, same], las_rgb(ref)[:, same])


def test_rgb_and_irc_layers(server, tmp_path):
    out = tmp_path / "rgbi.las"
    colorize(TILE, out, *wms_args(server, tmp_path / "cache"), "--irc", "wms")
    las = read_las(out)
    check_colours(las)
    want, edge, _ = expected_colours(las, IRC_TIF, band_count=1)
    nir = np.asarray(las.nir)
    assert np.array_equal(nir[~edge], want[0][~edge])
    layers = {g["params"]["LAYERS"] for g in server.getmaps()}
    assert layers == {RGB_LAYER, IRC_LAYER}


def test_offline_rerun_is_identical_and_sends_nothing(server, tmp_path):
    cache = tmp_path / "cache"
    first, second = tmp_path / "first.las", tmp_path / "second.las"
    colorize(TILE, first, *wms_args(server, cache))
    sent = server.getmap_count()
    assert sent > 0
    proc = colorize(TILE, second, *wms_args(server, cache), "--offline", "--json")
    assert server.getmap_count() == sent, "--offline sent requests"
    assert total_requests(run_json(proc)) == 0
    assert first.read_bytes() == second.read_bytes()

    # Offline with a cache that lacks the blocks: a clear error, no output, still no request.
    third = tmp_path / "third.las"
    proc = colorize(TILE, third, *wms_args(server, tmp_path / "empty"), "--offline", check=False)
    assert proc.returncode != 0
    assert "--offline" in proc.stderr and "cache" in proc.stderr, proc.stderr
    assert not third.exists()
    assert server.getmap_count() == sent


def test_corrupt_cache_entry_is_refetched(server, tmp_path):
    cache = tmp_path / "cache"
    colorize(TILE, tmp_path / "a.las", *wms_args(server, cache))
    files = cache_files(cache)
    victim = files[len(files) // 2]
    victim.write_bytes(victim.read_bytes()[:200])  # cut, as by a crash of another tool
    sent = server.getmap_count()
    out = tmp_path / "b.las"
    colorize(TILE, out, *wms_args(server, cache))
    assert server.getmap_count() == sent + 1
    check_colours(read_las(out))
    assert check_cache_decodes(cache) == len(files)


# ---------------------------------------------------------------------------------------------
# Faults
# ---------------------------------------------------------------------------------------------

TRANSIENT = {
    "500": Fault("500", 2),
    "503": Fault("503", 2),
    "429": Fault("429", 2, retry_after=0),
    "slow": Fault("slow", 2, seconds=4),
    "truncated_length": Fault("truncated_length", 2),
    "truncated_png": Fault("truncated_png", 2),
    "xml": Fault("xml", 2),
    "html": Fault("html", 2),
}


@pytest.mark.parametrize("kind", list(TRANSIENT))
def test_transient_faults_are_retried(server, tmp_path, kind):
    server.set_faults([TRANSIENT[kind]])
    out = tmp_path / "out.las"
    proc = colorize(TILE, out, *wms_args(server, tmp_path / "cache", "--json", timeout=1))
    summary = run_json(proc)
    retries = sum(w["retries"] for w in summary["wms"].values())
    assert retries == 2, proc.stderr
    assert "attempt 1/4" in proc.stderr, proc.stderr  # one warning line per retry
    check_colours(read_las(out))
    assert check_cache_decodes(tmp_path / "cache") == server.getmap_count() - 2


def test_retry_after_is_honoured(server, tmp_path):
    server.set_faults([Fault("429", 1, retry_after=2)])
    proc = colorize(TILE, tmp_path / "out.las", *wms_args(server, tmp_path / "cache"))
    assert "HTTP 429" in proc.stderr and "retrying in 2 s" in proc.stderr, proc.stderr
    first = min(g["time"] for g in server.getmaps() if g["fault"] == "429")
    retried = [g["time"] for g in server.getmaps() if g["time"] > first]
    # The retry of the throttled block comes about 2 s later (other blocks go on meanwhile).
    assert max(retried) - first >= 1.8
    assert proc.seconds >= 1.8


PERSISTENT = {
    "500": (Fault("500", None, start=3), "HTTP 500"),
    "xml": (Fault("xml", None, start=3), "Backend unavailable"),
    "html": (Fault("html", None, start=3), "not an image"),
    "truncated_png": (Fault("truncated_png", None, start=3), "does not decode"),
    "truncated_length": (Fault("truncated_length", None, start=3), "network error"),
    "slow": (Fault("slow", None, start=3, seconds=3), "timeout"),
}


@pytest.mark.parametrize("kind", list(PERSISTENT))
def test_persistent_faults_fail_clearly(server, tmp_path, kind):
    fault, message = PERSISTENT[kind]
    server.set_faults([fault])
    out = tmp_path / "out.las"
    cache = tmp_path / "cache"
    proc = colorize(TILE, out, *wms_args(server, cache, retries=2, timeout=1, connections=1),
                    check=False)
    assert proc.returncode != 0
    assert message in proc.stderr and "GetMap" in proc.stderr and server.url in proc.stderr, \
        proc.stderr
    assert "after 3 attempt(s)" in proc.stderr, proc.stderr
    assert not out.exists()
    # The three good answers are cached, whole; no bad answer is.
    assert check_cache_decodes(cache) == 3


def test_unknown_layer_fails_fast(server, tmp_path):
    proc = colorize(TILE, tmp_path / "out.las",
                    *wms_args(server, tmp_path / "cache", "--wms-rgb-layer", "NO.SUCH.LAYER"),
                    check=False)
    assert proc.returncode != 0
    assert "LayerNotDefined" in proc.stderr, proc.stderr
    assert server.getmap_count() <= 3  # no retry: at most one request per connection
    assert cache_files(tmp_path / "cache") == []


def test_server_dying_mid_run_then_restart_completes_from_cache(tmp_path):
    cache = tmp_path / "cache"
    out = tmp_path / "out.las"
    with WmsServer({RGB_LAYER: RGB_TIF}, die_after=4) as dying:
        proc = colorize(TILE, out, *wms_args(dying, cache, retries=2), check=False)
        assert proc.returncode != 0
        assert "network error" in proc.stderr and dying.url in proc.stderr, proc.stderr
    assert not out.exists()
    kept = check_cache_decodes(cache)
    assert 1 <= kept <= 4

    with WmsServer({RGB_LAYER: RGB_TIF}) as restarted:
        proc = colorize(TILE, out, *wms_args(restarted, cache), "--json")
        summary = run_json(proc)
        hits = sum(w["cache_hits"] for w in summary["wms"].values())
        assert hits == kept
        assert restarted.getmap_count() == total_requests(summary)
    check_colours(read_las(out))
