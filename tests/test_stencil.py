"""stencil both ways: the 1-D heat equation, bitwise the same for every worker count.

The reference is computed here, serially, over the whole grid with the same expression
(one process, no blocks, no halos): every run, on either side, at any worker count,
blocking or not, must print exactly what it gives.
"""

import multiprocessing as mp
import os
import re
import signal
import time
from pathlib import Path

import numpy as np
import pytest
import support

from bench import launch
from contract import outputs
from contract.faults import Fault
from contract.outputs import HOT, RATE
from shared_memory import runtime, stencil

START_METHODS = ["fork", "spawn", "forkserver"]
BLOCKING = [(), ("--nonblocking",)]
BLOCKING_IDS = ["sendrecv", "nonblocking"]

pytestmark = pytest.mark.timeout(120)


def reference(size, steps):
    """The serial run: the whole grid, one step after the other."""
    u = np.zeros(size, dtype=np.float64)
    u[list(outputs.stencil_hot(size))] = HOT
    for _ in range(steps):
        new = u.copy()
        new[1:-1] = u[1:-1] + RATE * (u[:-2] - 2.0 * u[1:-1] + u[2:])
        u = new
    return u


def expected(size=64, steps=100):
    """What both sides print for the grid: the serial run's lines."""
    grid = reference(size, steps)
    return "\n".join(outputs.stencil_lines(grid, steps, float(np.sum(grid)))) + "\n"


def segments():
    """Our segments now in /dev/shm (other programs' are none of our business)."""
    return {path.name for path in Path("/dev/shm").glob(f"{stencil.PREFIX}*")}


@pytest.fixture
def no_leftover_segment():
    """The test must leave no segment of ours behind, however its run ended."""
    before = segments()
    yield
    assert segments() - before == set()


def bitwise_equal(a, b):
    return a.dtype == b.dtype == np.float64 and a.tobytes() == b.tobytes()


# --- the numbers themselves ----------------------------------------------------------------


def test_one_step_by_hand():
    # [1, 1, 0]: the middle point loses a quarter of (1 - 2 + 0): 1 - 0.25 = 0.75.
    assert list(reference(3, 1)) == [1.0, 0.75, 0.0]
    assert expected(3, 1) == (
        "heat equation on 3 points after 1 step (r = 0.25): checksum 1.75\n"
        "u[0] = 1.0, u[1] = 0.75, u[2] = 0.0\n"
    )


def test_the_rod_settles_to_a_straight_line_between_its_held_ends():
    assert np.allclose(stencil.run(11, 3000, 3), np.linspace(1.0, 0.0, 11), rtol=0, atol=1e-12)


def test_the_initial_grid_and_the_samples():
    assert outputs.stencil_hot(64) == (0, 32)
    assert outputs.stencil_hot(2) == (0,) and outputs.stencil_hot(1) == (0,)
    assert outputs.stencil_samples(64) == [0, 16, 32, 48, 63]
    assert outputs.stencil_samples(3) == [0, 1, 2]
    assert outputs.stencil_samples(1) == [0]


def test_the_lines_are_checked_before_they_are_printed():
    grid = reference(8, 5)
    with pytest.raises(RuntimeError, match=r"the end u\[7\] = 0.5 moved from 0.0"):
        outputs.stencil_lines(np.concatenate([grid[:-1], [0.5]]), 5, 1.0)
    broken = grid.copy()
    broken[4] = np.nan  # a sampled point never written
    with pytest.raises(RuntimeError, match=r"u\[4\] = nan left the range"):
        outputs.stencil_lines(broken, 5, 1.0)
    with pytest.raises(RuntimeError, match="checksum 9.0 is outside"):
        outputs.stencil_lines(grid, 5, 9.0)


def test_trace_line(capsys):
    outputs.stencil_trace("w", range(16, 32), 100, None, 2)
    outputs.stencil_trace("v", range(5, 6), 1, 0, None)
    outputs.stencil_trace("x", range(3, 3), 100, None, None)
    assert capsys.readouterr().err == (
        "w held points 16-31 for 100 steps; neighbours: none, 2\n"
        "v held points 5 for 1 step; neighbours: 0, none\n"
        "x held no points\n"
    )


# --- multiprocessing, in-process -----------------------------------------------------------


@pytest.mark.usefixtures("no_leftover_segment")
@pytest.mark.parametrize("workers", [1, 2, 3, 4, 7])
@pytest.mark.parametrize(("size", "steps"), [(64, 100), (1, 5), (2, 5), (3, 4), (10, 0), (9, 1)])
def test_run_is_the_serial_run_bitwise(size, steps, workers):
    assert bitwise_equal(stencil.run(size, steps, workers), reference(size, steps))
    assert mp.active_children() == []


@pytest.mark.usefixtures("no_leftover_segment")
@pytest.mark.parametrize("method", START_METHODS)
def test_every_start_method(method):
    assert bitwise_equal(stencil.run(50, 30, 3, start_method=method), reference(50, 30))


@pytest.mark.usefixtures("no_leftover_segment")
def test_a_larger_grid_over_uneven_blocks():
    assert bitwise_equal(stencil.run(100_003, 20, 3), reference(100_003, 20))


@pytest.mark.usefixtures("no_leftover_segment")
@pytest.mark.parametrize(("kind", "how"), [("raise", "exited with status 1"),
                                           ("kill", "was killed by signal 9")])
@pytest.mark.parametrize(("size", "workers", "worker"), [(64, 4, 2), (3, 7, 6), (5, 1, 0)])
def test_a_fault_stops_the_others_waiting_at_the_barrier(kind, how, size, workers, worker):
    # Worker `worker` fails before its first step; the others wait for it at the barrier
    # of step 0, and are stopped, not waited for. (3 points, 7 workers: worker 6 holds none.)
    with pytest.raises(runtime.WorkerFailed, match=f"stencil-{worker} {how}"):
        stencil.run(size, 100, workers, fault=Fault(kind, worker))
    assert mp.active_children() == []


@pytest.mark.usefixtures("no_leftover_segment")
def test_an_error_in_the_block_still_unlinks_the_segment_and_is_the_one_raised():
    def look_and_fail(segment):
        grids = stencil.buffers(segment, 8)  # a view, gone with this frame
        assert grids[0, 0] == HOT
        raise ZeroDivisionError("on purpose")

    with pytest.raises(ZeroDivisionError, match="on purpose"):
        with stencil.grid_segment(8) as segment:
            stencil.initial(segment, 8)
            look_and_fail(segment)


def test_trace_names_each_process_its_block_and_neighbours(capsys):
    stencil.run(10, 3, 4, trace=True)
    lines = [re.sub(r"pid \d+", "pid P", line) for line in capsys.readouterr().err.splitlines()]
    assert re.fullmatch(rf"segment /{stencil.PREFIX}\d+-[0-9a-f]+: two grids of 10 float64",
                        lines[0])
    assert lines[1:] == [
        "stencil-0 (pid P) held points 0-2 for 3 steps; neighbours: none, 1",
        "stencil-1 (pid P) held points 3-5 for 3 steps; neighbours: 0, 2",
        "stencil-2 (pid P) held points 6-7 for 3 steps; neighbours: 1, 3",
        "stencil-3 (pid P) held points 8-9 for 3 steps; neighbours: 2, none",
    ]


# --- whole runs, both ways -------------------------------------------------------------------


@pytest.mark.timeout(300)
@pytest.mark.parametrize("workers", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("grid", [(), ("--size", "5", "--steps", "7")], ids=["defaults", "tiny"])
def test_identical_for_every_worker_count_and_the_serial_run(workers, grid):
    # Bitwise: every float is printed with repr, and the serial reference is computed here.
    size, steps = (64, 100) if not grid else (5, 7)
    for variant in BLOCKING:
        support.same_stdout_both_ways("stencil", workers, expected(size, steps), *grid,
                                      mpi=variant)


def test_mpi_single_process_without_mpiexec():
    done = launch.run(launch.python("message_passing.stencil", "--size", "20", "--steps", "9"))
    assert (done.returncode, done.stdout) == (0, expected(20, 9)), done.stderr


def test_items_is_the_size():
    done = support.run_shared("stencil", 2, "--items", "20", "--steps", "9")
    assert (done.returncode, done.stdout) == (0, expected(20, 9)), done.stderr


@pytest.mark.parametrize(
    ("command", "who", "head"),
    [
        (launch.python("shared_memory.stencil", "--workers", "3", "--size", "7", "--trace"),
         r"stencil-\d \(pid \d+\)", rf"segment /{stencil.PREFIX}\S+: two grids of 7 float64"),
        (launch.mpiexec(3, *launch.python("message_passing.stencil", "--size", "7", "--trace")),
         r"rank \d on \S+", r"cart: 3 of 3 ranks on a line, not periodic; halos by Sendrecv"),
    ],
    ids=["shared", "message-passing"],
)
def test_trace_goes_to_stderr_one_line_per_worker(command, who, head):
    done = launch.run(command)
    assert (done.returncode, done.stdout) == (0, expected(7)), done.stderr
    blocks = [("0-2", "none, 1"), ("3-4", "0, 2"), ("5-6", "1, none")]
    assert re.fullmatch(
        head + "\n" + "".join(f"{who} held points {b} for 100 steps; neighbours: {n}\n"
                              for b, n in blocks),
        done.stderr,
    ), done.stderr


def test_more_ranks_than_points_leaves_the_extra_ranks_out_of_the_line():
    done = launch.run(launch.mpiexec(4, *launch.python(
        "message_passing.stencil", "--size", "2", "--nonblocking", "--trace")))
    assert (done.returncode, done.stdout) == (0, expected(2)), done.stderr
    assert done.stderr.startswith("cart: 2 of 4 ranks on a line, not periodic; halos by "
                                  "Isend/Irecv around the interior\n")
    assert re.search(r"^rank 3 on \S+ held no points$", done.stderr, re.MULTILINE)


# --- bad arguments and faults --------------------------------------------------------------


@pytest.mark.parametrize(
    "args", [["--size", "0"], ["--size", "-1"], ["--steps", "-1"], ["--size", "abc"],
             ["--items", str(10**15)], ["--workers", "0"], ["--fault", "raise:4"],
             ["--nonblocking"], ["--bogus"]],
)
def test_shared_bad_arguments_one_line_exit_2(args):
    done = launch.run(launch.python("shared_memory.stencil", *args))
    support.assert_bad_arguments(done, "shared_memory.stencil")


@pytest.mark.parametrize(
    "args", [["--size", "0"], ["--steps", "x"], ["--size", str(10**15)], ["--workers", "2"],
             ["--fault", "raise:3"], ["--fault", "x"]],
)
def test_mpi_bad_arguments_one_line_from_rank_0_exit_2(args):
    done = support.run_mpi("stencil", 3, *args)
    support.assert_bad_arguments(done, "message_passing.stencil")


@pytest.mark.usefixtures("no_leftover_segment")
@pytest.mark.parametrize(("workers", "worker", "size"), [(1, 0, 64), (4, 3, 64), (7, 6, 3)])
def test_shared_fault_ends_nonzero_naming_the_worker(workers, worker, size):
    done = support.run_shared(
        "stencil", workers, "--size", str(size), "--fault", f"raise:{worker}", timeout=30
    )
    support.assert_worker_failed(
        done, worker, "shared_memory.stencil", process=f"stencil-{worker}"
    )
    assert "resource_tracker" not in done.stderr


@pytest.mark.parametrize("variant", BLOCKING, ids=BLOCKING_IDS)
@pytest.mark.parametrize(("ranks", "worker", "size"), [(1, 0, 64), (3, 1, 64), (4, 3, 2)])
def test_mpi_fault_aborts_the_job_promptly(ranks, worker, size, variant):
    done = support.run_mpi(
        "stencil", ranks, "--size", str(size), "--fault", f"raise:{worker}", *variant,
        timeout=30,
    )
    support.assert_job_aborted(done, worker)


def kill_a_worker_when_all_are_up(module, workers):
    """``launch.run``'s ``during``: once every worker of the run is there, SIGKILL one."""

    def strike(process):
        while process.poll() is None:
            found = [
                pid for pid in launch.descendants(process.pid)
                if module.encode() in _cmdline(pid)
            ]
            if len(found) >= workers:
                os.kill(sorted(found)[1], signal.SIGKILL)
                return
            time.sleep(0.05)  # between two looks at /proc

    return strike


def _cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


@pytest.mark.timeout(90)
@pytest.mark.usefixtures("no_leftover_segment")
def test_shared_worker_killed_mid_run_is_reported_not_waited_for():
    # 10**9 steps: the run only ends because a worker died and the others were stopped.
    argv = launch.python("shared_memory.stencil", "--workers", "3", "--steps", str(10**9))
    done = launch.run(argv, timeout=60,
                      during=kill_a_worker_when_all_are_up("shared_memory.stencil", 3))
    assert not done.timed_out, "the run hung at the barrier"
    assert done.returncode == 1 and done.stdout == ""
    assert re.fullmatch(r"python -m shared_memory.stencil: error: worker stencil-\d was killed "
                        r"by signal 9 \(SIGKILL\)", done.stderr.splitlines()[-1]), done.stderr


@pytest.mark.timeout(90)
@pytest.mark.parametrize("variant", BLOCKING, ids=BLOCKING_IDS)
def test_mpi_rank_killed_mid_run_ends_the_job(variant):
    argv = launch.mpiexec(3, *launch.python("message_passing.stencil", "--steps", str(10**9),
                                            *variant))
    done = launch.run(argv, timeout=60,
                      during=kill_a_worker_when_all_are_up("message_passing.stencil", 3))
    assert not done.timed_out, "the job hung in the halo exchange"
    assert done.returncode not in (0, None) and done.stdout.count("heat equation") == 0
