"""What the tests of the patterns check the same way: whole runs both ways, bad arguments,
faults, the invariants both sides hold, and the sub-communicators of the in-rank tests.

Importable as ``support`` from any test, in-rank ones included: tests/conftest.py puts this
folder on ``sys.path`` (the suite imports test files with ``--import-mode=importlib``, which
does not).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from bench import launch

# Seconds a whole run of a test may take before it counts as hung. A run that must end
# "promptly" (a fault, an abort, a watchdog) is held to this only, never to a shorter bound
# on its seconds: on a loaded 2-core machine, starting 4 interpreters and MPI alone can take
# many seconds, while a hung run never ends. Whatever bounds a test tighter must be a state
# the test waits for, observed.
HANG = 60.0
# Seconds a cooperative stop (terminate) may take before it counts as never honoured. Each
# worker stops within a unit (10 ms) of being asked, but the seconds measured also hold the
# delivery of the request and the workers' exit or gather, which a loaded machine can stretch
# far beyond a unit.
STOP_HANG = 20.0


def run_shared(
    pattern: str, workers: int, *args: str, timeout: float = HANG
) -> launch.Finished:
    """``python -m shared_memory.<pattern> --workers W args``."""
    return launch.run(
        launch.python(f"shared_memory.{pattern}", "--workers", str(workers), *args),
        timeout=timeout,
    )


def run_mpi(pattern: str, ranks: int, *args: str, timeout: float = HANG) -> launch.Finished:
    """``mpiexec -n N python -m message_passing.<pattern> args``."""
    return launch.run(
        launch.mpiexec(ranks, *launch.python(f"message_passing.{pattern}", *args)),
        timeout=timeout,
    )


# A fresh tmpfs on /dev/shm and /tmp, then the command. A checkout under /tmp (a CI clone)
# would be hidden by the new /tmp, with its venv: it is bind-mounted aside first and moved
# back into the new /tmp at its own path ($1). sh stays, as the namespace's first process:
# that one inherits every orphan, and sh reaps them (an unreaped MPICH proxy would look like
# a launcher still running to launch.remove_topology_files).
PRIVATE_SHM_AND_TMP = """
keep=$1; shift
mount -t tmpfs tmpfs /dev/shm || exit 99
case $keep in /tmp/*) mkdir /dev/shm/.checkout && mount --bind "$keep" /dev/shm/.checkout ;; esac
mount -t tmpfs tmpfs /tmp || exit 99
case $keep in /tmp/*) mkdir -p "$keep" && mount --move /dev/shm/.checkout "$keep" &&
                      rmdir /dev/shm/.checkout ;; esac
"$@"
"""
CHECKOUT = str(Path(__file__).resolve().parents[1])


def isolated(code: str, timeout: float = HANG) -> launch.Finished:
    """``python -c code`` in mount and PID namespaces of its own, where /dev/shm and /tmp are
    empty at first and /proc shows only its processes: what it finds there afterwards is
    its own, not what other sessions on this machine create meanwhile. Skips the test
    where namespaces cannot be made (needs root and ``unshare``)."""
    unshare = shutil.which("unshare")
    if os.geteuid() != 0 or unshare is None:
        pytest.skip("needs root and unshare for a private /dev/shm and /tmp")
    return launch.run(
        [unshare, "--mount", "--pid", "--fork", "--mount-proc", "sh", "-c", PRIVATE_SHM_AND_TMP,
         "sh", CHECKOUT, sys.executable, "-c", code],
        timeout=timeout,
    )


def both_ways(
    pattern: str, workers: int, *args: str, shared: tuple[str, ...] = (),
    mpi: tuple[str, ...] = (),
) -> tuple[launch.Finished, launch.Finished]:
    """The pattern with W worker processes and on W ranks, ``args`` to both sides, ``shared``
    and ``mpi`` to one side only; both must exit 0. Returns (multiprocessing, MPI)."""
    left = run_shared(pattern, workers, *args, *shared)
    right = run_mpi(pattern, workers, *args, *mpi)
    assert left.returncode == 0, left.stderr
    assert right.returncode == 0, right.stderr
    return left, right


def same_stdout_both_ways(
    pattern: str, workers: int, expected: str, *args: str, shared: tuple[str, ...] = (),
    mpi: tuple[str, ...] = (),
) -> tuple[launch.Finished, launch.Finished]:
    """:func:`both_ways`, and both print ``expected`` on stdout and nothing on stderr."""
    left, right = both_ways(pattern, workers, *args, shared=shared, mpi=mpi)
    assert left.stdout == right.stdout == expected
    assert left.stderr == right.stderr == ""
    return left, right


def assert_bad_arguments(done: launch.Finished, module: str) -> None:
    """Refused arguments: exit status 2, nothing on stdout, one line on stderr (rank 0's).

    Open MPI's mpiexec adds a box of its own saying a rank exited non-zero, and at times a
    runtime line from ending the job: those are not the program's and are left out
    (``launch.without_launcher_notice``).
    """
    assert done.returncode == 2
    assert done.stdout == ""
    stderr = launch.without_launcher_notice(done.stderr)
    assert len(stderr.splitlines()) == 1, done.stderr
    assert stderr.startswith(f"python -m {module}: error:")


def assert_worker_failed(
    done: launch.Finished, worker: int, module: str | None = None, process: str | None = None
) -> None:
    """A multiprocessing run with ``--fault raise:W``: it ended promptly with status 1 and
    printed nothing; and, given ``process``, its last line names that process as failed."""
    assert not done.timed_out, "the run hung instead of failing"
    assert done.returncode == 1
    assert done.stdout == ""
    assert f"worker {worker} fails on purpose" in done.stderr
    if process is not None:
        assert done.stderr.splitlines()[-1] == (
            f"python -m {module}: error: worker {process} exited with status 1 "
            "(as after an uncaught exception: see its traceback above)"
        )


def assert_job_aborted(done: launch.Finished, worker: int) -> None:
    """An MPI job with ``--fault raise:W``: it was aborted, non-zero, promptly, before printing."""
    assert not done.timed_out, "the job hung instead of aborting"
    assert done.returncode not in (0, None)
    assert done.stdout == ""
    assert f"worker {worker} fails on purpose" in done.stderr
    # The failing rank's own line, after its traceback: who, and what it raised.
    assert re.search(
        rf"^rank \d+ on \S+: error: InjectedFault: worker {worker} fails on purpose",
        done.stderr, re.MULTILINE,
    ), done.stderr


# --- the invariants of the catalog, held both ways --------------------------------------------


def assert_each_item_once(consumed, items):
    """queue: nothing lost, nothing twice: the consumers' items are exactly 0..items-1, disjoint."""
    assert sorted(x for taken in consumed.taken for x in taken) == list(range(items))
    assert consumed.count == items
    assert consumed.total == sum(i * i for i in range(items))
    # Each consumer squared what it says it took.
    assert consumed.sums == [sum(x * x for x in taken) for taken in consumed.taken]


def assert_sync_held(seen, workers, items, bound):
    """sync: the bound held, nobody started early, and the token went round in order."""
    assert seen.peak <= bound  # the semaphore held
    if items:
        assert seen.peak >= 1  # and the counter really counted
    assert seen.ready == [workers] * workers  # nobody started before all were ready
    assert seen.order == list(range(workers))  # the condition passed the turn in order
    assert seen.token == sum(i * i for i in range(items))


# --- in-rank tests (tests/in_rank) ---------------------------------------------------------


@contextmanager
def halves(comm):
    """The even and the odd ranks of ``comm``, each a communicator of their own, freed after."""
    half = comm.Split(comm.Get_rank() % 2, comm.Get_rank())
    try:
        yield half
    finally:
        half.Free()
