#!/usr/bin/env python3
"""End-to-end tile processing: `lidarhd process` against the original Python tool
(`ign-lidar-hd process`, PyPI package ign-lidar-hd), same synthetic tile, same run.

Input: a synthetic tile made by `lidarhd synth TILE.laz --size S --ortho RGB.tif --irc IRC.tif`
(default 1 km x 1 km, ~20 M points, 0.2 m orthophotos), cached in build/bench/, plus a smaller one
(--small-size, default 300 m) so that the Python tool has a tile it can finish.

  - lidarhd (LIDARHD_BIN or --lidarhd, default build/cpu/lidarhd):
    `lidarhd process TILE -o OUT --preset lod2 --set colors.rgb=RGB --set colors.irc=IRC
    --set threads=N --force --json`; seconds per stage from its JSON summary (read, colours,
    features (incl. labels), patches (binning + sampling), write (enriched LAZ + patch files),
    total) and the wall time of the command. Run --repeats times on the big tile.
  - ign-lidar-hd (--ign, default build/ign-venv/bin/ign-lidar-hd): the lod2_buildings preset on
    CPU with patches of 150 m / 16,384 points, k = 20 (IGN_OVERRIDES below). It only fetches RGB
    from IGN's WMS (no local orthophoto option), and this machine has no network: it runs
    without colours. Killed after --ign-timeout seconds; its log is kept and parsed for the
    stage times it prints (load, features, artifact filtering, patches) and for errors.
Peak RSS: /usr/bin/time -v when present, else the largest VmHWM seen in /proc (polled each
second) of the command's process group; a killed command gets the polled value.
Before each timed command, waits (up to --load-wait s) for the 1-minute load average to drop
below --load-max and records the load it started at.

  python3 bench/process_vs_ign_lidar_hd.py --size 200 --small-size 0 --skip-ign   # quick check
  python3 bench/process_vs_ign_lidar_hd.py --markdown-out /tmp/process.md
"""

import argparse
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic_laz import machine  # noqa: E402

# The equivalent of `lidarhd process --preset lod2` (mode both) for ign-lidar-hd 4.1.x, on CPU and
# offline. enable_optimizations=false: the default "Phase 4" path fails on every tile in 4.1.18
# ("'TileOrchestrator' object has no attribute 'process_tile'") yet exits 0 with no output.
# search_radius=0: k nearest neighbours (k = 20) like lidarhd, not the preset's 1 m radius.
IGN_OVERRIDES = [
    "processor.use_gpu=false", "features.use_gpu=false", "features.use_gpu_chunked=false",
    "processor.processing_mode=both", "output.save_patches=true",
    "processor.patch_size=150", "processor.patch_overlap=0.1", "processor.num_points=16384",
    "features.k_neighbors=20", "features.search_radius=0",
    "ground_truth.enabled=false", "data_sources.bd_topo.enabled=false",
    "output.format=npz", "processor.output_format=npz", "enable_optimizations=false",
]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def wait_for_idle(load_max, load_wait):
    """Polls the 1-minute load average every 15 s; returns (load at start, waited s, idle)."""
    start = time.monotonic()
    while True:
        load = os.getloadavg()[0]
        waited = time.monotonic() - start
        if load < load_max:
            return load, waited, True
        if waited >= load_wait:
            log(f"load average still {load:.2f} after {waited:.0f} s: running anyway")
            return load, waited, False
        log(f"load average {load:.2f} >= {load_max}: waiting")
        time.sleep(15)


def group_hwm_kb(pgid):
    """Largest VmHWM (peak RSS, kB) of the live processes of one process group."""
    best = 0
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if os.getpgid(int(d.name)) != pgid:
                continue
            for line in (d / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    best = max(best, int(line.split()[1]))
        except (OSError, ValueError, ProcessLookupError):
            pass
    return best


def run_timed(cmd, log_path, timeout, env=None):
    """Runs cmd in its own process group, output to log_path; kills the group on timeout."""
    gnu_time = Path("/usr/bin/time")
    full = ([str(gnu_time), "-v"] if gnu_time.exists() else []) + [str(c) for c in cmd]
    t0 = time.perf_counter()
    with open(log_path, "w") as out:
        proc = subprocess.Popen(full, stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
        polled, timed_out = 0, False
        while proc.poll() is None:
            polled = max(polled, group_hwm_kb(proc.pid))
            if time.perf_counter() - t0 > timeout:
                timed_out = True
                os.killpg(proc.pid, signal.SIGKILL)  # the group we started: the tool + children
                proc.wait()
                break
            time.sleep(1)
    wall = time.perf_counter() - t0
    text = Path(log_path).read_text(errors="replace")
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    rss_kb = int(m.group(1)) if m else polled
    return {"rc": proc.returncode, "timed_out": timed_out, "wall": wall, "rss_mb": rss_kb / 1024,
            "log": str(log_path), "text": text}


def ensure_tile(lidarhd, size, workdir, regenerate):
    workdir.mkdir(parents=True, exist_ok=True)
    stem = workdir / f"process_{size:g}m"
    tile, rgb, irc = Path(f"{stem}.laz"), Path(f"{stem}_rgb.tif"), Path(f"{stem}_irc.tif")
    if regenerate or not (tile.exists() and rgb.exists() and irc.exists()):
        log(f"generating {tile} (+ orthophotos) with lidarhd synth")
        subprocess.run([str(lidarhd), "synth", str(tile), "--size", f"{size:g}", "--ortho", str(rgb),
                        "--irc", str(irc)], check=True, stdout=subprocess.DEVNULL)
    # ign-lidar-hd takes a folder: one holding only this tile (a hard link, else a copy).
    indir = Path(f"{stem}_in")
    linked = indir / tile.name
    if not linked.exists() or linked.stat().st_size != tile.stat().st_size:
        shutil.rmtree(indir, ignore_errors=True)
        indir.mkdir()
        try:
            os.link(tile, linked)
        except OSError:
            shutil.copy2(tile, linked)
    return tile, rgb, irc, indir


def time_lidarhd(lidarhd, tile, rgb, irc, out, threads, args):
    shutil.rmtree(out, ignore_errors=True)
    cmd = [lidarhd, "process", tile, "-o", out, "--preset", "lod2", "--set", f"colors.rgb={rgb}",
           "--set", f"colors.irc={irc}", "--set", f"threads={threads}", "--force", "--json",
           "--quiet"]
    load, waited, idle = wait_for_idle(args.load_max, args.load_wait)
    log(f"lidarhd process {tile.name} (load {load:.2f})")
    r = run_timed(cmd, f"{out}.log", args.lidarhd_timeout,
                  env=dict(os.environ, OMP_NUM_THREADS=str(threads)))
    r.update(load=load, waited=waited, idle=idle, cmd=cmd)
    if r["rc"] != 0 or r["timed_out"]:
        raise SystemExit(f"lidarhd process failed (rc {r['rc']}), see {r['log']}")
    summary = json.loads((Path(out) / "summary.json").read_text())
    t = summary["tiles"][0]
    r.update(points=t["points"], patches=t["patches"], seconds=t["seconds"],
             run_seconds=summary["seconds"], warnings=t["warnings"])
    del r["text"]
    return r


def stamp(line):
    m = re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) - ", line)
    return datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S") if m else None


def parse_ign_log(text):
    """The stage times ign-lidar-hd prints, the last thing it logged and its errors."""
    lines = text.splitlines()
    found = {}
    patterns = {
        "points": r"Loaded ([\d,]+) points",
        "geometric_s": r"Computed \d+ geometric features in ([\d.]+)s",
        "artifact_filter_s": r"Applied artifact filtering to \d+ features in ([\d.]+)s",
        "features_s": r"Features computed in ([\d.]+)s",
        "tile_s": r"Tile processed in ([\d.]+)s",
        "patches": r"Total patches created: ([\d,]+)",
        "processing_s": r"Processing time: ([\d.]+)s",
    }
    for key, pat in patterns.items():
        for line in lines:
            m = re.search(pat, line)
            if m:
                found[key] = float(m.group(1).replace(",", ""))
    # Loading (LAZ decode) and patch extraction+saving from the log's 1-second timestamps.
    marks = {}
    for line in lines:
        ts = stamp(line)
        for key, pat in {"load0": "Loading tile:", "load1": r"Loaded [\d,]+ points",
                         "patch0": "Extracting patches", "patch1": "Saved \\d+ patches"}.items():
            if ts and re.search(pat, line) and key not in marks:
                marks[key] = ts
    if "load0" in marks and "load1" in marks:
        found["load_s"] = (marks["load1"] - marks["load0"]).total_seconds()
    if "patch0" in marks and "patch1" in marks:
        found["patch_s"] = (marks["patch1"] - marks["patch0"]).total_seconds()
    logged = [ln for ln in lines if stamp(ln) and "High CPU usage" not in ln]
    found["last_line"] = logged[-1] if logged else ""
    found["errors"] = [ln.strip() for ln in lines
                       if "[ERROR]" in ln or "Traceback" in ln or re.match(r"\w+Error:", ln.strip())]
    return found


def time_ign(ign, indir, out, timeout, args, overrides):
    shutil.rmtree(out, ignore_errors=True)
    cmd = [ign, "process", "-c", args.ign_preset, f"input_dir={indir}", f"output_dir={out}",
           *overrides]
    load, waited, idle = wait_for_idle(args.load_max, args.ign_load_wait)
    log(f"ign-lidar-hd process {indir.name} (load {load:.2f}, timeout {timeout} s)")
    r = run_timed(cmd, f"{out}.log", timeout)
    r.update(load=load, waited=waited, idle=idle, cmd=cmd, **parse_ign_log(r["text"]))
    del r["text"]
    files = [p for p in Path(out).rglob("*") if p.is_file()] if Path(out).exists() else []
    r["outputs"] = sorted({p.suffix for p in files})
    r["npz"] = sum(p.suffix == ".npz" for p in files)
    r["laz"] = sum(p.suffix == ".laz" for p in files)
    return r


def ign_version(ign):
    try:
        py = Path(ign).parent / "python"
        return subprocess.run([str(py), "-c", "import importlib.metadata as m;"
                               "print(m.version('ign-lidar-hd'))"],
                              capture_output=True, text=True, timeout=120).stdout.strip() or "?"
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def fmt(v, digits=1):
    return "-" if v is None else f"{v:.{digits}f}"


def ign_outcome(r):
    if r["timed_out"]:
        return f"killed after {r['wall']:.0f} s (timeout); last log line: `{r['last_line'][22:]}`"
    if r["rc"] != 0:
        return f"exit status {r['rc']}: {'; '.join(r['errors'][-3:]) or r['last_line']}"
    what = f"exit 0, {int(r.get('patches', 0))} patches ({r['npz']} .npz, {r['laz']} .laz files)"
    if r["errors"]:
        what += "; logged errors: " + "; ".join(e[22:] for e in r["errors"][:3])
    return what


def markdown(res):
    out = [f"#### `lidarhd process` vs ign-lidar-hd ({res['date']})", "",
           f"- machine: {res['machine']}",
           f"- lidarhd: `{res['lidarhd']}`; ign-lidar-hd {res['ign_version']} "
           f"(`{res['ign']}`)",
           f"- command: `{res['command']}`", ""]
    for size, tile in res["tiles"].items():
        out.append(f"Tile {size}: `{tile['name']}`, {tile['points']:,} points, "
                   f"{tile['mb']:.1f} MB, orthophotos `{tile['rgb']}` + `{tile['irc']}` (0.2 m).")
        out.append("")
        out += ["| run | load before | read | colours | features | patches | write | total "
                "(JSON) | wall | peak RSS | patches |", "|---|---|---|---|---|---|---|---|---|---|---|"]
        for i, r in enumerate(tile["lidarhd"], 1):
            s = r["seconds"]
            out.append(f"| lidarhd #{i} | {r['load']:.2f} | {s['read']:.2f} | {s['colors']:.2f} | "
                       f"{s['features']:.2f} | {s['patches']:.2f} | {s['write']:.2f} | "
                       f"{s['total']:.2f} | {r['wall']:.2f} | {r['rss_mb']:.0f} MB | {r['patches']} |")
        for r in tile.get("ign", []):
            feat = r.get("features_s")
            out.append(f"| ign-lidar-hd ({r['variant']}) | {r['load']:.2f} | {fmt(r.get('load_s'), 0)} | "
                       f"(none) | {fmt(feat)} | {fmt(r.get('patch_s'), 0)} | (in patches) | "
                       f"{fmt(r.get('tile_s'))} | {r['wall']:.1f} | {r['rss_mb']:.0f} MB | "
                       f"{int(r['patches']) if 'patches' in r else '-'} |")
        for r in tile.get("ign", []):
            detail = ""
            if r.get("geometric_s") is not None:
                detail = (f" Features: {fmt(r['geometric_s'])} s geometric features, "
                          f"{fmt(r.get('artifact_filter_s'))} s artifact filtering.")
            out.append(f"- ign-lidar-hd ({r['variant']}): {ign_outcome(r)}.{detail}")
        out.append("")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lidarhd", default=os.environ.get("LIDARHD_BIN", REPO / "build/cpu/lidarhd"),
                    type=Path)
    ap.add_argument("--ign", default=REPO / "build/ign-venv/bin/ign-lidar-hd", type=Path)
    ap.add_argument("--size", type=float, default=1000, help="big tile side (m)")
    ap.add_argument("--small-size", type=float, default=300, help="small tile side (m); 0: none")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2, help="lidarhd runs on the big tile")
    ap.add_argument("--lidarhd-timeout", type=float, default=600)
    ap.add_argument("--ign-timeout", type=float, default=1800, help="s, big tile")
    ap.add_argument("--ign-small-timeout", type=float, default=1800, help="s, small tile")
    ap.add_argument("--skip-ign", action="store_true")
    ap.add_argument("--skip-ign-big", action="store_true", help="ign-lidar-hd on the small tile only")
    ap.add_argument("--load-max", type=float, default=1.0)
    ap.add_argument("--load-wait", type=float, default=600)
    ap.add_argument("--ign-load-wait", type=float, help="s, before ign-lidar-hd runs "
                    "(default --load-wait)")
    ap.add_argument("--workdir", type=Path, default=REPO / "build/bench")
    ap.add_argument("--regenerate", action="store_true")
    ap.add_argument("--markdown-out", type=Path, help="append the result section to this file")
    ap.add_argument("--json-out", type=Path)
    args = ap.parse_args()
    if args.ign_load_wait is None:
        args.ign_load_wait = args.load_wait
    args.ign_preset = str(next(Path(args.ign).parent.parent.glob(
        "lib/python*/site-packages/ign_lidar/configs/presets/lod2_buildings.yaml"), ""))

    outdir = args.workdir / "process_out"
    outdir.mkdir(parents=True, exist_ok=True)
    res = {"date": subprocess.run(["date", "-u", "+%Y-%m-%d %H:%M UTC"], capture_output=True,
                                  text=True).stdout.strip(),
           "machine": machine(), "lidarhd": str(args.lidarhd), "ign": str(args.ign),
           "ign_version": "-" if args.skip_ign else ign_version(args.ign),
           "command": "python3 bench/process_vs_ign_lidar_hd.py " + " ".join(sys.argv[1:]),
           "ign_overrides": IGN_OVERRIDES, "tiles": {}}
    sizes = [("big", args.size)] + ([("small", args.small_size)] if args.small_size else [])
    for label, size in sizes:
        tile, rgb, irc, indir = ensure_tile(args.lidarhd, size, args.workdir, args.regenerate)
        entry = {"name": tile.name, "rgb": rgb.name, "irc": irc.name,
                 "mb": tile.stat().st_size / 1e6, "lidarhd": [], "ign": []}
        res["tiles"][f"{size:g} m"] = entry
        for i in range(args.repeats if label == "big" else 1):
            r = time_lidarhd(args.lidarhd, tile, rgb, irc, outdir / f"lidarhd_{size:g}m", args.threads,
                             args)
            entry["lidarhd"].append(r)
            entry["points"] = r["points"]
            log(f"  {r['seconds']} wall {r['wall']:.2f} s, {r['rss_mb']:.0f} MB")
    if not args.skip_ign:
        # Small tile first: it can finish. Then the default configuration's failure (seconds),
        # then the big tile under the timeout.
        runs = []
        if args.small_size:
            runs.append(("small", args.small_size, "lod2, k=20, patches", IGN_OVERRIDES,
                         args.ign_small_timeout))
            runs.append(("small", args.small_size, "default Phase 4 path",
                         [o for o in IGN_OVERRIDES if not o.startswith("enable_optimizations")], 300))
        if not args.skip_ign_big:
            runs.append(("big", args.size, "lod2, k=20, patches", IGN_OVERRIDES, args.ign_timeout))
        for label, size, variant, overrides, timeout in runs:
            _, _, _, indir = ensure_tile(args.lidarhd, size, args.workdir, False)
            tag = "default" if variant.startswith("default") else "lod2"
            r = time_ign(args.ign, indir, outdir / f"ign_{tag}_{size:g}m", timeout, args, overrides)
            r["variant"] = variant
            res["tiles"][f"{size:g} m"]["ign"].append(r)
            log(f"  {ign_outcome(r)}")
    md = markdown(res)
    print(md)
    if args.json_out:
        args.json_out.write_text(json.dumps(res, indent=2, default=str))
    if args.markdown_out:
        with open(args.markdown_out, "a") as f:
            f.write("\n" + md)


if __name__ == "__main__":
    main()
