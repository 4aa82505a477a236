"""`lidarhd process --memory-budget`: a tile over the budget is streamed from disk in spatial
chunks, and its outputs are the in-core run's, byte for byte, with halos from neighbouring tiles,
colours, every patch format, radius neighbourhoods and sparse points that force wider margins.
Peak RSS (getrusage of the child) stays within the budget plus the constant docs/scale.md states.

Inputs are synthetic tiles made with `lidarhd synth` in pytest's tmp folder (offline).
Environment: LIDARHD_BIN (default <repo>/build/cpu/lidarhd); the module is skipped without it.
"""

import json
import subprocess
import sys

import pytest

from lidarhd_cli import BIN, adjacent_tiles, outputs, require_binary, run

require_binary()

SMALL = ["--set", "patches.size=40", "--set", "patches.min_points=2000",
         "--set", "patches.num_points=1024", "--set", "threads=2"]
# The constant docs/scale.md states: peak RSS <= budget + this.
RSS_CONSTANT_MB = 128


def peak_rss_mb(*args):
    """Runs lidarhd in a fresh Python process and returns its peak RSS (MB), from getrusage."""
    code = ("import resource, subprocess, sys\n"
            "r = subprocess.run(sys.argv[1:], capture_output=True)\n"
            "assert r.returncode == 0, r.stderr.decode()\n"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    out = subprocess.run([sys.executable, "-c", code, str(BIN), *map(str, args)],
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr
    return int(out.stdout.strip()) / 1024


def tile_warnings(out):
    summary = json.loads((out / "summary.json").read_text())
    return {t["name"]: t["warnings"] for t in summary["tiles"]}


@pytest.fixture(scope="module")
def tiles(tmp_path_factory):
    return adjacent_tiles(tmp_path_factory.mktemp("tiles"), seed=3)


@pytest.fixture(scope="module")
def coloured(tmp_path_factory):
    """One 160 m tile with its synthetic RGB and IRC orthophotos."""
    folder = tmp_path_factory.mktemp("coloured")
    run("synth", folder / "c.laz", "--size", 160, "--seed", 5, "--ortho", folder / "rgb.tif",
        "--irc", folder / "irc.tif", "--threads", 2)
    return folder


def compare(inputs, tmp_path, *args, budget="1M"):
    whole, streamed = tmp_path / "whole", tmp_path / "streamed"
    run("process", *inputs, "-o", whole, "--quiet", *SMALL, *args)
    run("process", *inputs, "-o", streamed, "--quiet", "--memory-budget", budget, *SMALL, *args)
    a, b = outputs(whole), outputs(streamed)
    assert a, "no output written"
    assert sorted(a) == sorted(b)
    different = [name for name in a if a[name] != b[name]]
    assert not different, f"streamed outputs differ: {different[:5]}"
    warnings = tile_warnings(streamed)
    assert all(any(w.startswith("streamed under the memory budget") for w in ws) for ws in warnings.values()), warnings
    assert not (streamed / "streaming").exists(), "temporary spill files left behind"
    return warnings


def test_streamed_tiles_with_halos_equal_in_core(tiles, tmp_path):
    compare([tiles], tmp_path, "--preset", "lod3")


def test_streamed_hdf5_and_laz_patches_equal_in_core(tiles, tmp_path):
    compare([tiles / "tile_0.laz"], tmp_path / "h5", "--set", "patches.format=hdf5", "--neighbors", tiles)
    compare([tiles / "tile_3.laz"], tmp_path / "laz", "--set", "patches.format=laz",
            "--set", "patches.sampling=fps", "--set", "patches.augment.copies=1")


def test_streamed_colours_and_radius_neighbourhoods_equal_in_core(coloured, tmp_path):
    colours = ["--set", f"colors.rgb={coloured / 'rgb.tif'}", "--set", f"colors.irc={coloured / 'irc.tif'}"]
    compare([coloured / "c.laz"], tmp_path / "nearest", *colours)
    compare([coloured / "c.laz"], tmp_path / "bilinear", *colours, "--set", "colors.method=bilinear",
            "--set", "features.radius=1.5", "--preset", "full")


def test_sparse_points_widen_the_margin_and_stay_exact(tmp_path):
    # About one point per 40 m2: 20 neighbours reach past the first 10 m margin.
    run("synth", tmp_path / "sparse.laz", "--size", 300, "--density", 0.025, "--seed", 2)
    warnings = compare([tmp_path / "sparse.laz"], tmp_path, "--set", "patches.min_points=10",
                       "--set", "patches.size=100", budget="64K")
    assert any("redone with a wider margin" in w for w in warnings["sparse"]), warnings


def test_peak_rss_stays_within_the_budget(coloured, tmp_path):
    tile = tmp_path / "big.laz"
    run("synth", tile, "--size", 300, "--seed", 7, "--threads", 2)  # about 1.8 M points
    args = ["process", tile, "--quiet", "--force", *SMALL]
    whole = peak_rss_mb(*args, "-o", tmp_path / "whole")
    streamed = peak_rss_mb(*args, "-o", tmp_path / "streamed", "--memory-budget", "32M")
    assert outputs(tmp_path / "whole") == outputs(tmp_path / "streamed")
    assert streamed <= 32 + RSS_CONSTANT_MB, f"streamed peak RSS {streamed:.0f} MB"
    assert whole > 2 * streamed, f"in-core {whole:.0f} MB vs streamed {streamed:.0f} MB"


def test_bad_budget_is_refused(tiles, tmp_path):
    proc = run("process", tiles, "-o", tmp_path / "x", "--memory-budget", "lots", check=False)
    assert proc.returncode != 0
    assert "--memory-budget 'lots'" in proc.stderr


def test_device_budget_chunks_features_with_the_same_outputs(tiles, tmp_path):
    whole, chunked = tmp_path / "whole", tmp_path / "chunked"
    run("process", tiles / "tile_1.laz", "-o", whole, "--quiet", *SMALL)
    run("process", tiles / "tile_1.laz", "-o", chunked, "--quiet", "--device-memory-budget", "4M", *SMALL)
    assert outputs(whole) == outputs(chunked)
    warnings = tile_warnings(chunked)["tile_1"]
    assert any("chunks to fit the device memory budget" in w for w in warnings), warnings
    # With a host budget too: streamed chunks sized for both.
    both = tmp_path / "both"
    run("process", tiles / "tile_1.laz", "-o", both, "--quiet", "--memory-budget", "1M",
        "--device-memory-budget", "4M", *SMALL)
    assert outputs(whole) == outputs(both)
