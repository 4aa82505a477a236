#!/usr/bin/env python3
"""LAZ decode throughput: lidarhd against lazrs (the Rust LAZ codec behind laspy), same file.

Generates (once, into build/bench/) a synthetic airborne-like LAS 1.4 PDRF 6 LAZ of --points points
written by lazrs with its default 50000-point chunks, then times, best of --repeats:
  - ours: build/cpu/bench/bench_decode (Google Benchmark, BM_decode = read_all_records and
    BM_decode_stream = read_batch of 1e6 points); without it, `lidarhd info --json --checksum` with
    its decode_seconds minus the SHA-256 cost of the same bytes (hashlib, OpenSSL), marked "(CLI)";
  - lazrs sequential: lazrs.decompress_points(..., parallel=False) on the in-memory point data;
  - lazrs parallel: lazrs.ParLasZipDecompressor on an in-memory file, one process per thread count
    with RAYON_NUM_THREADS (rayon's pool is sized once per process). lazrs 0.8's in-memory
    parallel decompress_points slices its input 8 bytes short and panics, hence the file object.
Prints a markdown table (points/s, per core, speedup over 1 thread, ours/lazrs); --markdown-out
appends it with the machine, date, command and input to a file (e.g. docs/benchmarks.md).

  python3 bench/decode_vs_lazrs.py                       # 5,000,000 points, threads 1,2
  python3 bench/decode_vs_lazrs.py --points 20000000 --threads 1,2,4,8 --markdown-out out.md
"""

import argparse
import datetime
import hashlib
import io
import json
import os
import shlex
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------------------------
# Synthetic airborne-like PDRF 6 tile
# ---------------------------------------------------------------------------------------------


def generate(path, n, seed):
    """Zig-zag scan lines in flight strips over smooth terrain with trees and flat roofs: pulses of
    1-4 returns sharing one GPS time, increasing time, Lambert-93-like coordinates at 1 cm."""
    import laspy

    rng = np.random.default_rng(seed)
    pulses_per_line, width, line_step, lines_per_strip = 2500, 700.0, 0.6, 1500
    pulse_rate, altitude = 400000.0, 1000.0

    # Returns per pulse: more in "forest" areas. Draw generously, then cut to n points.
    n_pulses = int(n / 1.1) + 1000
    p = np.arange(n_pulses)
    line = p // pulses_per_line
    u = (p % pulses_per_line) / pulses_per_line
    forward = (line % 2) == 0
    strip = line // lines_per_strip
    across = np.where(forward, u, 1.0 - u) - 0.5
    x = (line % lines_per_strip) * line_step + u * line_step
    x = np.where(strip % 2 == 0, x, lines_per_strip * line_step - x)
    y = across * width + strip * 600.0
    forest = (np.sin(x / 37.0) + np.cos(y / 23.0)) > 0.8
    roof = ((x // 40) % 5 == 2) & ((y // 30) % 4 == 1) & ~forest
    nret = np.where(
        forest,
        rng.choice([1, 2, 2, 3, 3, 4], n_pulses),
        np.where(rng.random(n_pulses) < 0.05, 2, 1),
    )
    nret = np.where(roof, 1, nret)
    if int(nret.sum()) < n:
        raise RuntimeError("pulse estimate too small")

    pi = np.repeat(p, nret)[:n]  # pulse of each point
    starts = np.r_[0, np.cumsum(nret)[:-1]][pi]
    rn = (np.arange(n) - starts + 1).astype(np.int64)
    nr = nret[pi].astype(np.int64)
    px, py = x[pi], y[pi]
    terrain = 120 + 15 * np.sin(px / 80.0) + 10 * np.cos(py / 55.0) + 3 * np.sin((px + py) / 13.0)
    canopy = 8 + 12 * (np.sin(px / 5.0) * np.cos(py / 7.0)) ** 2
    last = rn == nr
    height = np.where(last, 0.0, canopy * (1.0 - (rn - 1) / np.maximum(nr, 1)))
    height = np.where(roof[pi], 8.0, height)
    z = terrain + height + rng.normal(0, 0.03, n)
    angle = np.degrees(np.arctan2(across[pi] * width, altitude))
    slant = np.tan(np.radians(angle)) * height  # later returns sit slightly off the first
    xs, ys = px + rng.normal(0, 0.02, n), py + slant + rng.normal(0, 0.02, n)

    cls = np.where(last & ~roof[pi], 2, np.where(height < 2, 3, np.where(height < 6, 4, 5)))
    cls = np.where(roof[pi], 6, cls)
    cls = np.where(rng.random(n) < 0.03, 1, cls)
    intensity = np.where(cls == 2, 2200, np.where(cls == 6, 2800, 900)) / nr
    intensity = np.clip(intensity + rng.normal(0, 120, n), 0, 65535)

    header = laspy.LasHeader(point_format=6, version="1.4")
    header.offsets = np.array([650000.0, 6860000.0, 0.0])
    header.scales = np.array([0.01, 0.01, 0.01])
    rec = np.zeros(n, header.point_format.dtype())
    rec["X"] = np.round(xs * 100).astype(np.int64)
    rec["Y"] = np.round(ys * 100).astype(np.int64)
    rec["Z"] = np.round(z * 100).astype(np.int64)
    rec["intensity"] = intensity.astype(np.uint16)
    rec["bit_fields"] = rn | (nr << 4)
    u_pt = u[pi]
    edge = (u_pt == 0) | (u_pt >= (pulses_per_line - 1) / pulses_per_line)
    rec["classification_flags"] = (forward[pi].astype(np.int64) << 6) | (edge.astype(np.int64) << 7)
    rec["classification"] = cls
    rec["scan_angle"] = np.round(angle / 0.006).astype(np.int64)
    rec["point_source_id"] = 100 + strip[pi]
    rec["gps_time"] = 3.1e8 + pi / pulse_rate + strip[pi] * 120.0
    las = laspy.LasData(header)
    las.points = laspy.PackedPointRecord(rec, header.point_format)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.laz")
    las.write(str(tmp), do_compress=True, laz_backend=laspy.LazBackend.LazrsParallel)
    tmp.rename(path)


def laz_parts(path):
    """(file bytes, offset to point data, LASzip VLR record, point count, record length)."""
    data = path.read_bytes()
    if data[:4] != b"LASF":
        raise SystemExit(f"{path}: not a LAS/LAZ file")
    header_size, offset, nvlrs = struct.unpack_from("<HIL", data, 94)
    rlen = struct.unpack_from("<H", data, 105)[0]
    count = struct.unpack_from("<L", data, 107)[0]
    if data[25] >= 4:
        count = struct.unpack_from("<Q", data, 247)[0] or count
    pos, vlr = header_size, None
    for _ in range(nvlrs):
        user, rid, size = struct.unpack_from("<16sHH", data, pos + 2)
        if user.rstrip(b"\0") == b"laszip encoded" and rid == 22204:
            vlr = data[pos + 54 : pos + 54 + size]
        pos += 54 + size
    if vlr is None:
        raise SystemExit(f"{path}: no LASzip VLR (not a LAZ file)")
    return data, offset, vlr, count, rlen


# ---------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------


def lazrs_worker(path, mode, repeats):
    """Runs in a child process (RAYON_NUM_THREADS set by the parent); prints JSON timings."""
    import lazrs

    data, offset, vlr, count, rlen = laz_parts(Path(path))
    out = bytearray(count * rlen)
    # decompress_points reads the chunk table offset relative to the buffer, not to the file.
    points = bytearray(data[offset:])
    table_at = struct.unpack_from("<q", points, 0)[0]
    if table_at > offset:
        struct.pack_into("<q", points, 0, table_at - offset)
    points = bytes(points)
    times, digest = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        if mode == "seq":
            lazrs.decompress_points(points, vlr, out, False)
        else:
            src = io.BytesIO(data)
            src.seek(offset)
            lazrs.ParLasZipDecompressor(src, vlr).decompress_many(out)
        times.append(time.perf_counter() - t0)
        digest = digest or hashlib.sha256(out).hexdigest()
    print(json.dumps({"times": times, "sha256": digest}))


def time_lazrs(path, mode, threads, repeats):
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    cmd = [sys.executable, __file__, "--lazrs-worker", str(path), mode, str(repeats)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def time_ours_bench(bench_bin, path, threads, repeats):
    """{(name, threads): best seconds} from the Google Benchmark binary."""
    pattern = "|".join(str(t) for t in threads)
    cmd = [
        str(bench_bin),
        f"--benchmark_filter=^BM_decode(_stream)?/threads:({pattern})/",
        f"--benchmark_repetitions={repeats}",
        "--benchmark_format=json",
    ]
    env = dict(os.environ, LIDARHD_BENCH_FILE=str(path))
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
    best = {}
    for b in json.loads(proc.stdout)["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        if b.get("error_occurred"):
            raise SystemExit(f"{bench_bin}: {b['name']}: {b.get('error_message')}")
        name, arg = b["name"].split("/")[:2]
        key = (name, int(arg.split(":")[1]))
        seconds = b["real_time"] * scale[b["time_unit"]]
        best[key] = min(best.get(key, float("inf")), seconds)
    return best


def time_ours_cli(lidarhd, path, threads, repeats, sha_seconds):
    best, digest = float("inf"), None
    for _ in range(repeats):
        cmd = [str(lidarhd), "info", str(path), "--json", "--checksum", "--threads", str(threads)]
        info = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
        best = min(best, info["decode_seconds"] - sha_seconds)
        digest = info["points_sha256"]
    return best, digest


def sha256_seconds(nbytes):
    buf = bytes(nbytes)
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        hashlib.sha256(buf).digest()
        best = min(best, time.perf_counter() - t0)
    return best


def machine():
    model = "unknown CPU"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{model}, nproc {cores}"


def table(rows, count):
    """rows: (decoder, family, threads, seconds). Ratio ours/lazrs uses the best lazrs variant at
    the same thread count (sequential counts as 1 thread)."""
    pps = {(fam, t): count / s for _, fam, t, s in rows}
    lazrs_best = {}
    for (fam, t), v in pps.items():
        if fam.startswith("lazrs"):
            lazrs_best[t] = max(lazrs_best.get(t, 0.0), v)
    lines = [
        "| decoder | threads | best time (s) | Mpoints/s | Mpoints/s per core"
        " | speedup vs 1 thread | ours / lazrs |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, fam, t, s in rows:
        v = pps[(fam, t)]
        one = pps.get((fam, 1))
        speed = f"{v / one:.2f}" if one and t != 1 else "-"
        ratio = f"{v / lazrs_best[t]:.2f}" if fam.startswith("ours") and t in lazrs_best else "-"
        lines.append(
            f"| {name} | {t} | {s:.3f} | {v / 1e6:.2f} | {v / t / 1e6:.2f} | {speed} | {ratio} |"
        )
    return "\n".join(lines)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--lazrs-worker":
        lazrs_worker(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--points",
        type=int,
        default=5_000_000,
        help="points in the synthetic file (default 5000000)",
    )
    ap.add_argument("--input", type=Path, help="time this LAZ file instead of the synthetic one")
    ap.add_argument(
        "--regenerate", action="store_true", help="rewrite the synthetic file even if present"
    )
    ap.add_argument("--seed", type=int, default=42, help="seed of the synthetic file (default 42)")
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    ap.add_argument(
        "--repeats", type=int, default=5, help="repeats per measurement, best kept (default 5)"
    )
    ap.add_argument(
        "--build-dir", type=Path, default=REPO / "build" / "cpu", help="CMake build folder"
    )
    ap.add_argument(
        "--markdown-out", type=Path, help="append the table, machine, date and command here"
    )
    args = ap.parse_args()
    threads = sorted({int(t) for t in args.threads.split(",")})
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")

    path = args.input
    if path is None:
        path = REPO / "build" / "bench" / f"synthetic_pdrf6_{args.points}.laz"
        if args.regenerate or not path.exists():
            print(f"generating {path} ...", file=sys.stderr)
            generate(path, args.points, args.seed)
    data, offset, vlr, count, rlen = laz_parts(path)
    print(
        f"input: {path} ({len(data) / 1e6:.1f} MB, {count} points, {rlen} B/record)",
        file=sys.stderr,
    )

    rows, digests = [], {}
    bench_bin = args.build_dir / "bench" / "bench_decode"
    lidarhd = args.build_dir / "lidarhd"
    if bench_bin.exists():
        best = time_ours_bench(bench_bin, path, threads, args.repeats)
        for (name, t), s in sorted(best.items()):
            label = "ours read_all_records" if name == "BM_decode" else "ours read_batch(1e6)"
            rows.append((label, "ours/" + name, t, s))
    missing = [t for t in threads if not any(r[2] == t and r[1] == "ours/BM_decode" for r in rows)]
    if missing and lidarhd.exists():
        sha = sha256_seconds(count * rlen)
        for t in missing:
            s, digests["ours"] = time_ours_cli(lidarhd, path, t, args.repeats, sha)
            rows.append(("ours (CLI, minus SHA-256)", "ours/cli", t, s))
    elif missing:
        print(
            f"warning: neither {bench_bin} nor {lidarhd} exists: only lazrs is timed",
            file=sys.stderr,
        )
    if lidarhd.exists() and "ours" not in digests:
        info = subprocess.run(
            [str(lidarhd), "info", str(path), "--json", "--checksum"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        digests["ours"] = json.loads(info)["points_sha256"]

    seq = time_lazrs(path, "seq", 1, args.repeats)
    rows.append(("lazrs sequential (decompress_points)", "lazrs/seq", 1, min(seq["times"])))
    digests["lazrs"] = seq["sha256"]
    for t in threads:
        par = time_lazrs(path, "par", t, args.repeats)
        rows.append(("lazrs parallel (ParLasZipDecompressor)", "lazrs/par", t, min(par["times"])))

    md = table(rows, count)
    agree = "n/a (lidarhd not built)"
    if "ours" in digests:
        agree = (
            "yes"
            if digests["ours"] == digests["lazrs"]
            else f"NO: ours {digests['ours']} lazrs {digests['lazrs']}"
        )
    print(md)
    print(f"\nrecords identical (SHA-256 ours vs lazrs): {agree}")
    if digests.get("ours") not in (None, digests["lazrs"]):
        print(
            "error: the decoders disagree; the timings above compare different outputs",
            file=sys.stderr,
        )

    if args.markdown_out and digests.get("ours") in (None, digests["lazrs"]):
        from importlib import metadata

        when = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
        command = shlex.join([sys.executable.split("/")[-1]] + sys.argv)
        with open(args.markdown_out, "a") as f:
            f.write(f"\n#### Decode, {count:,} points PDRF {data[104] & 0x3F} ({when})\n\n")
            f.write(f"- machine: {machine()}, load average {load:.2f} before the run\n")
            f.write(f"- command: `{command}`\n")
            f.write(f"- input: `{path.name}` ({len(data) / 1e6:.1f} MB, {rlen} B/record)\n")
            f.write(
                f"- lazrs {metadata.version('lazrs')}, best of {args.repeats}; "
                f"records identical ours vs lazrs: {agree}\n\n{md}\n"
            )
    if digests.get("ours") not in (None, digests["lazrs"]):
        sys.exit(1)


if __name__ == "__main__":
    main()
