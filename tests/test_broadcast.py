"""broadcast both ways: a table in every worker's arguments or in one shared segment, and
``bcast`` / ``Bcast`` to every rank."""

import multiprocessing as mp
import os
import re
from pathlib import Path

import numpy as np
import pytest
import support

from bench import launch
from contract import cli, outputs
from contract.faults import Fault
from shared_memory import broadcast, runtime

START_METHODS = ["fork", "spawn", "forkserver"]
BUFFER = [[], ["--buffer"]]
BUFFER_IDS = ["object", "buffer"]

pytestmark = pytest.mark.timeout(150)  # two whole runs at most, each under its own 60 s


def checksum(items):
    return sum(x * x for x in range(items)) % 2**64


def expected(items, workers):
    """What both sides print: every worker got the whole table."""
    noun = "value" if items == 1 else "values"
    return "".join(
        f"worker {w} of {workers} received {items} {noun}, checksum {checksum(items)}\n"
        for w in range(workers)
    )


def segments():
    """Our segments now in /dev/shm (other programs' are none of our business)."""
    return {path.name for path in Path("/dev/shm").glob(f"{broadcast.PREFIX}*")}


@pytest.fixture
def no_leftover_segment():
    """The test must leave no segment of ours behind, however its run ended."""
    before = segments()
    yield
    assert segments() - before == set()
    assert mp.active_children() == []


# --- multiprocessing, in-process -------------------------------------------------------------


@pytest.mark.usefixtures("no_leftover_segment")
@pytest.mark.parametrize("buffer", [False, True], ids=BUFFER_IDS)
@pytest.mark.parametrize(("items", "workers"), [(0, 1), (0, 3), (1, 1), (1, 4), (10, 4), (3, 7),
                                                (1001, 2)])
def test_every_worker_receives_the_whole_table(items, workers, buffer):
    assert broadcast.run(items, workers, buffer=buffer) == [(items, checksum(items))] * workers


@pytest.mark.usefixtures("no_leftover_segment")
@pytest.mark.parametrize("buffer", [False, True], ids=BUFFER_IDS)
@pytest.mark.parametrize("method", START_METHODS)
def test_every_start_method(method, buffer):
    got = broadcast.run(11, 3, buffer=buffer, start_method=method)
    assert got == [(11, checksum(11))] * 3


@pytest.mark.usefixtures("no_leftover_segment")
@pytest.mark.parametrize("buffer", [False, True], ids=BUFFER_IDS)
def test_a_long_table_checksum_wraps_at_2_to_the_64_the_same_both_ways(buffer):
    # The sum of the squares of 0..4*10**6-1 is about 2.1e19: past 2**64, so it wraps.
    items = 4 * 10**6
    assert sum(x * x for x in range(items)) > 2**64
    assert broadcast.run(items, 2, buffer=buffer) == [(items, checksum(items))] * 2


@pytest.mark.parametrize(
    ("method", "how"),
    [("fork", "inherited from the parent (fork)"),
     ("spawn", "pickled in its arguments (spawn)"),
     ("forkserver", "pickled in its arguments (forkserver)")],
)
def test_trace_says_how_the_argument_travelled(capsys, method, how):
    broadcast.run(4, 2, trace=True, start_method=method)
    lines = capsys.readouterr().err.splitlines()
    assert [re.sub(r"pid \d+", "pid P", line) for line in lines] == [
        f"receiver-{w} (pid P) received 4 values {how}" for w in range(2)
    ]
    pids = {int(re.search(r"pid (\d+)", line)[1]) for line in lines}
    assert len(pids) == 2 and os.getpid() not in pids


@pytest.mark.usefixtures("no_leftover_segment")
def test_trace_under_buffer_names_the_segment(capsys):
    broadcast.run(1, 2, buffer=True, trace=True)
    lines = capsys.readouterr().err.splitlines()
    assert re.fullmatch(rf"segment /{broadcast.PREFIX}{os.getpid()}-[0-9a-f]+: 8 bytes", lines[0])
    assert [re.sub(r"pid \d+", "pid P", line) for line in lines[1:]] == [
        f"receiver-{w} (pid P) received 1 value in shared memory, nothing copied"
        for w in range(2)
    ]


@pytest.mark.usefixtures("no_leftover_segment")
@pytest.mark.parametrize("buffer", [False, True], ids=BUFFER_IDS)
@pytest.mark.parametrize("method", START_METHODS)
def test_a_failed_worker_is_reported_and_the_segment_unlinked(method, buffer):
    with pytest.raises(runtime.WorkerFailed, match="receiver-1 exited with status 1"):
        broadcast.run(10, 3, buffer=buffer, fault=Fault("raise", 1), start_method=method)


@pytest.mark.usefixtures("no_leftover_segment")
@pytest.mark.parametrize("buffer", [False, True], ids=BUFFER_IDS)
def test_a_killed_worker_is_reported_not_waited_for(buffer):
    with pytest.raises(runtime.WorkerFailed, match="receiver-0 was killed by signal 9"):
        broadcast.run(10, 2, buffer=buffer, fault=Fault("kill", 0))


@pytest.mark.usefixtures("no_leftover_segment")
def test_an_error_in_the_parent_still_unlinks_the_segment(monkeypatch):
    def fails(segment, items):
        view = np.frombuffer(segment.buf, dtype=np.int64)  # noqa: F841
        raise ZeroDivisionError  # with a view in its frame: the segment must close anyway

    monkeypatch.setattr(broadcast, "write_table", fails)
    with pytest.raises(ZeroDivisionError):
        broadcast.run(10, 2, buffer=True)


def test_the_segment_alone_is_named_after_its_creator_and_gone_after():
    with runtime.segment(broadcast.PREFIX, 0) as segment:
        assert segment.size >= 1  # 0 bytes is refused: made 1
        assert segment.name.startswith(f"{broadcast.PREFIX}{os.getpid()}-")
        assert segment.name in segments()
    assert segment.name not in segments()


def test_write_table_writes_the_squares_across_blocks(monkeypatch):
    monkeypatch.setattr(broadcast, "BLOCK", 4)
    with runtime.segment(broadcast.PREFIX, 10 * broadcast.INT64) as segment:
        broadcast.write_table(segment, 10)
        assert broadcast.count_and_checksum(segment, 10) == (10, 285)
        view = np.frombuffer(segment.buf, dtype=np.int64, count=10)
        assert view.tolist() == [x * x for x in range(10)]
        del view


# --- what both sides print ---------------------------------------------------------------


def test_broadcast_lines_state_checked_reports():
    assert outputs.broadcast_lines([(10, 285), (10, 285)], 10) == [
        "worker 0 of 2 received 10 values, checksum 285",
        "worker 1 of 2 received 10 values, checksum 285",
    ]
    assert outputs.broadcast_lines([(1, 0)], 1) == ["worker 0 of 1 received 1 value, checksum 0"]
    assert outputs.broadcast_lines([(0, 0)] * 3, 0)[2] == (
        "worker 2 of 3 received 0 values, checksum 0"
    )
    for wrong in ([(10, 285), (9, 204)], [(10, 285), (10, 284)], [(11, 385)]):
        with pytest.raises(RuntimeError, match="the table sent has 10 values, checksum 285"):
            outputs.broadcast_lines(wrong, 10)


def test_the_checksum_is_the_sum_modulo_2_to_the_64():
    assert outputs.checksum(outputs.broadcast_table(10)) == 285
    assert outputs.checksum([2**63, 2**63, 5]) == 5
    table = np.array([2**62] * 5, dtype=np.int64)
    assert int(table.sum(dtype=np.uint64)) == outputs.checksum([2**62] * 5)


def test_check_copies_counts_every_copy(capsys):
    parser = cli.make_parser("x.y", None)
    memory = cli.memory_bytes()
    items = memory // (cli.PYTHON_ITEM_BYTES * 3) + 1  # room for one copy, not for three
    cli.check_copies(parser, items, 1)
    with pytest.raises(SystemExit) as exit_:
        cli.check_copies(parser, items, 3)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("python -m x.y: error: argument --items: ")
    assert err.endswith("of memory here (3 copies of the table)\n")


def test_buffer_refuses_squares_beyond_int64(monkeypatch, capsys):
    monkeypatch.setattr(cli, "memory_bytes", lambda: 2**80)  # as if memory were no limit
    with pytest.raises(SystemExit) as exit_:
        broadcast.main(["--buffer", "--items", str(outputs.BUFFER_ITEMS + 1)])
    assert exit_.value.code == 2
    assert "do not fit in int64" in capsys.readouterr().err
    assert (outputs.BUFFER_ITEMS - 1) ** 2 < 2**63 <= outputs.BUFFER_ITEMS**2


# --- whole runs, both ways ---------------------------------------------------------------


@pytest.mark.usefixtures("no_leftover_segment")
@pytest.mark.parametrize("workers", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("variant", BUFFER, ids=BUFFER_IDS)
def test_same_stdout_both_ways(workers, variant):
    support.same_stdout_both_ways("broadcast", workers, expected(10, workers), *variant)


@pytest.mark.usefixtures("no_leftover_segment")
@pytest.mark.parametrize(("workers", "items"), [(3, 0), (2, 1), (7, 3), (3, 100_000)])
@pytest.mark.parametrize("variant", BUFFER, ids=BUFFER_IDS)
def test_no_items_one_item_and_more_workers_than_items(workers, items, variant):
    support.same_stdout_both_ways(
        "broadcast", workers, expected(items, workers), "--items", str(items), *variant
    )


@pytest.mark.usefixtures("no_leftover_segment")
@pytest.mark.parametrize("method", START_METHODS)
def test_whole_run_under_every_start_method_leaves_nothing_and_warns_nothing(method):
    for variant in BUFFER:
        done = support.run_shared("broadcast", 3, "--start-method", method, *variant)
        assert (done.returncode, done.stdout, done.stderr) == (0, expected(10, 3), "")


@pytest.mark.parametrize("variant", BUFFER, ids=BUFFER_IDS)
def test_mpi_single_process_without_mpiexec(variant):
    done = launch.run(launch.python("message_passing.broadcast", "--items", "4", *variant))
    assert (done.returncode, done.stdout) == (0, expected(4, 1)), done.stderr


@pytest.mark.parametrize(
    ("side", "who", "how"),
    [
        (lambda *a: support.run_shared("broadcast", 3, "--start-method", "spawn", *a),
         r"receiver-\d \(pid \d+\)", r"pickled in its arguments \(spawn\)"),
        (lambda *a: support.run_shared("broadcast", 3, "--buffer", *a),
         r"receiver-\d \(pid \d+\)", "in shared memory, nothing copied"),
        (lambda *a: support.run_mpi("broadcast", 3, *a),
         r"rank \d on \S+", r"by bcast \(pickled\)"),
        (lambda *a: support.run_mpi("broadcast", 3, "--buffer", *a), r"rank \d on \S+",
         r"by Bcast \(an int64 buffer, not pickled\)"),
    ],
    ids=["shared_memory", "shared_memory-buffer", "message_passing", "message_passing-buffer"],
)
def test_trace_goes_to_stderr_one_line_per_worker_in_order(side, who, how):
    done = side("--trace", "--items", "7")
    assert (done.returncode, done.stdout) == (0, expected(7, 3)), done.stderr
    traced = [line for line in done.stderr.splitlines() if " received " in line]
    assert len(traced) == 3, done.stderr
    for w, line in enumerate(traced):
        assert re.fullmatch(f"{who} received 7 values {how}", line), line
        assert re.match(rf"(receiver-|rank ){w}\b", line), line


# --- bad arguments and faults ------------------------------------------------------------


@pytest.mark.parametrize(
    "args", [["--items", "-1"], ["--items", "abc"], ["--workers", "0"], ["--bogus"],
             ["--fault", "raise:4"], ["--start-method", "thread"], ["--buffer", "1"]],
)
def test_shared_bad_arguments_one_line_exit_2(args):
    done = launch.run(launch.python("shared_memory.broadcast", *args))
    support.assert_bad_arguments(done, "shared_memory.broadcast")


@pytest.mark.parametrize(
    "args", [["--items", "-1"], ["--workers", "2"], ["--fault", "raise:3"], ["--fault", "x"],
             ["--start-method", "spawn"]],
)
def test_mpi_bad_arguments_one_line_from_rank_0_exit_2(args):
    done = support.run_mpi("broadcast", 3, *args)
    support.assert_bad_arguments(done, "message_passing.broadcast")


def test_a_table_too_big_for_a_copy_a_worker_is_refused_both_ways():
    # Room for one copy of the table (what add_items checks), not for one a worker: refused.
    # A list: the parent's (rank 0's original) and one a worker (rank), the same both ways.
    # Bcast: one a rank. (Not shared --buffer: its one copy would fit, and fill memory.)
    memory = cli.memory_bytes()
    python_items = str(memory // (cli.PYTHON_ITEM_BYTES * 4) + 1)
    buffer_items = str(memory // (broadcast.INT64 * 3) + 1)
    runs = [
        (support.run_shared("broadcast", 3, "--items", python_items), "shared_memory", 4),
        (support.run_mpi("broadcast", 3, "--items", python_items), "message_passing", 4),
        (support.run_mpi("broadcast", 3, "--items", buffer_items, "--buffer"),
         "message_passing", 3),
    ]
    for done, side, copies in runs:
        support.assert_bad_arguments(done, f"{side}.broadcast")
        assert f"of memory here ({copies} copies of the table)" in done.stderr


@pytest.mark.usefixtures("no_leftover_segment")
@pytest.mark.parametrize("variant", BUFFER, ids=BUFFER_IDS)
@pytest.mark.parametrize(("workers", "worker", "items"), [(1, 0, 10), (4, 3, 10), (7, 6, 2)])
def test_shared_fault_ends_nonzero_naming_the_worker(workers, worker, items, variant):
    done = support.run_shared(
        "broadcast", workers, "--items", str(items), "--fault", f"raise:{worker}", *variant,
        timeout=30,
    )
    support.assert_worker_failed(
        done, worker, "shared_memory.broadcast", process=f"receiver-{worker}"
    )
    assert "resource_tracker" not in done.stderr


@pytest.mark.parametrize("variant", BUFFER, ids=BUFFER_IDS)
@pytest.mark.parametrize(("ranks", "worker", "items"), [(1, 0, 10), (3, 1, 10), (4, 3, 2)])
def test_mpi_fault_aborts_the_job_promptly(ranks, worker, items, variant):
    done = support.run_mpi(
        "broadcast", ranks, "--items", str(items), "--fault", f"raise:{worker}", *variant,
        timeout=30,
    )
    support.assert_job_aborted(done, worker)
