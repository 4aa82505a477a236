"""Shared by bench/decode_vs_lazrs.py and bench/encode_vs_lazrs.py: the synthetic airborne-like
LAZ tile (PDRF 6, or PDRF 8 with orthophoto-like RGB + NIR), cached under build/bench/, a minimal
LAZ header/VLR parser, and the machine description for result sections."""

import os
import subprocess
import struct
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def synthetic_path(n, point_format=6):
    """Where the cached tile of n points lives (never inside the source tree)."""
    return REPO / "build" / "bench" / f"synthetic_pdrf{point_format}_{n}.laz"


def ensure_synthetic(n, point_format=6, seed=42, regenerate=False, log=None):
    path = synthetic_path(n, point_format)
    if regenerate or not path.exists():
        if log:
            log(f"generating {path} ...")
        generate(path, n, seed, point_format)
    return path


def generate(path, n, seed, point_format=6):
    """Zig-zag scan lines in flight strips over smooth terrain with trees and flat roofs: pulses of
    1-4 returns sharing one GPS time, increasing time, Lambert-93-like coordinates at 1 cm.
    PDRF 8 adds RGB + NIR sampled from a 20 cm orthophoto-like image (see ortho_colors); the PDRF 6
    fields, and the PDRF 6 file, are the same for a given seed."""
    import laspy

    if point_format not in (6, 8):
        raise ValueError(f"synthetic tile: PDRF {point_format} not supported (6 or 8)")
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

    header = laspy.LasHeader(point_format=point_format, version="1.4")
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
    if point_format == 8:
        # Drawn after every PDRF 6 field so that those stay identical to the PDRF 6 tile.
        colors = ortho_colors(xs, ys, forest[pi], roof[pi], rng)
        for name, value in zip(("red", "green", "blue", "nir"), colors):
            rec[name] = value
    las = laspy.LasData(header)
    las.points = laspy.PackedPointRecord(rec, header.point_format)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.laz")
    las.write(str(tmp), do_compress=True, laz_backend=laspy.LazBackend.LazrsParallel)
    tmp.rename(path)


def ortho_colors(xs, ys, forest, roof, rng):
    """RGB + NIR as a LiDAR colourised from a 20 cm orthophoto (IGN-style): every return of a pulse
    takes the pixel under it, coloured by the surface seen from above (canopy, roof, grass or bare
    soil), with smooth shading across the scene, per-pixel texture and a little sensor noise;
    8-bit values scaled to 16 bits (x 256) as colourising tools store them."""
    ix = np.floor(xs / 0.2).astype(np.int64)
    iy = np.floor(ys / 0.2).astype(np.int64)
    # Deterministic per-pixel texture: the same pixel always gets the same value.
    h = (ix * 0x9E3779B1 + iy * 0x85EBCA77) & 0xFFFFFFFF
    h = ((h ^ (h >> 15)) * 0x2C1B3C6D) & 0xFFFFFFFF
    h = (h ^ (h >> 12)) & 0xFFFF
    texture = (h / 65535.0 - 0.5) * 30.0
    shade = 12.0 * np.sin(xs / 9.0) * np.cos(ys / 6.0)  # crowns, relief shading
    grass = (np.sin(xs / 19.0) + np.cos(ys / 13.0)) > 0.0
    tiles = ((xs // 40) + (ys // 30)) % 2 == 0  # red tiles or grey roofs, one per building

    def pick(canopy, roof_tile, roof_grey, grass_v, soil_v):
        ground = np.where(grass, grass_v, soil_v)
        top = np.where(roof, np.where(tiles, roof_tile, roof_grey), ground)
        return np.where(forest, canopy, top).astype(np.float64)

    base = (
        pick(55, 160, 118, 95, 150),  # red
        pick(85, 82, 120, 118, 128),  # green
        pick(48, 64, 126, 62, 100),  # blue
        pick(205, 70, 60, 165, 95),  # near infrared: bright vegetation
    )
    out = []
    for band, b in enumerate(base):
        gain = 1.6 if band == 3 else 1.0  # NIR texture is stronger under canopy
        v = b + gain * (texture + np.where(forest, shade, 0.3 * shade))
        v = v + rng.normal(0, 1.5, len(xs))
        out.append((np.clip(np.round(v), 0, 255).astype(np.int64) * 256).astype(np.uint16))
    return out


def laz_parts(path):
    """(file bytes, offset to point data, LASzip VLR record, point count, record length)."""
    data = Path(path).read_bytes()
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


def machine():
    """The CPU model (lscpu) and the number of usable cores."""
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
