#!/usr/bin/env python3
"""Colourisation throughput: `lidarhd colorize` against rasterio + numpy, same points, same
GeoTIFFs, same run.

Input: a synthetic tile made by `lidarhd synth TILE.laz --size S --ortho RGB.tif --irc IRC.tif`
(default 1 km, ~20 M points, 0.2 m orthophotos), cached in build/bench/.
  - lidarhd: `lidarhd colorize TILE.laz OUT.laz --rgb RGB.tif --irc IRC.tif --method M
    --threads N --json`, with OMP_NUM_THREADS=N (the sampler's threads; --threads sets the LAZ
    threads); its JSON splits the wall time into read (LAZ decode), sample (raster decode + block
    cache + sampling + filling the records) and write (LAZ encode). Output on tmpfs.
  - rasterio (one thread): laspy + lazrs read the points (timed apart); then, per raster,
    `dataset.read()` of the window the points cover (the GeoTIFF decode) and numpy indexing with
    GDAL's floor convention (nearest) or the same bilinear formula as lidarhd (sample).
    `dataset.sample()` (rasterio.sample.sample_gen) is also timed, on --sample-gen-points points
    only: it is much slower, its throughput is extrapolated.
Agreement: lidarhd's nearest RGB/NIR (LAS value / 256) must equal rasterio's nearest samples at
every point (exits non-zero otherwise); points exactly on a pixel edge are counted apart. Bilinear:
the share of points whose LAS values are equal is printed.
Numbers per core: points/s divided by the thread count. Best of --repeats.

  python3 bench/colorize_vs_rasterio.py --size 200 --repeats 1        # quick check
  python3 bench/colorize_vs_rasterio.py --markdown-out docs/benchmarks.md
"""

import argparse
import datetime
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic_laz import machine  # noqa: E402


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def ensure_tile(lidarhd, size, workdir, regenerate):
    workdir.mkdir(parents=True, exist_ok=True)
    stem = workdir / f"colorize_{size:g}m"
    tile, rgb, irc = Path(f"{stem}.laz"), Path(f"{stem}_rgb.tif"), Path(f"{stem}_irc.tif")
    if regenerate or not (tile.exists() and rgb.exists() and irc.exists()):
        log(f"generating {tile} (+ orthophotos) with lidarhd synth")
        subprocess.run(
            [str(lidarhd), "synth", str(tile), "--size", f"{size:g}", "--ortho", str(rgb),
             "--irc", str(irc)],
            check=True, stdout=subprocess.DEVNULL,
        )
    return tile, rgb, irc


def time_lidarhd(lidarhd, tile, rgb, irc, out, method, threads, repeats):
    """The JSON summary of the run with the smallest total."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    cmd = [str(lidarhd), "colorize", str(tile), str(out), "--rgb", str(rgb), "--irc", str(irc),
           "--method", method, "--threads", str(threads), "--device", "cpu", "--json", "--quiet"]
    best = None
    for _ in range(repeats):
        res = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
        s = json.loads(res.stdout)
        if best is None or s["seconds"]["total"] < best["seconds"]["total"]:
            best = s
    return best


def read_points(tile):
    import laspy

    t = time.perf_counter()
    las = laspy.read(str(tile), laz_backend=laspy.LazBackend.Lazrs)
    x, y = np.asarray(las.x, dtype=np.float64), np.asarray(las.y, dtype=np.float64)
    return x, y, time.perf_counter() - t


def pixel_coords(ds, x, y):
    """Fractional pixel coordinates (u, v) with the same operations as lidarhd (and GDAL)."""
    tr = ds.transform
    if tr.b != 0 or tr.d != 0 or tr.e >= 0:
        raise SystemExit(f"{ds.name}: not a north-up raster")
    return (x - tr.c) / tr.a, (tr.f - y) / -tr.e


def rasterio_sample(path, x, y, bands, method):
    """(values (bands, n) float32 or uint8, decode seconds, sample seconds): read the window the
    points cover, then index it."""
    import rasterio
    from rasterio.windows import Window

    with rasterio.open(path) as ds:
        t0 = time.perf_counter()
        u, v = pixel_coords(ds, x, y)
        margin = 1 if method == "bilinear" else 0
        c0 = max(int(np.floor(np.nanmin(u))) - margin, 0)
        r0 = max(int(np.floor(np.nanmin(v))) - margin, 0)
        c1 = min(int(np.floor(np.nanmax(u))) + 1 + margin, ds.width)
        r1 = min(int(np.floor(np.nanmax(v))) + 1 + margin, ds.height)
        t1 = time.perf_counter()
        arr = ds.read(list(range(1, bands + 1)), window=Window(c0, r0, c1 - c0, r1 - r0))
        t2 = time.perf_counter()
        h, w = arr.shape[1], arr.shape[2]
        if method == "nearest":
            cols = np.floor(u).astype(np.int64) - c0
            rows = np.floor(v).astype(np.int64) - r0
            inside = (cols >= 0) & (rows >= 0) & (cols < w) & (rows < h)
            cols, rows = np.where(inside, cols, 0), np.where(inside, rows, 0)
            out = arr[:, rows, cols]
            out[:, ~inside] = 0  # lidarhd's default fill
        else:
            # lidarhd's formula: weights and sums in double, same order; pixels beyond the edge
            # drop out and the rest is renormalised, which for a full raster equals clamping.
            cu, cv = u - 0.5, v - 0.5
            fc, fr = np.floor(cu), np.floor(cv)
            tu, tv = cu - fc, cv - fr
            c = fc.astype(np.int64) - c0
            r = fr.astype(np.int64) - r0
            ca, cb = np.clip(c, 0, w - 1), np.clip(c + 1, 0, w - 1)
            ra, rb = np.clip(r, 0, h - 1), np.clip(r + 1, 0, h - 1)
            wt = ((1 - tu) * (1 - tv), tu * (1 - tv), (1 - tu) * tv, tu * tv)
            total = ((wt[0] + wt[1]) + wt[2]) + wt[3]
            out = np.empty((bands, len(x)), np.float32)
            for b in range(bands):
                a = arr[b]
                s = wt[0] * a[ra, ca]
                s = s + wt[1] * a[ra, cb]
                s = s + wt[2] * a[rb, ca]
                s = s + wt[3] * a[rb, cb]
                out[b] = s / total
        t3 = time.perf_counter()
    # Window arithmetic counts as sampling; the read is the GeoTIFF decode.
    return out, t2 - t1, (t1 - t0) + (t3 - t2)


def sample_gen_rate(path, x, y, bands, m):
    """Points per second of dataset.sample() (rasterio.sample.sample_gen) on the first m points."""
    import rasterio

    m = min(m, len(x))
    with rasterio.open(path) as ds:
        t = time.perf_counter()
        got = np.array(list(ds.sample(zip(x[:m], y[:m]), indexes=list(range(1, bands + 1)))))
        dt = time.perf_counter() - t
    return m / dt, got


def on_edge(ds_path, x, y):
    """Points on a pixel edge in exact arithmetic (1 cm coordinates, 0.2 m pixels: 1 in 20 lines):
    there rounding decides the pixel, and another rounding of the same formula may not agree."""
    import rasterio

    with rasterio.open(ds_path) as ds:
        u, v = pixel_coords(ds, x, y)
    return (np.abs(u - np.rint(u)) < 1e-6) | (np.abs(v - np.rint(v)) < 1e-6)


def read_colours(path):
    import laspy

    las = laspy.read(str(path), laz_backend=laspy.LazBackend.Lazrs)
    return (np.vstack([las.red, las.green, las.blue]).astype(np.int64),
            np.asarray(las.nir).astype(np.int64))


def fmt_rate(n, seconds):
    return f"{n / seconds / 1e6:.1f}" if seconds > 0 else "-"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=float, default=1000, help="tile side in metres (1000)")
    ap.add_argument("--threads", default="1,2", help="lidarhd thread counts (1,2)")
    ap.add_argument("--methods", default="nearest,bilinear", help="nearest,bilinear")
    ap.add_argument("--repeats", type=int, default=3, help="repeats, best kept (3)")
    ap.add_argument("--sample-gen-points", type=int, default=200_000,
                    help="points given to dataset.sample() (200000)")
    ap.add_argument("--lidarhd", type=Path,
                    default=Path(os.environ.get("LIDARHD_BIN", REPO / "build" / "cpu" / "lidarhd")),
                    help="the lidarhd binary (LIDARHD_BIN, else build/cpu/lidarhd)")
    ap.add_argument("--workdir", type=Path, default=REPO / "build" / "bench",
                    help="where the synthetic tile is cached (build/bench)")
    ap.add_argument("--regenerate", action="store_true", help="rewrite the synthetic tile")
    ap.add_argument("--markdown-out", type=Path,
                    help="append the table, machine, date and command here")
    args = ap.parse_args()
    threads = sorted({int(t) for t in args.threads.split(",")})
    methods = [m for m in args.methods.split(",") if m]
    load = os.getloadavg()[0]
    if not args.lidarhd.exists():
        raise SystemExit(f"{args.lidarhd}: not built (cmake --preset cpu && cmake --build --preset cpu)")

    import rasterio
    from importlib import metadata

    tile, rgb, irc = ensure_tile(args.lidarhd, args.size, args.workdir, args.regenerate)
    x, y, t_laz = read_points(tile)
    n = len(x)
    log(f"input: {tile} ({tile.stat().st_size / 1e6:.1f} MB, {n:,} points); laspy read {t_laz:.2f} s")

    rows, problems, agreement = [], [], []
    scratch = "/dev/shm" if os.path.isdir("/dev/shm") else None
    with tempfile.TemporaryDirectory(prefix="lidarhd_colorize_", dir=scratch) as tmp:
        for method in methods:
            # rasterio first: its samples are the reference of the agreement check.
            best, ref = None, None
            for _ in range(args.repeats):
                v_rgb, d1, s1 = rasterio_sample(rgb, x, y, 3, method)
                v_nir, d2, s2 = rasterio_sample(irc, x, y, 1, method)
                if best is None or d1 + d2 + s1 + s2 < sum(best):
                    best = (d1 + d2, s1 + s2)
                ref = (v_rgb, v_nir[0])
            rows.append(dict(tool="rasterio + numpy (read window, index)", method=method, threads=1,
                             read=t_laz, decode_sample=sum(best), sample_only=best[1], write=None))
            for t in threads:
                out = Path(tmp) / f"{method}_{t}.laz"
                s = time_lidarhd(args.lidarhd, tile, rgb, irc, out, method, t, args.repeats)
                sec = s["seconds"]
                rows.append(dict(tool="lidarhd colorize", method=method, threads=t, read=sec["read"],
                                 decode_sample=sec["sample"], sample_only=None, write=sec["write"],
                                 total=sec["total"]))
                if t != threads[0]:
                    out.unlink()
                    continue
                lid_rgb, lid_nir = read_colours(out)
                out.unlink()
                if method == "nearest":
                    edge = on_edge(rgb, x, y)
                    want_rgb = ref[0].astype(np.int64) * 256
                    want_nir = ref[1].astype(np.int64) * 256
                    bad = (lid_rgb != want_rgb).any(axis=0) | (lid_nir != want_nir)
                    agreement.append(
                        f"nearest: lidarhd RGB and NIR equal rasterio's at {n - bad.sum():,} of "
                        f"{n:,} points ({(bad & ~edge).sum():,} differ off pixel edges, "
                        f"{(bad & edge).sum():,} on an edge; {edge.sum():,} points lie on an edge)")
                    if (bad & ~edge).any():
                        problems.append(f"nearest: {(bad & ~edge).sum()} points differ off edges")
                else:
                    want_rgb = np.rint(ref[0].astype(np.float64) * 256).astype(np.int64)
                    want_nir = np.rint(ref[1].astype(np.float64) * 256).astype(np.int64)
                    same = ~((lid_rgb != want_rgb).any(axis=0) | (lid_nir != want_nir))
                    diff = max(np.abs(lid_rgb - want_rgb).max(), np.abs(lid_nir - want_nir).max())
                    agreement.append(
                        f"bilinear: LAS values equal to the numpy formula at {same.sum():,} of "
                        f"{n:,} points (max difference {diff} / 65280)")
        sg_rate, sg = sample_gen_rate(rgb, x, y, 3, args.sample_gen_points)
        m = len(sg)
        differ = (sg.T != rasterio_sample(rgb, x[:m], y[:m], 3, "nearest")[0]).any(axis=0)
        edge = on_edge(rgb, x[:m], y[:m])
        # sample() goes through the inverse affine transform (a multiplication by 1 / pixel
        # size), which can round a point on a pixel edge to the pixel before it.
        agreement.append(
            f"dataset.sample() on the first {m:,} points: {differ.sum():,} differ from the "
            f"floor-convention indexing ({(differ & ~edge).sum():,} off pixel edges; "
            f"{edge.sum():,} points lie on an edge)")

    lines = ["| tool | method | threads | LAZ read (s) | raster decode + sample (s) | of which sample only (s) "
             "| LAZ write (s) | decode + sample Mpoints/s | per core |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        so = f"{r['sample_only']:.3f}" if r["sample_only"] is not None else "-"
        wr = f"{r['write']:.3f}" if r["write"] is not None else "-"
        rate = n / r["decode_sample"]
        lines.append(
            f"| {r['tool']} | {r['method']} | {r['threads']} | {r['read']:.3f} | "
            f"{r['decode_sample']:.3f} | {so} | {wr} | {rate / 1e6:.1f} | "
            f"{rate / r['threads'] / 1e6:.1f} |")
    lines.append(f"| rasterio dataset.sample() (first {m:,} points, RGB only) | nearest | 1 | - | "
                 f"{n / sg_rate:.1f} (extrapolated) | - | - | {sg_rate / 1e6:.3f} | {sg_rate / 1e6:.3f} |")
    md = "\n".join(lines)
    ratios = []
    for method in methods:
        ref_row = next(r for r in rows if r["method"] == method and r["tool"].startswith("rasterio"))
        for r in rows:
            if r["method"] == method and r["tool"].startswith("lidarhd"):
                ratios.append(
                    f"{method}, {r['threads']} thread(s): lidarhd decode + sample "
                    f"{ref_row['decode_sample'] / r['decode_sample']:.2f}x rasterio's (per core "
                    f"{ref_row['decode_sample'] / (r['decode_sample'] * r['threads']):.2f}x);"
                    f" whole command {r['total']:.2f} s")
    print(md)
    print()
    for line in ratios + agreement:
        print(f"- {line}")
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    if problems:
        sys.exit(1)

    if args.markdown_out:
        when = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
        command = shlex.join([sys.executable.split("/")[-1]] + sys.argv)
        with open(args.markdown_out, "a") as f:
            f.write(f"\n#### Colourisation, {n:,} points ({when})\n\n")
            f.write(f"- machine: {machine()}, load average {load:.2f} before the run\n")
            f.write(f"- command: `{command}`\n")
            f.write(f"- input: `{tile.name}` ({n:,} points, {args.size:g} m tile), `{rgb.name}`, "
                    f"`{irc.name}` (0.2 m, deflate GeoTIFF, 256 px tiles)\n")
            f.write(f"- rasterio {rasterio.__version__} (GDAL {rasterio.__gdal_version__}), "
                    f"laspy {metadata.version('laspy')}, lazrs {metadata.version('lazrs')}; "
                    f"best of {args.repeats}\n\n{md}\n\n")
            for line in ratios + agreement:
                f.write(f"- {line}\n")


if __name__ == "__main__":
    main()
