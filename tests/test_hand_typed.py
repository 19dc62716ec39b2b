"""A hand-typed ``mpiexec`` run leaves nothing in /dev/shm or /tmp, however it ends.

Not through ``bench.launch.run``, whose clean-up after a failed run (clean_after_failure)
would hide exactly what a user typing ``mpiexec -n 3 python -m message_passing.pool`` is
left with: the argv comes from ``launch.mpiexec`` (only the flags this machine needs) and
the environment from ``launch.mpi_environment`` (running as root, no UCX one-sided), but
no backing directory of the harness's own, and no clean-up.

Each run goes in a mount namespace of its own (``unshare --mount``) with empty tmpfs on
/dev/shm and /tmp: what is there when the job has ended, the job left. Other sessions on
this machine, whose files come and go in the real /dev/shm, cannot blur it. The PIDs are
the machine's (no PID namespace), so the signals come from outside, as a user's would.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import support

from bench import launch
from contract import unit

# Inside the namespace: fresh tmpfs on /dev/shm and /tmp, the job started in a session of its
# own (a terminal's Ctrl-C reaches the job's process group, not the shell), its PID printed,
# then, once the launcher has ended and every process it started too, what is left in
# both, as JSON. A launcher that outlives all of its job (Open MPI's occasional deadlock,
# bench.launch.LauncherWatch) is killed after LAUNCHER_GRACE s, and the report says so.
BOX = r"""
import json, os, signal, subprocess, sys, time
grace, linger, keep = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
# A checkout under /tmp (a CI clone), with its venv, set aside and put back into the new /tmp.
aside = keep.startswith("/tmp/")
subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/dev/shm"], check=True)
if aside:
    os.mkdir("/dev/shm/.checkout")
    subprocess.run(["mount", "--bind", keep, "/dev/shm/.checkout"], check=True)
subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/tmp"], check=True)
if aside:
    os.makedirs(keep)
    subprocess.run(["mount", "--move", "/dev/shm/.checkout", keep], check=True)
    os.rmdir("/dev/shm/.checkout")
job = subprocess.Popen(sys.argv[4:], start_new_session=True, stdout=subprocess.DEVNULL)
print(job.pid, flush=True)

def alive():
    parents = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z":
            parents[int(entry)] = int(fields[1])
    return parents

seen = set()  # every process of the job (MPICH's proxies leave the launcher's session)
def below():
    parents = alive()
    found = {pid for pid, parent in parents.items() if parent == job.pid}
    while True:
        more = {pid for pid, parent in parents.items() if parent in found} - found
        if not more:
            break
        found |= more
    seen.update(found)
    return found

alone = None
while job.poll() is None:
    if below():
        alone = None
    elif alone is None:
        alone = time.monotonic()
    elif time.monotonic() - alone > grace:
        job.kill()
        break
    time.sleep(0.05)
code = job.wait()
deadline = time.monotonic() + linger
while seen & set(alive()) and time.monotonic() < deadline:
    time.sleep(0.05)
def listed(point):
    found = []
    for top, dirs, files in os.walk(point):
        # The checkout put back, and the directories made to hold it, are not the job's.
        dirs[:] = [d for d in dirs if not (aside and (keep + "/").startswith(
            os.path.join(top, d) + "/"))]
        found += [os.path.join(top, name) for name in dirs + files]
    return found

left = sorted(listed("/dev/shm") + listed("/tmp"))
print(json.dumps({"returncode": code, "left": left, "lingering": sorted(seen & set(alive())),
                  "launcher_killed": alone is not None and code == -signal.SIGKILL}))
"""

PATTERNS = {
    # pattern: its arguments for a run long enough to be signalled in the middle of its work
    # (pool and queue: MPVSMPI_COST_US=20000 makes each item cost 20 ms of CPU, 3000 items
    # keep 3 ranks busy for 20 s; array squares numpy, not items, so only its size makes it
    # last: 50 million float64, 400 MB, take seconds to fill, scatter and gather).
    "pool": ("--items", "3000"),
    "queue": ("--items", "3000"),
    "array": ("--items", "50000000"),
}
ENDS = ("raise:1", "kill:1", "SIGINT group", "SIGTERM mpiexec", "SIGTERM rank")
RANKS = 3
VICTIM = 1
START_PATIENCE = 60.0  # s for every rank to be past MPI_Init: generous, the machine is shared
UNLINK_PATIENCE = 5.0  # s then for MPICH's names to be unlinked (they never are, unfixed)
MPICH_SEGMENT = "/dev/shm/mpich_shm_"


def namespaces_work() -> bool:
    try:
        done = subprocess.run(
            ["unshare", "--mount", "--fork", "sh", "-c", "mount -t tmpfs tmpfs /dev/shm"],
            capture_output=True, timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


pytestmark = pytest.mark.skipif(
    not namespaces_work(), reason="needs unshare --mount and tmpfs mounts (root here)"
)


def ranks(launcher: int, module: str) -> list[int]:
    """The job's ranks: the processes below the launcher running ``module``."""
    found = []
    for pid in launch.descendants(launcher):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if module.encode() in argv and not launch.is_launcher([a.decode() for a in argv]):
            found.append(pid)
    return found


def segments(pid: int) -> list[str]:
    """The lines of ``/proc/PID/maps`` for the node's segment of this MPI: MPICH's
    ``/dev/shm/mpich_shm_*``, Open MPI's ``/dev/shm/sm_segment.*``. (MPICH's UCX maps
    segments of its own earlier in MPI_Init, and unlinks them itself.)"""
    mark = MPICH_SEGMENT if launch.mpi_flavour() == "mpich" else "/dev/shm/sm_segment."
    try:
        return [line for line in Path(f"/proc/{pid}/maps").read_text().splitlines()
                if mark in line]
    except OSError:
        return []


def unlinked(pid: int) -> bool:
    """Past runtime.unlink_node_files: the segment's name is gone (Open MPI: kept, by design)."""
    return launch.mpi_flavour() != "mpich" or all(
        line.endswith("(deleted)") for line in segments(pid)
    )


def wait_and_signal(box: subprocess.Popen[str], launcher: int, module: str, end: str) -> str:
    """Wait until every rank is past its start-up, send ``end``; '' or why it was not sent."""
    start = time.monotonic()
    while True:
        if box.poll() is not None:
            return "the run ended before its ranks all started"
        found = ranks(launcher, module)
        if len(found) == RANKS and all(segments(pid) for pid in found):
            break
        if time.monotonic() - start > START_PATIENCE:
            return f"{len(found)} of {RANKS} ranks mapped the segment in {START_PATIENCE:g} s"
        time.sleep(0.05)
    # Then, under MPICH, for the names to go: a signal inside the start-up would find them
    # still there, fixed or not. Unfixed they stay, and the signal goes after the patience.
    start = time.monotonic()
    while not all(map(unlinked, found)) and time.monotonic() - start < UNLINK_PATIENCE:
        time.sleep(0.05)
    try:
        if end == "SIGINT group":  # Ctrl-C in the terminal: the job's whole process group
            os.killpg(launcher, signal.SIGINT)
        elif end == "SIGTERM mpiexec":  # kill, timeout, scancel, docker stop
            os.kill(launcher, signal.SIGTERM)
        else:
            os.kill(found[VICTIM], signal.SIGTERM)
    except ProcessLookupError:
        return "the process to signal was already gone"
    return ""


@pytest.mark.timeout(240)
@pytest.mark.parametrize("end", ENDS)
@pytest.mark.parametrize("pattern", PATTERNS)
def test_hand_typed_run_leaves_nothing(pattern, end, tmp_path):
    module = f"message_passing.{pattern}"
    injected = not end.startswith("SIG")
    args = ("--fault", end) if injected else PATTERNS[pattern]
    argv = launch.mpiexec(RANKS, *launch.python(module, *args))
    # Open MPI's defaults for its shared-memory files, as typed by hand: not the backing
    # directory conftest gives the whole session.
    env = {name: value for name, value in os.environ.items()
           if name not in launch.BACKING_DIRECTORIES}
    env.update(launch.mpi_environment())
    if not injected:
        env[unit.COST_VARIABLE] = "20000"
    stderr = tmp_path / "stderr"
    with stderr.open("w") as errors:
        box = subprocess.Popen(
            ["unshare", "--mount", "--fork", sys.executable, "-c", BOX,
             str(launch.LAUNCHER_GRACE), "30", support.CHECKOUT, *argv],
            stdout=subprocess.PIPE, stderr=errors, text=True, env=env, start_new_session=True,
        )
        launcher = None
        try:
            assert box.stdout is not None
            launcher = int(box.stdout.readline())
            unsent = "" if injected else wait_and_signal(box, launcher, module, end)
            report = json.loads(box.stdout.read() or "null")
            box.wait()
        except BaseException:  # neither the box nor the job (a session of its own) stays
            for group in (launcher, box.pid):
                if group is not None:
                    launch.kill_group(group)
            raise
    said = stderr.read_text()
    if report and report["launcher_killed"]:
        said = f"(the launcher outlived its job and was killed)\n{said}"
    assert not unsent, f"{unsent}\n{said}"
    assert report is not None, said
    assert report["left"] == [], said
    assert report["lingering"] == [], said
    assert report["returncode"] != 0, said
