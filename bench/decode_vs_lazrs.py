#!/usr/bin/env python3
"""LAZ decode throughput: lidarhd against lazrs (the Rust LAZ codec behind laspy), same file.

Generates (once, into build/bench/, with bench/synthetic_laz.py) a synthetic airborne-like LAS 1.4
PDRF 6 LAZ of --points points written by lazrs with its default 50000-point chunks, then times,
best of --repeats:
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

from synthetic_laz import REPO, ensure_synthetic, laz_parts, machine

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
        log = lambda msg: print(msg, file=sys.stderr)  # noqa: E731
        path = ensure_synthetic(args.points, 6, args.seed, args.regenerate, log)
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
