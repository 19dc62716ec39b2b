"""The array pattern: shared_memory.array in-process, and both sides as whole programs."""

import multiprocessing as mp
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import support

from contract import faults, outputs
from shared_memory import array, runtime

START_METHODS = ["fork", "spawn", "forkserver"]
WINDOW = [[], ["--window"]]
WINDOW_IDS = ["scatterv", "window"]


def squares(items):
    return np.square(np.arange(items, dtype=np.float64))


def line(items):
    return f"squared {items} float64 values, sum {float(np.sum(squares(items)))!r}\n"


def segments():
    """Our segments now in /dev/shm (other programs' are none of our business)."""
    return {path.name for path in Path("/dev/shm").glob(f"{array.PREFIX}*")}


@pytest.fixture
def no_leftover_segment():
    """The test must leave no segment of ours behind, however its run ended."""
    before = segments()
    yield
    assert segments() - before == set()


def assert_clean(done):
    """A whole run's stderr: no warning, no traceback from Python's resource tracker."""
    assert "resource_tracker" not in done.stderr
    assert "leaked" not in done.stderr


# --- in-process run() --------------------------------------------------------------------


@pytest.mark.usefixtures("no_leftover_segment")
@pytest.mark.parametrize(
    ("items", "workers"), [(0, 1), (0, 4), (1, 1), (1, 3), (10, 4), (3, 7), (1001, 3)]
)
def test_run_squares_the_array(items, workers):
    result = array.run(items, workers)
    assert result.dtype == np.float64
    assert np.array_equal(result, squares(items))


@pytest.mark.usefixtures("no_leftover_segment")
@pytest.mark.parametrize("method", START_METHODS)
def test_every_start_method(method):
    assert np.array_equal(array.run(11, 3, start_method=method), squares(11))


@pytest.mark.usefixtures("no_leftover_segment")
def test_a_million_items_both_ways_alike():
    result = array.run(10**6, 2)
    assert np.array_equal(result, squares(10**6))
    assert array.summary(result) == line(10**6).rstrip("\n")


@pytest.mark.usefixtures("no_leftover_segment")
@pytest.mark.parametrize("method", START_METHODS)
def test_a_failed_worker_is_reported_and_the_segment_unlinked(method):
    with pytest.raises(runtime.WorkerFailed, match="square-1 exited with status 1"):
        array.run(10, 3, fault=faults.Fault("raise", 1), start_method=method)


@pytest.mark.usefixtures("no_leftover_segment")
def test_an_error_in_the_parent_still_unlinks_the_segment():
    def fails(_):
        raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        array.squared(10, 2, fails)


def test_the_segment_is_named_after_its_creator(monkeypatch):
    seen = []
    fill = array.fill

    def fill_and_look(values):
        seen.extend(segments())
        fill(values)

    monkeypatch.setattr(array, "fill", fill_and_look)
    array.run(3, 1)
    assert any(name.startswith(f"{array.PREFIX}{os.getpid()}-") for name in seen), seen
    assert not any(name.startswith(f"{array.PREFIX}{os.getpid()}-") for name in segments())


def test_fill_writes_the_input_across_blocks(monkeypatch):
    monkeypatch.setattr(array, "BLOCK", 4)
    values = np.full(10, -1.0)
    array.fill(values)
    assert np.array_equal(values, np.arange(10, dtype=np.float64))


# --- the team: set up once, square many times ---------------------------------------------


@pytest.mark.usefixtures("no_leftover_segment")
@pytest.mark.parametrize("method", START_METHODS)
def test_a_team_squares_again_and_again_with_the_same_workers(method):
    with array.Team(1001, 3, start_method=method) as team:
        pids = [process.pid for process in team.processes]
        assert np.array_equal(team.array, np.arange(1001, dtype=np.float64))  # the input
        for _ in range(3):
            team.square()
            assert np.array_equal(team.array, squares(1001))
            team.refill()
            assert np.array_equal(team.array, np.arange(1001, dtype=np.float64))
        assert [process.pid for process in team.processes] == pids
        assert all(process.is_alive() for process in team.processes)
    assert team.array is None
    assert not mp.active_children()
    assert [process.exitcode for process in team.processes] == [0, 0, 0]  # STOP: ended well


@pytest.mark.usefixtures("no_leftover_segment")
@pytest.mark.parametrize(("items", "workers"), [(0, 2), (1, 3), (10**6, 2)])
def test_a_team_of_any_size(items, workers):
    with array.Team(items, workers) as team:
        team.square()
        assert np.array_equal(team.array, squares(items))


@pytest.mark.usefixtures("no_leftover_segment")
def test_a_fault_fails_the_team_set_up_and_leaves_nothing():
    with pytest.raises(runtime.WorkerFailed, match="square-2 exited with status 1"):
        with array.Team(10, 3, fault=faults.Fault("raise", 2)):
            pytest.fail("the team must not stand")
    assert not mp.active_children()


@pytest.mark.usefixtures("no_leftover_segment")
def test_a_worker_killed_between_squares_is_reported_not_waited_for():
    with pytest.raises(runtime.WorkerFailed, match="square-1 was killed by signal 9"):
        with array.Team(100, 3) as team:
            team.square()
            os.kill(team.processes[1].pid, signal.SIGKILL)
            team.processes[1].join()
            team.square()
    assert not mp.active_children()


@pytest.mark.usefixtures("no_leftover_segment")
def test_an_error_in_the_block_stops_the_workers():
    with pytest.raises(ZeroDivisionError):
        with array.Team(10, 2) as team:
            team.square()
            1 / 0  # noqa: B018
    assert not mp.active_children()


@pytest.mark.timeout(30)
def test_workers_do_not_outlive_a_parent_killed_outright():
    # SIGKILL: no STOP, no finally. Each worker watches its parent's sentinel as well as
    # its pipe, and ends; only the segment is left, for the resource tracker to remove.
    code = (
        "import os, signal\n"
        "from shared_memory import array\n"
        "with array.Team(100, 3) as team:\n"
        "    team.square()\n"
        "    print(*(p.pid for p in team.processes), flush=True)\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=20)
    pids = [int(pid) for pid in done.stdout.split()]
    assert len(pids) == 3, done.stderr
    for pid in pids:
        for _ in range(200):
            if _gone(pid):
                break
            time.sleep(0.05)
        assert _gone(pid), f"worker {pid} outlived its parent"


def _gone(pid):
    """Ended: no such process, or a zombie waiting for init to reap it."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


# --- what both sides print ---------------------------------------------------------------


def test_array_line_states_a_checked_checksum():
    assert outputs.array_line(10, 285.0) == "squared 10 float64 values, sum 285.0"
    assert outputs.array_line(0, 0.0) == "squared 0 float64 values, sum 0.0"
    assert outputs.array_line(10**6, float(np.sum(squares(10**6)))) == line(10**6).rstrip()
    for wrong in (45.0, 284.0, float("nan")):  # 45: nobody squared anything
        with pytest.raises(RuntimeError, match="is not the sum of the squares"):
            outputs.array_line(10, wrong)


@pytest.mark.parametrize(
    ("part", "ends"), [(range(0), "nothing"), (range(3, 4), "3"), (range(0, 10**8), "0-99999999")]
)
def test_slice_trace_names_the_ends(capsys, part, ends):
    outputs.slice_trace("rank 1 on vm", part)
    assert capsys.readouterr().err == f"rank 1 on vm squared {ends}\n"


# --- whole programs, both ways -----------------------------------------------------------


@pytest.mark.usefixtures("no_leftover_segment")
@pytest.mark.parametrize("workers", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("variant", WINDOW, ids=WINDOW_IDS)
def test_same_stdout_both_ways(workers, variant):
    left, _ = support.same_stdout_both_ways(
        "array", workers, "squared 10 float64 values, sum 285.0\n", mpi=tuple(variant)
    )
    assert_clean(left)


@pytest.mark.usefixtures("no_leftover_segment")
@pytest.mark.parametrize(("workers", "items"), [(3, 0), (2, 1), (7, 3), (3, 1001)])
@pytest.mark.parametrize("variant", WINDOW, ids=WINDOW_IDS)
def test_no_items_one_item_and_more_workers_than_items(workers, items, variant):
    left, right = support.both_ways("array", workers, "--items", str(items), mpi=tuple(variant))
    assert left.stdout == right.stdout == line(items)


@pytest.mark.usefixtures("no_leftover_segment")
@pytest.mark.parametrize("variant", WINDOW, ids=WINDOW_IDS)
def test_a_million_items_same_checksum_both_ways(variant):
    left, right = support.both_ways("array", 3, "--items", str(10**6), mpi=tuple(variant))
    assert left.stdout == right.stdout == line(10**6)


@pytest.mark.usefixtures("no_leftover_segment")
@pytest.mark.parametrize("method", START_METHODS)
def test_whole_run_under_every_start_method_leaves_nothing_and_warns_nothing(method):
    done = support.run_shared("array", 3, "--start-method", method)
    assert done.returncode == 0, done.stderr
    assert done.stdout == line(10)
    assert done.stderr == ""  # the resource tracker, if it complained, would say it here


@pytest.mark.parametrize(
    ("side", "who"),
    [
        (lambda *a: support.run_shared("array", 3, *a), r"square-{w} \(pid \d+\)"),
        (lambda *a: support.run_mpi("array", 3, *a), "rank {w} on .+"),
        (lambda *a: support.run_mpi("array", 3, "--window", *a), "rank {w} on .+"),
    ],
    ids=["shared_memory", "message_passing", "message_passing-window"],
)
def test_trace_names_who_squared_which_slice(side, who):
    done = side("--trace", "--items", "7")
    assert done.returncode == 0, done.stderr
    assert done.stdout == line(7)
    traced = [text for text in done.stderr.splitlines() if " squared " in text]
    assert len(traced) == 3, done.stderr
    for w, (text, ends) in enumerate(zip(traced, ["0-2", "3-4", "5-6"], strict=True)):
        assert re.fullmatch(f"{who.format(w=w)} squared {ends}", text), text


def test_trace_shows_the_segment_and_the_window():
    shared = support.run_shared("array", 2, "--trace")
    assert shared.stderr.startswith(f"segment /{array.PREFIX}"), shared.stderr
    assert shared.stderr.splitlines()[0].endswith(": 80 bytes")
    mpi = support.run_mpi("array", 2, "--trace", "--window")
    assert mpi.stderr.startswith("window: 80 bytes on rank 0 on "), mpi.stderr
    assert mpi.stderr.splitlines()[0].endswith("mapped by 2 ranks")


@pytest.mark.parametrize(
    "args", [["--items", "-1"], ["--items", "x"], ["--fault", "raise:3"], ["--bogus"]]
)
@pytest.mark.parametrize("side", ["shared_memory", "message_passing"])
def test_bad_arguments_one_line_exit_2(side, args):
    run = support.run_shared if side == "shared_memory" else support.run_mpi
    support.assert_bad_arguments(run("array", 3, *args), f"{side}.array")


@pytest.mark.parametrize(
    "args", [["--window"], ["--start-method", "thread"], ["--workers", "0"]]
)
def test_options_of_the_other_side_or_out_of_range_are_refused(args):
    support.assert_bad_arguments(support.run_shared("array", 2, *args), "shared_memory.array")


def test_start_method_is_not_an_option_of_the_mpi_side():
    done = support.run_mpi("array", 2, "--start-method", "spawn")
    support.assert_bad_arguments(done, "message_passing.array")


@pytest.mark.usefixtures("no_leftover_segment")
@pytest.mark.parametrize("method", START_METHODS)
@pytest.mark.parametrize("worker", [0, 3])
def test_fault_shared_memory_ends_nonzero_and_leaves_nothing(worker, method):
    done = support.run_shared(
        "array", 4, "--fault", f"raise:{worker}", "--start-method", method, timeout=30
    )
    support.assert_worker_failed(done, worker, "shared_memory.array", process=f"square-{worker}")
    assert_clean(done)
    # The worker's own traceback and nothing after it (a BufferError from closing a mapping
    # that views still held would follow "During handling of the above exception").
    assert done.stderr.count("Traceback (most recent call last)") == 1, done.stderr


@pytest.mark.parametrize("worker", [0, 3])
@pytest.mark.parametrize("variant", WINDOW, ids=WINDOW_IDS)
def test_fault_mpi_aborts_the_job(worker, variant):
    done = support.run_mpi("array", 4, "--fault", f"raise:{worker}", *variant, timeout=30)
    support.assert_job_aborted(done, worker)
