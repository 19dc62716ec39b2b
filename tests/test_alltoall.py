"""alltoall both ways: the shuffle of map-reduce, the square of x to worker x % W."""

import multiprocessing as mp
import re
import sys
from pathlib import Path

import pytest
import support

from bench import launch
from contract.faults import Fault
from contract.outputs import Bucket, alltoall_lines, bucket_of
from contract.unit import share
from shared_memory import alltoall, runtime

BUFFER = [False, True]
BUFFER_IDS = ["queues", "matrix"]
FLAGS = [(), ("--buffer",)]
FLAG_IDS = ["objects", "buffers"]


def buckets(items, workers):
    """What each worker must hold, counted the long way: every square, to worker x % W."""
    held = [[] for _ in range(workers)]
    for x in range(items):
        held[x % workers].append(x * x)
    return [Bucket(w, len(squares), sum(squares)) for w, squares in enumerate(held)]


def expected(items, workers):
    """What both sides print."""
    out = []
    for b in buckets(items, workers):
        noun = "square" if b.count == 1 else "squares"
        out.append(f"worker {b.worker} of {workers} holds {b.count} {noun}, sum {b.total}\n")
    return "".join(out)


def segments():
    """Our segments now in /dev/shm (other programs' are none of our business)."""
    return {path.name for path in Path("/dev/shm").glob(f"{alltoall.PREFIX}*")}


@pytest.fixture
def no_leftover_segment():
    """The test must leave no segment of ours behind, however its run ended."""
    before = segments()
    yield
    assert segments() - before == set()


# --- the contract's section ------------------------------------------------------------------


def test_bucket_of_is_the_long_count_in_closed_form():
    for items in range(30):
        for workers in range(1, 9):
            assert [bucket_of(items, workers, w) for w in range(workers)] == buckets(
                items, workers
            )


def test_the_lines_and_their_nouns():
    assert alltoall_lines(buckets(10, 4), 10) == [
        "worker 0 of 4 holds 3 squares, sum 80", "worker 1 of 4 holds 3 squares, sum 107",
        "worker 2 of 4 holds 2 squares, sum 40", "worker 3 of 4 holds 2 squares, sum 58",
    ]
    assert alltoall_lines(buckets(2, 3), 2) == [
        "worker 0 of 3 holds 1 square, sum 0", "worker 1 of 3 holds 1 square, sum 1",
        "worker 2 of 3 holds 0 squares, sum 0",
    ]


@pytest.mark.parametrize(
    ("held", "says"),
    [
        # 9 (the square of 3) lost on its way to worker 1
        ([Bucket(0, 2, 4), Bucket(1, 1, 1)], "hold 3 squares summing to 5, not the 4 squares"),
        # ... or delivered twice
        ([Bucket(0, 2, 4), Bucket(1, 3, 19)], "hold 5 squares summing to 23"),
        # ... or delivered to worker 0 instead: the whole adds up, the buckets do not
        ([Bucket(0, 3, 13), Bucket(1, 1, 1)], "worker 0 holds 3 squares summing to 13, not its "
                                              "bucket's 2 summing to 4"),
        ([Bucket(1, 2, 10), Bucket(0, 2, 4)], "not in worker order"),
    ],
)
def test_a_wrong_shuffle_fails_instead_of_being_printed(held, says):
    with pytest.raises(RuntimeError, match=re.escape(says)):
        alltoall_lines(held, 4)


# --- multiprocessing, in-process -----------------------------------------------------------


@pytest.mark.usefixtures("no_leftover_segment")
@pytest.mark.parametrize("buffer", BUFFER, ids=BUFFER_IDS)
@pytest.mark.parametrize("workers", [1, 2, 3, 7])
@pytest.mark.parametrize("items", [0, 1, 3, 10, 1000])
def test_run_gives_every_worker_exactly_its_bucket(items, workers, buffer):
    assert alltoall.run(items, workers, buffer=buffer) == buckets(items, workers)
    assert mp.active_children() == []


@pytest.mark.usefixtures("no_leftover_segment")
@pytest.mark.parametrize("buffer", BUFFER, ids=BUFFER_IDS)
def test_buckets_bigger_than_a_pipe_buffer_do_not_deadlock(buffer):
    # Each worker sends the other 50 000 squares, far more than a pipe holds: every worker
    # writes before it reads, which bare pipes would not survive (see the module docstring).
    assert alltoall.run(200_000, 2, buffer=buffer) == buckets(200_000, 2)


def test_the_buckets_themselves_are_the_x_of_each_remainder():
    assert alltoall.bucketed(range(3, 6), 4) == [[16], [25], [], [9]]
    assert alltoall.bucketed(range(0), 2) == [[], []]


def test_a_cell_of_the_matrix_has_room_for_the_largest_bucket_and_no_more():
    for items in range(40):
        for workers in range(1, 9):
            largest = max(
                (len(bucket) for w in range(workers)
                 for bucket in alltoall.bucketed(share(items, workers, w), workers)),
            )
            assert alltoall.room_needed(items, workers) == largest


@pytest.mark.usefixtures("no_leftover_segment")
@pytest.mark.parametrize("buffer", BUFFER, ids=BUFFER_IDS)
def test_trace_names_each_process_its_share_and_what_it_sent(capsys, buffer):
    alltoall.run(5, 3, buffer=buffer, trace=True)
    lines = [re.sub(r"pid \d+", "pid P", line) for line in capsys.readouterr().err.splitlines()]
    if buffer:
        assert re.fullmatch(
            rf"segment /{alltoall.PREFIX}\d+-[0-9a-f]{{8}}: 144 bytes, 3x3 cells of up to 1 "
            "squares", lines.pop(0)
        )
    assert lines == [
        "alltoall-0, pid P squared 0-1, sent [1, 1, 0] squares to workers 0-2",
        "alltoall-1, pid P squared 2-3, sent [1, 0, 1] squares to workers 0-2",
        "alltoall-2, pid P squared 4, sent [0, 1, 0] squares to workers 0-2",
    ]


@pytest.mark.usefixtures("no_leftover_segment")
@pytest.mark.parametrize("buffer", BUFFER, ids=BUFFER_IDS)
@pytest.mark.parametrize(
    ("fault", "says"),
    [(Fault("raise", 2), "alltoall-2 exited with status 1"),
     (Fault("kill", 0), "alltoall-0 was killed by signal 9"),
     (Fault("kill", 3), "alltoall-3 was killed by signal 9")],
)
def test_a_dead_worker_ends_the_run_its_siblings_waiting_stopped(fault, says, buffer):
    # The others wait for the dead one's bucket (on its queue, or at the barrier): the
    # parent must stop them rather than wait with them.
    with pytest.raises(runtime.WorkerFailed, match=says):
        alltoall.run(100, 4, buffer=buffer, fault=fault)
    assert mp.active_children() == []


@pytest.mark.timeout(120)
@pytest.mark.parametrize("flags", FLAGS, ids=FLAG_IDS)
@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_under_every_start_method(method, flags):
    # fork is the default here (Python < 3.14 on Linux); the others pickle every queue, the
    # barrier and the pipes to the children.
    code = (
        f"import multiprocessing as mp; mp.set_start_method({method!r}); "
        f"from shared_memory import alltoall; raise SystemExit(alltoall.main({list(flags)!r}))"
    )
    before = segments()
    done = launch.run([sys.executable, "-c", code], timeout=100)
    assert (done.returncode, done.stdout, done.stderr) == (0, expected(10, 4), "")
    assert segments() - before == set()


def test_more_queues_than_open_files_is_refused_and_buffer_is_the_way_out():
    # 8 workers: 56 queues, two descriptors each, and more: past a limit of 100 open files.
    def under_limit(*args):
        code = (
            "import resource; _, hard = resource.getrlimit(resource.RLIMIT_NOFILE); "
            "resource.setrlimit(resource.RLIMIT_NOFILE, (100, hard)); "
            f"from shared_memory import alltoall; raise SystemExit(alltoall.main({list(args)!r}))"
        )
        return launch.run([sys.executable, "-c", code], timeout=100)

    assert alltoall.open_files_needed(8) > 100
    refused = under_limit("--workers", "8")
    support.assert_bad_arguments(refused, "shared_memory.alltoall")
    assert "needs about 160 open files for its 56 queues, more than the 100 allowed" in (
        refused.stderr
    )
    done = under_limit("--workers", "8", "--buffer")
    assert (done.returncode, done.stdout, done.stderr) == (0, expected(10, 8), "")


# --- whole runs, both ways ---------------------------------------------------------------


@pytest.mark.parametrize("flags", FLAGS, ids=FLAG_IDS)
@pytest.mark.parametrize("workers", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("items", [None, 3])
def test_same_stdout_both_ways(workers, items, flags):
    args = [] if items is None else ["--items", str(items)]
    expect = expected(10 if items is None else items, workers)
    support.same_stdout_both_ways("alltoall", workers, expect, *args, *flags)


@pytest.mark.parametrize("flags", FLAGS, ids=FLAG_IDS)
def test_no_items_and_a_bigger_shuffle_both_ways(flags):
    support.same_stdout_both_ways("alltoall", 4, expected(0, 4), "--items", "0", *flags)
    support.same_stdout_both_ways("alltoall", 3, expected(30_000, 3), "--items", "30000", *flags)


@pytest.mark.parametrize("flags", FLAGS, ids=FLAG_IDS)
def test_mpi_single_process_without_mpiexec(flags):
    done = launch.run(launch.python("message_passing.alltoall", "--items", "4", *flags))
    assert (done.returncode, done.stdout) == (0, expected(4, 1)), done.stderr


@pytest.mark.parametrize("flags", FLAGS, ids=FLAG_IDS)
@pytest.mark.parametrize(
    ("side", "who"),
    [("shared_memory", r"alltoall-\d, pid \d+"), ("message_passing", r"rank \d on \S+")],
)
def test_trace_goes_to_stderr_one_line_per_worker(side, who, flags):
    if side == "shared_memory":
        done = support.run_shared("alltoall", 3, "--trace", *flags)
    else:
        done = support.run_mpi("alltoall", 3, "--trace", *flags)
    assert (done.returncode, done.stdout) == (0, expected(10, 3)), done.stderr
    lines = done.stderr.splitlines()
    if side == "shared_memory" and flags:
        assert lines.pop(0).startswith(f"segment /{alltoall.PREFIX}")
    sent = ["[2, 1, 1]", "[1, 1, 1]", "[1, 1, 1]"]
    shares = ["0-3", "4-6", "7-9"]
    assert len(lines) == 3
    for line, part, counts in zip(lines, shares, sent, strict=True):
        assert re.fullmatch(rf"{who} squared {part}, sent {re.escape(counts)} squares to "
                            "workers 0-2", line)


# --- bad arguments and faults ------------------------------------------------------------


@pytest.mark.parametrize(
    "args", [["--items", "-1"], ["--workers", "0"], ["--buffer=yes"], ["--bogus"],
             ["--fault", "kill:4"]],
)
def test_shared_bad_arguments_one_line_exit_2(args):
    done = launch.run(launch.python("shared_memory.alltoall", *args))
    support.assert_bad_arguments(done, "shared_memory.alltoall")


@pytest.mark.parametrize(
    "args", [["--items", "x"], ["--workers", "2"], ["--buffer", "--fault", "raise:3"]]
)
def test_mpi_bad_arguments_one_line_from_rank_0_exit_2(args):
    done = support.run_mpi("alltoall", 3, *args)
    support.assert_bad_arguments(done, "message_passing.alltoall")


@pytest.mark.parametrize("flags", FLAGS, ids=FLAG_IDS)
@pytest.mark.parametrize(("workers", "worker", "items"), [(1, 0, 10), (4, 3, 10), (7, 6, 2)])
def test_shared_fault_ends_nonzero_naming_the_worker(workers, worker, items, flags):
    before = segments()
    done = support.run_shared(
        "alltoall", workers, "--items", str(items), "--fault", f"raise:{worker}", *flags,
        timeout=30,
    )
    support.assert_worker_failed(
        done, worker, "shared_memory.alltoall", process=f"alltoall-{worker}"
    )
    assert segments() - before == set()
    assert "resource_tracker" not in done.stderr


@pytest.mark.parametrize("flags", FLAGS, ids=FLAG_IDS)
@pytest.mark.parametrize(("ranks", "worker", "items"), [(1, 0, 10), (3, 1, 10), (4, 3, 2)])
def test_mpi_fault_aborts_the_job_promptly(ranks, worker, items, flags):
    done = support.run_mpi(
        "alltoall", ranks, "--items", str(items), "--fault", f"raise:{worker}", *flags,
        timeout=30,
    )
    support.assert_job_aborted(done, worker)
