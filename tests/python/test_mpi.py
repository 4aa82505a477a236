"""`mpirun -n 3 lidarhd process` on 127.0.0.1 (issue 7): rank 0 hands out six tiles to two
workers; the outputs equal a single-process run; a rank killed mid-run takes the job down, and
the next run completes without redoing the tiles finished before.

Skipped without mpirun or without MPI support in the binary (LIDARHD_BIN)."""

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from lidarhd_cli import BIN, outputs, require_binary

require_binary()
MPIRUN = shutil.which("mpirun")
if not MPIRUN:
    pytest.skip("mpirun not found (apt-get install openmpi-bin)", allow_module_level=True)

ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_btl_tcp_if_include="lo", OMPI_MCA_oob_tcp_if_include="lo",
           OMPI_MCA_rmaps_base_oversubscribe="1")
ARGS = ["--quiet", "--set", "patches.size=40", "--set", "patches.min_points=3000",
        "--set", "patches.num_points=1024", "--set", "threads=1"]


def mpirun(*args, **kw):
    return [MPIRUN, "--oversubscribe", "-n", "3", str(BIN), *map(str, args)]


@pytest.fixture(scope="module")
def tiles(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mpi_tiles")
    for i in range(6):
        subprocess.run([str(BIN), "synth", str(folder / f"tile_{i}.laz"), "--size", "60",
                        "--origin", f"{650000 + 60 * (i % 3)},{6860000 + 60 * (i // 3)}",
                        "--threads", "1"], check=True, capture_output=True)
    return folder


def ranks(tiles):
    """Pids of running `lidarhd process <tiles>` processes (zombies excluded), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and len(cmd) > 2 and cmd[0].endswith(b"lidarhd") and cmd[1] == b"process" \
                and cmd[2] == str(tiles).encode():
            found.append(int(entry.name))
    return sorted(found)


def test_three_ranks_equal_one_process(tiles, tmp_path):
    single, multi = tmp_path / "single", tmp_path / "multi"
    subprocess.run([str(BIN), "process", str(tiles), "-o", str(single), *ARGS], check=True,
                   capture_output=True)
    proc = subprocess.run(mpirun("process", tiles, "-o", multi, "--json", *ARGS), env=ENV,
                          capture_output=True, text=True, timeout=600)
    if "no MPI support" in proc.stderr:
        pytest.skip("this lidarhd build has no MPI support")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["done"] == 6 and summary["failed"] == 0
    assert summary["workers"] == ["rank 1", "rank 2"]
    assert outputs(multi) == outputs(single)


def test_killed_rank_then_rerun_skips_finished_tiles(tiles, tmp_path):
    out = tmp_path / "killed"
    job = subprocess.Popen(mpirun("process", tiles, "-o", out, *ARGS), env=ENV,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    manifest = out / "manifest.json"
    deadline, killed = time.time() + 300, False
    while time.time() < deadline and job.poll() is None:
        done = len(json.loads(manifest.read_text())["tiles"]) if manifest.exists() else 0
        if done >= 1:
            workers = ranks(tiles)
            if len(workers) >= 2:
                os.kill(workers[-1], signal.SIGKILL)  # one rank dies
                killed = True
                break
        time.sleep(0.02)
    try:
        job.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(job.pid, signal.SIGKILL)
        job.wait()
    if not killed:
        pytest.skip("the job finished before a rank could be killed")
    # mpirun tears the other ranks down; wait until none is left before running again.
    for _ in range(500):
        if not ranks(tiles):
            break
        time.sleep(0.02)
    finished = len(json.loads(manifest.read_text())["tiles"])
    if finished == 6:
        pytest.skip("every tile finished before the rank died")
    rerun = subprocess.run(mpirun("process", tiles, "-o", out, "--json", *ARGS), env=ENV,
                           capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert summary["skipped"] == finished and summary["done"] == 6 - finished
    single = tmp_path / "single"
    subprocess.run([str(BIN), "process", str(tiles), "-o", str(single), *ARGS], check=True,
                   capture_output=True)
    assert outputs(out) == outputs(single)
