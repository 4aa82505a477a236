#!/usr/bin/env python3
"""Writes a small synthetic LiDAR HD-like tile with laspy + lazrs, for the demo.

LAS 1.4, point format 6 (as IGN LiDAR HD), Lambert-93 coordinates with a WKT CRS record, and two
extra-byte dimensions. The scene (ground, buildings, trees, a pond) is generated from a fixed seed,
so the same command always writes the same file. Prints one JSON line: path, points and the
SHA-256 of the point records as laspy decodes them, to compare with `lidarhd info --checksum`.

Usage: make_sample.py OUTPUT.laz [--points N] [--seed S]     (.las writes uncompressed)
(Stands in until lidarhd has its own synthetic-scene generator.)
"""
import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

try:
    import laspy
except ImportError:  # pragma: no cover - explained to the user
    sys.exit("make_sample.py: laspy is missing "
             "(scripts/install-deps installs tests/python/requirements.txt)")

LAMBERT93_WKT = (
    'PROJCS["RGF93 v1 / Lambert-93",GEOGCS["RGF93 v1",DATUM["Reseau_Geodesique_Francais_1993_v1",'
    'SPHEROID["GRS 1980",6378137,298.257222101]],PRIMEM["Greenwich",0],'
    'UNIT["degree",0.0174532925199433],AUTHORITY["EPSG","4171"]],'
    'PROJECTION["Lambert_Conformal_Conic_2SP"],PARAMETER["latitude_of_origin",46.5],'
    'PARAMETER["central_meridian",3],PARAMETER["standard_parallel_1",49],'
    'PARAMETER["standard_parallel_2",44],PARAMETER["false_easting",700000],'
    'PARAMETER["false_northing",6600000],UNIT["metre",1],AUTHORITY["EPSG","2154"]]'
)

# ASPRS classes used by IGN LiDAR HD.
GROUND, LOW_VEG, HIGH_VEG, BUILDING, WATER = 2, 3, 5, 6, 9


def make_scene(n: int, rng: np.random.Generator, origin=(651000.0, 6861000.0), size=200.0):
    """Points of a 200 m square: terrain everywhere, then buildings, trees and a pond."""
    x = rng.uniform(0, size, n)
    y = rng.uniform(0, size, n)
    ground = 35.0 + 0.02 * x + 0.01 * y + 0.5 * np.sin(x / 17.0) * np.cos(y / 23.0)
    z = ground + rng.normal(0, 0.03, n)
    cls = np.full(n, GROUND, dtype=np.uint8)
    returns = np.ones(n, dtype=np.uint8)
    n_returns = np.ones(n, dtype=np.uint8)

    for cx, cy, w, d, h in [(40, 50, 20, 12, 8.0), (120, 60, 30, 18, 12.0), (80, 150, 15, 15, 6.0)]:
        inside = (np.abs(x - cx) < w / 2) & (np.abs(y - cy) < d / 2)
        z[inside] = ground[inside] + h + rng.normal(0, 0.02, inside.sum())
        cls[inside] = BUILDING

    trees = rng.uniform(0, size, (25, 2))
    for tx, ty in trees:
        r = np.hypot(x - tx, y - ty)
        crown = (r < 4.0) & (cls == GROUND)
        k = crown.sum()
        height = 12.0 * (1 - r[crown] / 4.0) + rng.uniform(0, 2.0, k)
        first = rng.random(k) < 0.7  # 70 % of crown pulses return from the canopy
        z[crown] = np.where(first, ground[crown] + height, ground[crown] + rng.uniform(0, 1.0, k))
        cls[crown] = np.where(first, HIGH_VEG, LOW_VEG)
        returns[crown] = np.where(first, 1, 2)
        n_returns[crown] = 2

    pond = np.hypot(x - 160, y - 160) < 15
    z[pond] = 36.0
    cls[pond] = WATER

    order = np.lexsort((x, np.floor(y / 2.0)))  # scan-line-like order compresses like real data
    return {
        "x": x[order] + origin[0], "y": y[order] + origin[1], "z": z[order],
        "classification": cls[order], "return_number": returns[order],
        "number_of_returns": n_returns[order],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=2154)
    args = parser.parse_args()
    if args.points < 1:
        parser.error("--points must be at least 1")

    rng = np.random.default_rng(args.seed)
    scene = make_scene(args.points, rng)
    n = args.points

    header = laspy.LasHeader(point_format=6, version="1.4")
    header.offsets = np.array([651000.0, 6861000.0, 0.0])
    header.scales = np.array([0.01, 0.01, 0.01])
    header.system_identifier = "lidarhd make_sample"
    header.generating_software = "lidarhd scripts/make_sample.py"
    header.global_encoding.wkt = True
    header.vlrs.append(laspy.vlrs.known.WktCoordinateSystemVlr(LAMBERT93_WKT))
    header.add_extra_dims([
        laspy.ExtraBytesParams(name="amplitude", type=np.float32,
                               description="echo amplitude (dB)"),
        laspy.ExtraBytesParams(name="deviation", type=np.uint16,
                               description="pulse shape deviation"),
    ])

    las = laspy.LasData(header)
    las.x, las.y, las.z = scene["x"], scene["y"], scene["z"]
    las.classification = scene["classification"]
    las.return_number = scene["return_number"]
    las.number_of_returns = scene["number_of_returns"]
    las.intensity = rng.integers(0, 4096, n, dtype=np.uint16)
    las.gps_time = 3.0e8 + np.arange(n) * 5e-6
    las.scan_angle = rng.integers(-3000, 3000, n, dtype=np.int16)
    las.point_source_id = np.full(n, 42, dtype=np.uint16)
    las.amplitude = rng.normal(20.0, 3.0, n).astype(np.float32)
    las.deviation = rng.integers(0, 20, n, dtype=np.uint16)

    args.output.parent.mkdir(parents=True, exist_ok=True)
    compressed = args.output.suffix.lower() == ".laz"
    tmp = args.output.with_name(args.output.name + ".tmp")
    with open(tmp, "wb") as f:  # written aside, then renamed: never a half file under the name
        las.write(f, do_compress=compressed,
                  laz_backend=laspy.LazBackend.Lazrs if compressed else None)
    tmp.replace(args.output)

    check = laspy.read(args.output)
    digest = hashlib.sha256(check.points.array.tobytes()).hexdigest()
    print(json.dumps({"path": str(args.output), "points": len(check.points), "sha256": digest}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
