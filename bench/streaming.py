#!/usr/bin/env python3
"""`lidarhd process` in-core against `--memory-budget` (issue 7): wall time and peak RSS (from
/usr/bin/time -v) of both runs on the same tile, and whether every output file is identical.

Usage: bench/streaming.py [--size 1000] [--fraction 0.1] [--bin build/cpu/lidarhd]
Input: the synthetic tile and orthophotos of bench/process_vs_ign_lidar_hd.py
(build/bench/process_<size>m*.{laz,tif}), made with `lidarhd synth` when missing. The budget is
`fraction` times the in-core run's measured peak RSS.
"""
import argparse
import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def timed(cmd):
    """Runs cmd under /usr/bin/time -v; returns (wall seconds, peak RSS MB)."""
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", proc.stderr).group(1)
    seconds = sum(float(p) * 60 ** i for i, p in enumerate(reversed(wall.split(":"))))
    return seconds, rss / 1024


def digests(folder):
    out = {}
    for sub in ("patches", "enriched"):
        for p in sorted((folder / sub).rglob("*")):
            if p.is_file():
                out[str(p.relative_to(folder))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1000, help="tile side in metres")
    ap.add_argument("--fraction", type=float, default=0.1, help="budget / in-core peak RSS")
    ap.add_argument("--bin", default=os.environ.get("LIDARHD_BIN", str(REPO / "build/cpu/lidarhd")))
    a = ap.parse_args()
    work = REPO / "build/bench"
    work.mkdir(parents=True, exist_ok=True)
    stem = work / f"process_{a.size}m"
    tile, rgb, irc = stem.with_suffix(".laz"), Path(f"{stem}_rgb.tif"), Path(f"{stem}_irc.tif")
    if not (tile.exists() and rgb.exists() and irc.exists()):
        subprocess.run([a.bin, "synth", str(tile), "--size", str(a.size), "--ortho", str(rgb),
                        "--irc", str(irc)], check=True, capture_output=True)
    base = [a.bin, "process", str(tile), "--preset", "lod2", "--set", f"colors.rgb={rgb}",
            "--set", f"colors.irc={irc}", "--quiet", "--force"]
    runs = {}
    for name in ("in-core", "streamed"):
        out = work / f"streaming_{name}"
        shutil.rmtree(out, ignore_errors=True)
        extra = []
        if name == "streamed":
            budget = int(runs["in-core"][1] * a.fraction)
            extra = ["--memory-budget", f"{budget}M"]
        seconds, rss = timed(base + ["-o", str(out)] + extra)
        runs[name] = (seconds, rss, digests(out), extra)
    same = runs["in-core"][2] == runs["streamed"][2]
    print(f"tile {tile.name}, lod2 + colours, patches + enriched LAZ")
    for name, (seconds, rss, files, extra) in runs.items():
        print(f"  {name:<9} {' '.join(extra):<22} {seconds:7.1f} s  peak RSS {rss:7.0f} MB  {len(files)} files")
    print(f"  outputs identical: {same}")
    raise SystemExit(0 if same else 1)


if __name__ == "__main__":
    main()
