"""What the tests of the patterns check the same way: whole runs both ways, bad arguments,
faults, the invariants both sides hold, and the sub-communicators of the in-rank tests.

Importable as ``support`` from any test, in-rank ones included: tests/conftest.py puts this
folder on ``sys.path`` (the suite imports test files with ``--import-mode=importlib``, which
does not).
"""

from __future__ import annotations

import re
from contextlib import contextmanager

from bench import launch


def run_shared(pattern: str, workers: int, *args: str, timeout: float = 60) -> launch.Finished:
    """``python -m shared_memory.<pattern> --workers W args``."""
    return launch.run(
        launch.python(f"shared_memory.{pattern}", "--workers", str(workers), *args),
        timeout=timeout,
    )


def run_mpi(pattern: str, ranks: int, *args: str, timeout: float = 60) -> launch.Finished:
    """``mpiexec -n N python -m message_passing.<pattern> args``."""
    return launch.run(
        launch.mpiexec(ranks, *launch.python(f"message_passing.{pattern}", *args)),
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
