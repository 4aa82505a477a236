"""What the tests of `lidarhd process` share: the binary under test (LIDARHD_BIN, default
<repo>/build/cpu/lidarhd), running it, synthetic adjacent tiles and the outputs of a run."""

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("LIDARHD_BIN", REPO / "build" / "cpu" / "lidarhd"))


def require_binary():
    """Skips the calling test module when the binary is missing."""
    if not (BIN.is_file() and os.access(BIN, os.X_OK)):
        pytest.skip(f"lidarhd binary not found at {BIN} (set LIDARHD_BIN)", allow_module_level=True)


def run(*args, check=True, timeout=600):
    proc = subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        pytest.fail(f"lidarhd {' '.join(map(str, args))} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


def adjacent_tiles(folder, seed):
    """Four adjacent 100 m synthetic tiles (2 x 2), about 200k points each, in `folder`."""
    for i, (dx, dy) in enumerate([(0, 0), (100, 0), (0, 100), (100, 100)]):
        run("synth", folder / f"tile_{i}.laz", "--size", 100, "--seed", seed,
            "--origin", f"{650000 + dx},{6860000 + dy}", "--threads", 2)
    return folder


def outputs(folder):
    """Relative path -> bytes of every patch and enriched file."""
    found = {}
    for sub in ("patches", "enriched"):
        for p in sorted((folder / sub).rglob("*")):
            if p.is_file():
                found[str(p.relative_to(folder))] = p.read_bytes()
    return found
