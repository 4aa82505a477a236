#!/usr/bin/env python3
"""Scaling of `lidarhd process` with the number of workers (issue 7): tiles/hour for 1 and 2 CPU
workers (--devices cpu:N; the cores are shared, so 2 workers each get half), efficiency against
one worker, and where the time goes (decode, colours, features, patches, write) from the run's
summary.json. With a GPU, add --devices cuda:0 (and cuda:0,cuda:1 ...).

Usage: bench/scaling.py [--tiles 4] [--size 200] [--devices cpu:1 cpu:2] [--bin build/cpu/lidarhd]
Inputs: synthetic adjacent tiles made with `lidarhd synth` (cached in build/bench/scaling/).
"""
import argparse
import json
import os
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tiles", type=int, default=4)
    ap.add_argument("--size", type=int, default=200, help="tile side in metres")
    ap.add_argument("--devices", nargs="+", default=["cpu:1", "cpu:2"])
    ap.add_argument("--bin", default=os.environ.get("LIDARHD_BIN", str(REPO / "build/cpu/lidarhd")))
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args()
    folder = REPO / "build/bench/scaling" / f"{a.tiles}x{a.size}m"
    folder.mkdir(parents=True, exist_ok=True)
    side = int(a.tiles ** 0.5 + 0.999)
    for i in range(a.tiles):
        tile = folder / f"tile_{i}.laz"
        if not tile.exists():
            x, y = 650000 + a.size * (i % side), 6860000 + a.size * (i // side)
            subprocess.run([a.bin, "synth", str(tile), "--size", str(a.size), "--origin", f"{x},{y}"],
                           check=True, capture_output=True)
    print(f"{a.tiles} synthetic tiles of {a.size} m ({folder}), {a.threads} threads in all")
    print(f"{'devices':<14}{'wall s':>8}{'tiles/h':>10}{'effic.':>8}   per-tile stage seconds "
          "(read, colours, features, patches, write)")
    base = None
    for devices in a.devices:
        out = folder.parent / f"out_{devices.replace(':', '_').replace(',', '+')}"
        t0 = time.perf_counter()
        subprocess.run([a.bin, "process", str(folder), "-o", str(out), "--force", "--quiet",
                        "--devices", devices, "--set", f"threads={a.threads}"], check=True,
                       capture_output=True)
        wall = time.perf_counter() - t0
        summary = json.loads((out / "summary.json").read_text())
        stages = [sum(t["seconds"][k] for t in summary["tiles"]) / a.tiles
                  for k in ("read", "colors", "features", "patches", "write")]
        rate = a.tiles / wall * 3600
        base = base or rate
        workers = len(summary["workers"])
        print(f"{devices:<14}{wall:>8.1f}{rate:>10.0f}{rate / base / 1:>8.2f}   "
              + ", ".join(f"{s:.2f}" for s in stages) + f"   ({workers} workers)")


if __name__ == "__main__":
    main()
