"""Independent cross-check of the lidarhd LAZ decoder against laspy + lazrs (the Rust codec).

At test time this module writes LAZ files with laspy/lazrs into pytest's tmp_path (nothing is
stored in the repository): point formats 0-3 and 6-8, with extra bytes, seeded random records that
mix airborne-like scan lines, fully random bytes, constant runs and extreme values, several
chunkings (laspy's default 50000, small fixed chunks, variable-size chunks) and 0 / 1 point files,
in LAS 1.2 and 1.4 headers. For each file `lidarhd info FILE --json --checksum --threads N`
(N = 1, 2) must report the SHA-256 of the records laspy decodes, in file order.

On a digest mismatch the test bisects over prefixes of the point stream (each prefix re-encoded with
the same chunking, which yields the same compressed chunks) to name the first differing record, and
prints its expected fields. When LIDARHD_DUMP_CMD is set (a template such as
"{bin} convert {input} {output}" writing a LAS file or raw records), it also names the differing
fields.

Environment: LIDARHD_BIN (default <repo>/build/cpu/lidarhd). Without the binary the module is
skipped, except with LIDARHD_CROSSCHECK_SELFTEST=1, which runs only the checks of the fixtures
themselves.
"""

import hashlib
import json
import os
import shlex
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

laspy = pytest.importorskip(
    "laspy", reason="laspy is required (pip install -r tests/python/requirements.txt)"
)
lazrs = pytest.importorskip(
    "lazrs", reason="lazrs is required (pip install -r tests/python/requirements.txt)"
)

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("LIDARHD_BIN", REPO / "build" / "cpu" / "lidarhd"))
HAVE_BIN = BIN.is_file() and os.access(BIN, os.X_OK)
SELFTEST = os.environ.get("LIDARHD_CROSSCHECK_SELFTEST") == "1"
if not HAVE_BIN and not SELFTEST:
    pytest.skip(
        f"lidarhd binary not found at {BIN} (build it with `cmake --preset cpu && "
        "cmake --build --preset cpu` or set LIDARHD_BIN)",
        allow_module_level=True,
    )
needs_bin = pytest.mark.skipif(not HAVE_BIN, reason=f"lidarhd binary not found at {BIN}")

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
THREADS = (1, 2)

# ---------------------------------------------------------------------------------------------
# Record generation
# ---------------------------------------------------------------------------------------------

EXTRA_DIMS = (
    ("eb_f32", "f4", None, None),
    ("eb_u16_scaled", "u2", [0.01], [0.0]),
    ("eb_i32_scaled", "i4", [0.001], [100.0]),
    ("eb_xyz", "3f8", None, None),  # array extra bytes (deprecated in LAS 1.4 R15, still written)
    ("eb_i8", "i1", None, None),  # makes the record length odd
)


def make_header(point_format, version, extra_bytes):
    header = laspy.LasHeader(point_format=point_format, version=version)
    header.scales = np.array([0.01, 0.01, 0.01])
    header.offsets = np.array([650000.0, 6860000.0, 0.0])
    if extra_bytes:
        header.add_extra_dims(
            [laspy.ExtraBytesParams(n, t, scales=s, offsets=o) for n, t, s, o in EXTRA_DIMS]
        )
    return header


def _airborne(rng, rec, pf, lo, hi, state):
    """Scan lines of multi-return pulses; PDRF 6+: several scanner channels, own time lines."""
    m = hi - lo
    legacy = pf < 6
    max_returns = 7 if legacy else 15
    nret = rng.choice([1, 1, 1, 1, 1, 1, 2, 2, 3, 4, 5, max_returns], size=m)
    pulse = np.repeat(np.arange(m), nret)[:m]
    first = np.r_[True, pulse[1:] != pulse[:-1]]
    starts = np.flatnonzero(first)
    rn = np.arange(m) - np.repeat(starts, np.diff(np.r_[starts, m])) + 1
    nr = nret[pulse]
    odd = rng.random(m) < 0.02  # the codecs must handle inconsistent return numbers too
    rn = np.where(odd, rng.integers(0, max_returns + 1, m), rn)

    period = int(rng.integers(40, 400))
    phase = (pulse % period) / period
    sweep = np.sin(2 * np.pi * phase)
    x = state["x"] + pulse * int(rng.integers(1, 30)) + rng.integers(-3, 4, m)
    y = state["y"] + (sweep * rng.integers(1000, 200000)).astype(np.int64) + rn * 7
    z = 15000 + (3000 * np.sin(x / 9000.0)).astype(np.int64) - (rn - 1) * rng.integers(50, 900, m)
    rec["X"][lo:hi] = np.clip(x, INT32_MIN, INT32_MAX)
    rec["Y"][lo:hi] = np.clip(y, INT32_MIN, INT32_MAX)
    rec["Z"][lo:hi] = np.clip(z, INT32_MIN, INT32_MAX)
    state["x"] = int(np.clip(x[-1], -(2**30), 2**30))

    walk = np.cumsum(rng.integers(-300, 301, m)) + int(rng.integers(0, 65536))
    rec["intensity"][lo:hi] = np.where(rng.random(m) < 0.03, 0, np.mod(walk, 65536))
    direction = (np.diff(np.r_[sweep[0], sweep]) >= 0).astype(np.int64)
    edge = np.r_[direction[1:] != direction[:-1], False].astype(np.int64)
    cls = rng.choice([1, 2, 2, 2, 3, 4, 5, 5, 6, 9, 17], size=m)
    user = np.where(rng.random(m) < 0.01, rng.integers(0, 256, m), state["user"])
    rec["user_data"][lo:hi] = user
    src = int(rng.integers(0, 65536))
    rec["point_source_id"][lo:hi] = np.where(rng.random(m) < 0.005, src ^ 1, src)
    angle_deg = sweep * 30.0

    if legacy:
        rec["bit_fields"][lo:hi] = (rn & 7) | ((nr & 7) << 3) | (direction << 6) | (edge << 7)
        flags = np.where(rng.random(m) < 0.03, rng.integers(0, 8, m), 0)
        rec["raw_classification"][lo:hi] = (cls & 31) | (flags << 5)
        rank = np.round(angle_deg).astype(np.int64)
        rank = np.where(rng.random(m) < 0.01, rng.choice([-128, 127], m), rank)
        rec["scan_angle_rank"][lo:hi] = rank
    else:
        pattern = [[0], [0, 1], [1, 0], [0, 1, 2, 3], [3], [2, 0, 3], [1, 3, 2, 0]][
            int(rng.integers(0, 7))
        ]
        run = int(rng.integers(1, 6))  # pulses per channel before switching
        channel = np.asarray(pattern)[(pulse // run) % len(pattern)]
        cflags = np.where(rng.random(m) < 0.03, rng.integers(0, 16, m), 0)
        rec["bit_fields"][lo:hi] = (rn & 15) | ((nr & 15) << 4)
        rec["classification_flags"][lo:hi] = (
            cflags | (channel << 4) | (direction << 6) | (edge << 7)
        )
        cls = np.where(rng.random(m) < 0.05, rng.integers(0, 256, m), cls)
        rec["classification"][lo:hi] = cls
        sa = np.round(angle_deg / 0.006).astype(np.int64)
        sa = np.where(rng.random(m) < 0.01, rng.choice([-32768, 32767, -15000], m), sa)
        rec["scan_angle"][lo:hi] = sa

    if "gps_time" in rec.dtype.names:
        dt = float(rng.choice([1e-6, 2.5e-6, 1e-5, 0.3]))
        base = state["t"] + float(rng.uniform(0, 50))
        offset = float(rng.choice([0.0, 1e-7, 10.0, 1e4, -500.0]))
        ch = channel if not legacy else np.zeros(m, dtype=np.int64)
        t = base + pulse * dt + ch * offset  # pulse returns share one time
        rec["gps_time"][lo:hi] = t
        state["t"] = float(t.max())

    if "red" in rec.dtype.names:
        mode = int(rng.integers(0, 3))
        base = (32768 + 30000 * np.sin(x / 4000.0)).astype(np.int64)
        noise = lambda: rng.integers(-400, 401, m)  # noqa: E731
        r, g, b = base + noise(), base + noise() // 2, base - noise()
        if mode == 1:  # grey
            g = b = r
        elif mode == 2:  # 8-bit colours scaled to 16 bits, as many writers do
            r, g, b = ((np.clip(c, 0, 65535) >> 8) * 257 for c in (r, g, b))
        rec["red"][lo:hi] = np.clip(r, 0, 65535)
        rec["green"][lo:hi] = np.clip(g, 0, 65535)
        rec["blue"][lo:hi] = np.clip(b, 0, 65535)
    if "nir" in rec.dtype.names:
        rec["nir"][lo:hi] = np.mod(walk // 3 + 1000, 65536)
    if "eb_f32" in rec.dtype.names:
        rec["eb_f32"][lo:hi] = (z * 0.01).astype(np.float32)
        rec["eb_u16_scaled"][lo:hi] = np.mod(np.arange(lo, hi), 65536)
        rec["eb_i32_scaled"][lo:hi] = np.cumsum(rng.integers(-1000, 1001, m))
        rec["eb_xyz"][lo:hi] = np.stack([x * 0.01, y * 0.01, z * 0.01], axis=1)
        rec["eb_i8"][lo:hi] = np.where(rng.random(m) < 0.1, rng.integers(-128, 128, m), 5)


def _extremes(rng, rec, pf, lo, hi):
    m = hi - lo
    for f in ("X", "Y", "Z"):
        rec[f][lo:hi] = rng.choice([INT32_MIN, INT32_MAX, 0, -1, 1], m)
    rec["intensity"][lo:hi] = rng.choice([0, 65535], m)
    if pf >= 6:
        rec["scan_angle"][lo:hi] = rng.choice([-32768, 32767, 0], m)
        rec["classification"][lo:hi] = rng.choice([0, 255], m)
    if "gps_time" in rec.dtype.names:
        rec["gps_time"][lo:hi] = rng.choice([0.0, -1e300, 1e300, 5e-324, 1e9, -1e9, 123.456], m)
    for f in ("red", "green", "blue", "nir"):
        if f in rec.dtype.names:
            rec[f][lo:hi] = rng.choice([0, 65535], m)


def make_records(header, n, seed):
    """n records of the header's point format: segments of several kinds, in random order."""
    rng = np.random.default_rng(seed)
    dtype = header.point_format.dtype()
    pf = header.point_format.id
    # Start from random bytes so every field (and every bit) takes arbitrary values somewhere.
    rec = np.frombuffer(
        rng.integers(0, 256, n * dtype.itemsize, dtype=np.uint8).tobytes(), dtype
    ).copy()
    state = {"x": 0, "y": 0, "t": float(rng.uniform(1e5, 3e8)), "user": int(rng.integers(0, 256))}
    lo = 0
    while lo < n:
        hi = min(n, lo + int(rng.choice([1, 2, 5, 50, 300, 1000, 4000])))
        kind = rng.choice(["airborne"] * 6 + ["random", "constant", "extremes"])
        if kind == "airborne":
            _airborne(rng, rec, pf, lo, hi, state)
        elif kind == "constant":
            rec[lo:hi] = rec[max(lo - 1, 0)]
        elif kind == "extremes":
            _extremes(rng, rec, pf, lo, hi)
        lo = hi
    return rec


# ---------------------------------------------------------------------------------------------
# Writing LAS / LAZ
# ---------------------------------------------------------------------------------------------


def write_las(path, header, records):
    las = laspy.LasData(header)
    las.points = laspy.PackedPointRecord(records, header.point_format)
    las.write(str(path), do_compress=False)


def write_laz(path, header, records, chunking):
    """chunking: ("laspy", LazBackend) writes with laspy; ("fixed", size), ("variable", [sizes])
    and ("variable_batch", [sizes]) turn laspy's uncompressed LAS into LAZ with lazrs directly
    (laspy has no chunk-size option)."""
    kind, arg = chunking
    if kind == "laspy":
        las = laspy.LasData(header)
        las.points = laspy.PackedPointRecord(records, header.point_format)
        las.write(str(path), do_compress=True, laz_backend=arg)
        return
    tmp = Path(str(path) + ".tmp.las")
    write_las(tmp, header, records)
    data = tmp.read_bytes()
    tmp.unlink()
    offset, nvlrs = struct.unpack_from("<IL", data, 96)
    pf, rlen = data[104], struct.unpack_from("<H", data, 105)[0]
    if data[25] >= 4:
        assert struct.unpack_from("<Q", data, 235)[0] == 0, "EVLRs not expected from laspy here"
    assert rlen == header.point_format.size
    variable = kind.startswith("variable")
    vlr = lazrs.LazVlr.new_for_compression(pf, header.point_format.num_extra_bytes, variable)
    record = bytearray(vlr.record_data())
    if kind == "fixed":
        struct.pack_into("<I", record, 12, arg)  # LASzip VLR: chunk_size at byte 12
        vlr = lazrs.LazVlr(bytes(record))
    head = bytearray(data[:offset])
    head += struct.pack(
        "<H16sHH32s", 0, b"laszip encoded", 22204, len(record), b"lidarhd crosscheck"
    )
    head += record
    struct.pack_into("<IL", head, 96, len(head), nvlrs + 1)
    head[104] = pf | 0x80
    points = data[offset : offset + len(records) * rlen]
    with open(path, "wb") as f:
        f.write(head)
        compressor = lazrs.LasZipCompressor(f, vlr)
        if kind == "fixed":
            compressor.compress_many(points)
        else:
            bounds = np.cumsum([0] + list(arg)) * rlen
            assert bounds[-1] == len(points), "variable chunk sizes must add up to the point count"
            chunks = [points[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
            if kind == "variable_batch":
                # lazrs' batch API; its done() then appends an empty (0 points, 0 bytes) chunk
                compressor.compress_chunks(chunks)
            else:
                for i, chunk in enumerate(chunks):
                    if i:
                        compressor.finish_current_chunk()
                    compressor.compress_many(chunk)
        compressor.done()


def laspy_records(path):
    """The records laspy (with lazrs) decodes, as LAS-layout bytes."""
    return laspy.read(str(path), laz_backend=laspy.LazBackend.Lazrs).points.array.tobytes()


# ---------------------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------------------

SEQ, PAR = laspy.LazBackend.Lazrs, laspy.LazBackend.LazrsParallel
VARIABLE = [1, 2, 100, 4999, 50001, 17, 1000, 3]  # 56123 points


def _cases():
    cases = {}
    for i, pf in enumerate((0, 1, 2, 3, 6, 7, 8)):
        seed = 1000 + pf
        cases[f"pf{pf}-v14-eb-chunk100"] = (pf, "1.4", True, 23457, ("fixed", 100), seed)
        cases[f"pf{pf}-v14-eb-default"] = (
            pf,
            "1.4",
            True,
            120001,
            ("laspy", (SEQ, PAR)[i % 2]),
            seed + 1,
        )
        cases[f"pf{pf}-v14-eb-variable"] = (
            pf,
            "1.4",
            True,
            sum(VARIABLE),
            ("variable", VARIABLE),
            seed + 2,
        )
        cases[f"pf{pf}-v14-eb-0pts"] = (pf, "1.4", True, 0, ("laspy", SEQ), seed + 3)
        cases[f"pf{pf}-v14-eb-1pt"] = (pf, "1.4", True, 1, ("laspy", PAR), seed + 4)
        cases[f"pf{pf}-v14-noeb-chunk5000"] = (pf, "1.4", False, 20000, ("fixed", 5000), seed + 5)
        if pf < 6:
            cases[f"pf{pf}-v12-noeb-default"] = (pf, "1.2", False, 60000, ("laspy", SEQ), seed + 6)
            cases[f"pf{pf}-v12-eb-chunk100"] = (pf, "1.2", True, 5000, ("fixed", 100), seed + 7)
            cases[f"pf{pf}-v12-noeb-1pt"] = (pf, "1.2", False, 1, ("laspy", SEQ), seed + 8)
    cases["pf6-v14-noeb-chunk1"] = (6, "1.4", False, 700, ("fixed", 1), 77)
    cases["pf7-v14-eb-chunk100-exact"] = (7, "1.4", True, 500, ("fixed", 100), 78)
    cases["pf8-v14-eb-variable-single"] = (8, "1.4", True, 3000, ("variable", [3000]), 79)
    cases["pf8-v14-eb-variable-emptytail"] = (
        8,
        "1.4",
        True,
        3100,
        ("variable_batch", [7, 3093]),
        81,
    )
    cases["pf2-v12-eb-variable-emptytail"] = (
        2,
        "1.2",
        True,
        3100,
        ("variable_batch", [3000, 100]),
        82,
    )
    cases["pf1-v12-noeb-variable"] = (1, "1.2", False, sum(VARIABLE), ("variable", VARIABLE), 80)
    return cases


CASES = _cases()


class Case:
    def __init__(self, name, path, header, records, chunking):
        self.name, self.path, self.header, self.records, self.chunking = (
            name,
            path,
            header,
            records,
            chunking,
        )


@pytest.fixture(scope="module")
def case_factory(tmp_path_factory):
    root = tmp_path_factory.mktemp("crosscheck")
    made = {}

    def get(name):
        if name not in made:
            pf, version, eb, n, chunking, seed = CASES[name]
            header = make_header(pf, version, eb)
            records = make_records(header, n, seed)
            path = root / f"{name}.laz"
            write_laz(path, header, records, chunking)
            made[name] = Case(name, path, header, records, chunking)
        return made[name]

    return get


# ---------------------------------------------------------------------------------------------
# Running lidarhd and diagnosing mismatches
# ---------------------------------------------------------------------------------------------


def run_info(path, threads):
    cmd = [str(BIN), "info", str(path), "--json", "--checksum", "--threads", str(threads)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        pytest.fail(f"{shlex.join(cmd)} exited {proc.returncode}\nstderr:\n{proc.stderr[-4000:]}")
    try:
        info = json.loads(proc.stdout)
    except json.JSONDecodeError as e:
        pytest.fail(
            f"{shlex.join(cmd)} did not print one JSON object ({e}):\n{proc.stdout[-4000:]}"
        )
    for key in ("point_count", "point_format", "record_length", "compressed", "points_sha256"):
        if key not in info:
            pytest.fail(f"{shlex.join(cmd)}: JSON lacks '{key}': {sorted(info)}")
    return info


def describe_record(dtype, raw):
    rec = np.frombuffer(raw, dtype)[0]
    return ", ".join(f"{name}={rec[name].tolist()}" for name in dtype.names)


def dump_records(path, out_dir):
    """Our decoded records through LIDARHD_DUMP_CMD, or None when no dump command is configured."""
    template = os.environ.get("LIDARHD_DUMP_CMD")
    if not template:
        return None
    out = Path(out_dir) / (Path(path).stem + ".dump.las")
    cmd = template.format(
        bin=shlex.quote(str(BIN)), input=shlex.quote(str(path)), output=shlex.quote(str(out))
    )
    subprocess.run(cmd, shell=True, check=True, timeout=600)
    data = out.read_bytes()
    if data[:4] == b"LASF":
        offset = struct.unpack_from("<I", data, 96)[0]
        return data[offset:]
    return data


def first_difference(case, threads, tmp_dir):
    """Bisect over prefixes of the points to find the first record our decoder gets wrong."""
    rlen = case.records.dtype.itemsize
    kind, arg = case.chunking
    if kind == "laspy":
        kind, arg = "fixed", 50000  # laspy writes lazrs' default chunking

    def prefix_ok(k):
        chunking = (kind, arg)
        if kind.startswith("variable"):
            sizes, left = [], k
            for s in arg:
                if left == 0:
                    break
                sizes.append(min(s, left))
                left -= sizes[-1]
            chunking = (kind, sizes)
        path = Path(tmp_dir) / f"{case.name}.prefix{k}.laz"
        write_laz(path, case.header, case.records[:k], chunking)
        got = run_info(path, threads)["points_sha256"]
        path.unlink()
        return got == hashlib.sha256(case.records[:k].tobytes()).hexdigest()

    n = len(case.records)
    if prefix_ok(n):
        return "the re-encoded stream decodes correctly: the difference comes from the file framing"
    lo, hi = 0, n  # prefix lo decodes correctly, prefix hi does not
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if prefix_ok(mid) else (lo, mid)
    idx = hi - 1
    expected = case.records[idx : idx + 1].tobytes()
    msg = f"first differing record: {idx} (of {n})\n"
    msg += f"expected: {describe_record(case.records.dtype, expected)}"
    ours = dump_records(case.path, tmp_dir)
    if ours is None:
        return msg + "\n(set LIDARHD_DUMP_CMD to also get the differing fields)"
    got = ours[idx * rlen : (idx + 1) * rlen]
    if len(got) < rlen:
        return msg + f"\nour dump has only {len(ours) // rlen} records"
    a, b = np.frombuffer(expected, case.records.dtype)[0], np.frombuffer(got, case.records.dtype)[0]
    fields = [
        f"{f}: expected {a[f].tolist()}, got {b[f].tolist()}"
        for f in case.records.dtype.names
        if a[f].tobytes() != b[f].tobytes()
    ]
    return msg + "\ndiffering fields: " + "; ".join(fields)


# ---------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------


def _spec_dtype(pf, n_extra):
    """LAS 1.4 R15 record layouts written out independently of laspy (byte offsets of the spec)."""
    base = [("X", "<i4", 0), ("Y", "<i4", 4), ("Z", "<i4", 8), ("intensity", "<u2", 12)]
    if pf < 6:
        base += [
            ("flags", "u1", 14),
            ("class", "u1", 15),
            ("angle", "i1", 16),
            ("user", "u1", 17),
            ("source", "<u2", 18),
        ]
        size = {0: 20, 1: 28, 2: 26, 3: 34}[pf]
        if pf in (1, 3):
            base.append(("gps", "<f8", 20))
        if pf in (2, 3):
            o = 20 if pf == 2 else 28
            base += [("red", "<u2", o), ("green", "<u2", o + 2), ("blue", "<u2", o + 4)]
    else:
        base += [
            ("returns", "u1", 14),
            ("flags", "u1", 15),
            ("class", "u1", 16),
            ("user", "u1", 17),
            ("angle", "<i2", 18),
            ("source", "<u2", 20),
            ("gps", "<f8", 22),
        ]
        size = {6: 30, 7: 36, 8: 38}[pf]
        if pf >= 7:
            base += [("red", "<u2", 30), ("green", "<u2", 32), ("blue", "<u2", 34)]
        if pf == 8:
            base.append(("nir", "<u2", 36))
    names, formats, offsets = zip(*base)
    return np.dtype(
        {"names": names, "formats": formats, "offsets": offsets, "itemsize": size + n_extra}
    )


LAYOUT_NAMES = {
    "flags": "bit_fields",
    "class": "raw_classification",
    "angle": "scan_angle_rank",
    "user": "user_data",
    "source": "point_source_id",
    "gps": "gps_time",
}
LAYOUT_NAMES_14 = dict(
    LAYOUT_NAMES,
    returns="bit_fields",
    flags="classification_flags",
    **{"class": "classification", "angle": "scan_angle"},
)


@pytest.mark.parametrize("pf", [0, 1, 2, 3, 6, 7, 8])
def test_laspy_array_is_las_record_layout(pf, tmp_path):
    """laspy's points.array bytes are exactly the LAS records: same bytes as the .las file body, and
    every standard field at the offset the LAS specification gives."""
    header = make_header(pf, "1.4", True)
    records = make_records(header, 3001, seed=pf)
    path = tmp_path / "layout.las"
    write_las(path, header, records)
    data = path.read_bytes()
    offset, rlen = struct.unpack_from("<I", data, 96)[0], struct.unpack_from("<H", data, 105)[0]
    body = data[offset : offset + len(records) * rlen]
    assert rlen == records.dtype.itemsize
    assert laspy.read(str(path)).points.array.tobytes() == body == records.tobytes()
    spec = np.frombuffer(body, _spec_dtype(pf, header.point_format.num_extra_bytes))
    names = LAYOUT_NAMES if pf < 6 else LAYOUT_NAMES_14
    for field in spec.dtype.names:
        np.testing.assert_array_equal(spec[field], records[names.get(field, field)], err_msg=field)
    if HAVE_BIN:
        info = run_info(path, 2)
        assert info["compressed"] is False
        assert info["points_sha256"] == hashlib.sha256(body).hexdigest()
        assert info["point_count"] == len(records)


@pytest.mark.parametrize("name", sorted(CASES))
def test_fixture_roundtrip_in_laspy(name, case_factory):
    """The generated LAZ decodes in laspy (lazrs sequential and parallel) to the records."""
    case = case_factory(name)
    want = case.records.tobytes()
    assert laspy_records(case.path) == want
    par = laspy.read(
        str(case.path), laz_backend=laspy.LazBackend.LazrsParallel
    ).points.array.tobytes()
    assert par == want


@needs_bin
@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_lidarhd_matches_laspy(name, threads, case_factory, tmp_path):
    case = case_factory(name)
    expected_bytes = laspy_records(case.path)
    expected = hashlib.sha256(expected_bytes).hexdigest()
    info = run_info(case.path, threads)
    pf = case.header.point_format
    assert info["point_count"] == len(case.records)
    assert info["point_format"] == pf.id
    assert info["record_length"] == pf.size
    assert info["compressed"] is True
    assert str(info.get("version", case.header.version)) == str(case.header.version)
    if info["points_sha256"] != expected:
        pytest.fail(
            f"{case.name} --threads {threads}: points_sha256 {info['points_sha256']}"
            f" != laspy {expected}\n" + first_difference(case, threads, tmp_path)
        )
