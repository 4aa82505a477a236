#!/usr/bin/env python3
"""Per-point features of lidarhd against jakteristics, Open3D and pgeof on the same points.

For each peer the script runs our CLI with the peer's neighbourhood (k nearest, or a radius
ball), converts the peer's conventions to ours (sample vs population covariance, eigenvalue
normalisation, normal orientation n_z >= 0), and reports per feature: median and 99th-percentile
absolute difference and the share of points within 1e-4. Then throughput per core (each with
the same number of threads, neighbour search included) side by side with ours for k = 20 lod2.

--threads N also pins the whole run (the peers, and our CLI, which inherits it) to N CPUs:
Open3D 0.20 and pgeof 0.3 ignore OMP_NUM_THREADS=1 and keep about 1.7 cores busy, so a thread
count alone would credit them a second core. The cores each Python peer kept busy (CPU time over
wall time) are printed next to its rate.

Usage: bench/features_vs_peers.py TILE.laz --lidarhd build/cpu/lidarhd [--k 20] [--threads N]
       [--speed-only]   (--speed-only: the timings alone, for tiles too large to compare)
Needs: pip install laspy lazrs numpy scipy jakteristics open3d-cpu "pgeof<=0.3.2"
(Open3D also needs libusb-1.0-0 from apt.) Peers that fail to import are reported and skipped.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time


def requested_threads(argv):
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--threads="):
            return a.split("=", 1)[1]
    return "1"


def pin_to_cpus(n):
    """Restricts this process, its threads and its children to n of the CPUs it may use."""
    cpus = sorted(os.sched_getaffinity(0))
    if not 1 <= n <= len(cpus):
        sys.exit(f"--threads {n}: this process may use {len(cpus)} CPUs")
    os.sched_setaffinity(0, cpus[:n])


# Before the peers load: OpenMP reads its thread count then, and threads inherit the affinity.
os.environ["OMP_NUM_THREADS"] = requested_threads(sys.argv)
pin_to_cpus(int(requested_threads(sys.argv)))

import laspy  # noqa: E402
import numpy as np  # noqa: E402

RATIOS = ["linearity", "planarity", "sphericity", "anisotropy", "change_of_curvature"]


class Timer:
    """Wall and CPU time (all threads of this process) of a with-block."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu
        self.cores = self.cpu / self.wall if self.wall > 0 else float("nan")


def run_ours(exe, tile, extra, threads=1, columns=True):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.laz")
        cmd = [exe, "features", tile, out, "--threads", str(threads), "--json"] + extra
        summary = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        cols = None
        if columns:
            las = laspy.read(out)
            cols = {name: np.asarray(las[name], dtype=np.float64) for name in summary["features"]}
    return summary, cols


def local_xyz(tile):
    las = laspy.read(tile)
    xyz = np.vstack([las.x, las.y, las.z]).T
    return xyz - np.floor(xyz.min(axis=0))


def orient_up(n):
    n = n.copy()
    flip = (n[:, 2] < 0) | ((n[:, 2] == 0) & (n[:, 1] < 0))
    n[flip] *= -1
    return n


def ratios_from_eigen(l, norm="lambda1"):
    l = np.clip(np.sort(l, axis=1)[:, ::-1], 0, None)
    a, b, c = l[:, 0], l[:, 1], l[:, 2]
    den = a
    if norm == "sqrt":
        a, b, c = np.sqrt(a), np.sqrt(b), np.sqrt(c)
        den = a
    s = l.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {"linearity": (a - b) / den, "planarity": (b - c) / den, "sphericity": c / den,
                "anisotropy": (a - c) / den, "change_of_curvature": l[:, 2] / s}


def report(peer, ours, theirs, mask=None):
    print(f"\n{peer}: agreement with lidarhd (absolute differences)")
    print(f"  {'feature':22s} {'median':>10s} {'p99':>10s} {'<=1e-4':>8s} {'points':>8s}")
    for name, value in theirs.items():
        if name not in ours:
            continue
        ok = np.isfinite(value) & np.isfinite(ours[name])
        if mask is not None:
            ok &= mask
        d = np.abs(ours[name][ok] - value[ok])
        if d.size == 0:
            continue
        print(f"  {name:22s} {np.median(d):10.2e} {np.percentile(d, 99):10.2e} "
              f"{np.mean(d <= 1e-4):8.1%} {d.size:8d}")


def normal_angle(ours, n):
    mine = np.vstack([ours["normal_x"], ours["normal_y"], ours["normal_z"]]).T
    c = np.abs(np.sum(mine * n, axis=1)).clip(0, 1)
    return np.arccos(c)


def compare_open3d(pc, ours, k):
    import open3d as o3d
    pc.estimate_covariances(o3d.geometry.KDTreeSearchParamKNN(k))
    cov = np.asarray(pc.covariances)
    lam = np.linalg.eigvalsh(cov)
    theirs = ratios_from_eigen(lam)
    nrm = orient_up(np.asarray(pc.normals))
    theirs.update({"normal_x": nrm[:, 0], "normal_y": nrm[:, 1], "normal_z": nrm[:, 2]})
    report("Open3D 0.x (knn)", ours, theirs)
    ang = normal_angle(ours, nrm)
    print(f"  normal angle: median {np.median(ang):.2e} rad, p99 {np.percentile(ang, 99):.2e}")


def compare_pgeof(f, ours, args):
    theirs = {"linearity": f[:, 0], "planarity": f[:, 1], "sphericity": f[:, 2]}
    _, ours_sqrt = run_ours(args.lidarhd, args.tile,
                            ["--set", "linearity,planarity,sphericity,normal_x,normal_y,"
                             "normal_z", "--k", str(args.k), "--eigen-norm", "sqrt"])
    report("pgeof vs lidarhd --eigen-norm sqrt", ours_sqrt, theirs)
    report("pgeof vs lidarhd --eigen-norm lambda1", ours, theirs)
    nrm = orient_up(f[:, 4:7].astype(np.float64))
    ang = normal_angle(ours, nrm)
    print(f"  normal angle: median {np.median(ang):.2e} rad, p99 {np.percentile(ang, 99):.2e}")


def compare_jakteristics(f, radius, args):
    count = f[:, 12]
    _, ours_r = run_ours(args.lidarhd, args.tile, ["--set", "full", "--radius", f"{radius}"])
    scale = (count - 1) / count  # sample -> population covariance
    nrm = orient_up(f[:, 9:12])
    theirs = {"eigenvalue_1": f[:, 0] * scale, "eigenvalue_2": f[:, 1] * scale,
              "eigenvalue_3": f[:, 2] * scale, "planarity": f[:, 3], "linearity": f[:, 4],
              "sphericity": f[:, 5], "anisotropy": f[:, 6], "change_of_curvature": f[:, 7],
              "verticality": f[:, 8], "omnivariance": f[:, 13] * scale,
              "normal_x": nrm[:, 0], "normal_y": nrm[:, 1], "normal_z": nrm[:, 2]}
    # Same neighbourhoods only where the ball holds at most our cap of 64 points.
    report(f"jakteristics (radius {radius:.3f} m, balls <= 64 points)", ours_r, theirs,
           mask=count <= 64)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("tile")
    ap.add_argument("--lidarhd", default="build/cpu/lidarhd")
    ap.add_argument("--k", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--speed-only", action="store_true")
    args = ap.parse_args()
    xyz = local_xyz(args.tile)
    n = len(xyz)
    threads = args.threads
    compare = not args.speed_only
    print(f"{args.tile}: {n} points, k = {args.k}, {threads} thread(s) each")
    speed = {}
    cores = {}  # CPU time / wall time of the Python peers

    if compare:
        _, ours = run_ours(args.lidarhd, args.tile, ["--set", "full", "--k", str(args.k)])
    lod2, _ = run_ours(args.lidarhd, args.tile, ["--set", "lod2", "--k", str(args.k)], threads,
                       columns=False)
    speed["lidarhd (lod2, k=20, knn included)"] = n / lod2["compute_seconds"]

    try:  # Open3D: exact knn, population covariance, normals with arbitrary sign
        import open3d as o3d
        pc = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(xyz))
        with Timer() as t:
            pc.estimate_normals(o3d.geometry.KDTreeSearchParamKNN(args.k))
        speed["Open3D estimate_normals (knn)"] = n / t.wall
        cores["Open3D estimate_normals (knn)"] = t.cores
        if compare:
            compare_open3d(pc, ours, args.k)
    except Exception as e:  # noqa: BLE001
        print(f"\nOpen3D skipped: {e}")

    try:  # pgeof: its own knn; ratios of sqrt(eigenvalues) (checked against both norms)
        import pgeof
        pts = np.ascontiguousarray(xyz, dtype=np.float32)
        with Timer() as t:
            nn, _ = pgeof.knn_search(pts, pts, args.k)
            ptr = np.arange(0, (n + 1) * args.k, args.k, dtype=np.uint32)
            f = pgeof.compute_features(pts, nn.astype(np.uint32).ravel(), ptr)
        speed["pgeof knn_search + compute_features"] = n / t.wall
        cores["pgeof knn_search + compute_features"] = t.cores
        if compare:
            compare_pgeof(f, ours, args)
    except Exception as e:  # noqa: BLE001
        print(f"\npgeof skipped: {e}")

    try:  # jakteristics: radius balls (first max_k in ball order), sample covariance (n - 1)
        import jakteristics
        from scipy.spatial import cKDTree
        d, _ = cKDTree(xyz).query(xyz, k=[args.k])  # the k-th distance alone
        radius = float(np.median(d[:, 0]))
        names = ["eigenvalue1", "eigenvalue2", "eigenvalue3", "planarity", "linearity",
                 "sphericity", "anisotropy", "surface_variation", "verticality", "nx", "ny", "nz",
                 "number_of_neighbors", "omnivariance"]
        name = f"jakteristics (radius {radius:.2f} m ~ k={args.k})"
        with Timer() as t:
            f = jakteristics.compute_features(xyz, radius, num_threads=threads,
                                              feature_names=names)
        speed[name] = n / t.wall
        cores[name] = t.cores
        lod2_r, _ = run_ours(args.lidarhd, args.tile, ["--set", "lod2", "--radius", f"{radius}"],
                             threads, columns=False)
        speed[f"lidarhd (lod2, radius {radius:.2f} m)"] = n / lod2_r["compute_seconds"]
        if compare:
            compare_jakteristics(f, radius, args)
    except Exception as e:  # noqa: BLE001
        print(f"\njakteristics skipped: {e}")

    print(f"\nThroughput per core (points/s / {threads} thread(s) on {threads} pinned CPU(s), "
          "neighbour search included):")
    ours_rate = speed["lidarhd (lod2, k=20, knn included)"]
    for name, rate in speed.items():
        busy = f"   {cores[name]:4.2f} cores busy" if name in cores else ""
        print(f"  {name:48s} {rate / threads / 1e6:8.3f} M/s   lidarhd x{ours_rate / rate:5.1f}{busy}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
