"""reduce both ways: partial sums to one (Queue / reduce), to all (Value + Lock + Barrier /
allreduce), as prefixes (a chain of Pipes / scan), and through buffers (numpy slots / Reduce)."""

import multiprocessing as mp
import re
import time

import pytest
import support

from bench import launch
from contract import outputs
from contract.faults import Fault
from contract.outputs import Reduced
from contract.unit import share
from shared_memory import reduce

pytestmark = pytest.mark.timeout(120)

MODES = ("reduce", "allreduce", "scan")
FLAGS = {"reduce": (), "allreduce": ("--all",), "scan": ("--scan",)}


def squares_through(stop):
    return sum(x * x for x in range(stop))


def expected(items, workers, mode="reduce"):
    """What both sides print, built by hand from the contiguous shares."""
    noun = "item" if items == 1 else "items"
    total = squares_through(items)
    lines = [f"sum of squares of {items} {noun}: {total}"]
    for w in range(workers if mode != "reduce" else 0):
        stop = share(items, workers, w).stop
        if mode == "allreduce":
            lines.append(f"worker {w} of {workers} holds {total}")
        else:
            through = "no items" if stop == 0 else "item 0" if stop == 1 else f"items 0-{stop - 1}"
            lines.append(f"worker {w} of {workers} holds {squares_through(stop)}: {through}")
    return "".join(f"{line}\n" for line in lines)


# --- contract.outputs: what is printed, and checked before it is ------------------------------


def test_sum_of_squares_and_the_int64_limit():
    assert [outputs.sum_of_squares(n) for n in range(5)] == [0, 0, 1, 5, 14]
    assert outputs.sum_of_squares(100) == squares_through(100) == 328350
    assert outputs.sum_of_squares(outputs.INT64_ITEMS) <= 2**63 - 1
    assert outputs.sum_of_squares(outputs.INT64_ITEMS + 1) > 2**63 - 1


def test_refusal_only_where_an_int64_holds_the_total():
    big = outputs.INT64_ITEMS + 1
    assert outputs.reduce_refusal(big, "reduce", False) is None
    assert outputs.reduce_refusal(big, "scan", False) is None
    assert outputs.reduce_refusal(outputs.INT64_ITEMS, "allreduce", True) is None
    assert outputs.reduce_refusal(big, "allreduce", False).startswith("--all: ")
    assert outputs.reduce_refusal(big, "scan", True).startswith("--buffer: ")


def test_lines_of_each_mode():
    assert Reduced(1, 3, 0).lines() == ["sum of squares of 1 item: 0"]
    assert Reduced(3, 2, 5, [5, 5]).lines() == [
        "sum of squares of 3 items: 5", "worker 0 of 2 holds 5", "worker 1 of 2 holds 5",
    ]
    assert Reduced(2, 3, 1, [0, 1, 1], scan=True).lines() == [
        "sum of squares of 2 items: 1", "worker 0 of 3 holds 0: item 0",
        "worker 1 of 3 holds 1: items 0-1", "worker 2 of 3 holds 1: items 0-1",
    ]
    assert Reduced(0, 2, 0, [0, 0], scan=True).lines()[1] == "worker 0 of 2 holds 0: no items"


@pytest.mark.parametrize(
    ("reduced", "says"),
    [
        (Reduced(10, 2, 284), "total 284 is not"),
        (Reduced(3, 2, 5, [5, 4]), "worker 1 holds 4, not 5"),
        (Reduced(3, 2, 5, [5]), "1 values held, by 2 workers"),
        (Reduced(3, 2, 5, [5, 5], scan=True), "worker 0 holds 5, not 1"),
    ],
)
def test_a_wrong_result_is_refused_not_printed(reduced, says):
    with pytest.raises(RuntimeError, match=says):
        reduced.lines()


# --- multiprocessing, in-process -------------------------------------------------------------


@pytest.mark.parametrize("buffer", [False, True], ids=["objects", "buffer"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("items", "workers"), [(100, 1), (100, 3), (0, 2), (3, 7), (1001, 4)])
def test_run_combines_every_partial_sum_once(items, workers, mode, buffer):
    reduced = reduce.run(items, workers, mode=mode, buffer=buffer)
    assert reduced.total == squares_through(items)
    if mode == "reduce":
        assert reduced.held is None
    elif mode == "allreduce":
        assert reduced.held == [reduced.total] * workers
    else:
        assert reduced.held == [
            squares_through(share(items, workers, w).stop) for w in range(workers)
        ]
    assert "".join(f"{line}\n" for line in reduced.lines()) == expected(items, workers, mode)
    assert mp.active_children() == []


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="mode must be one of"):
        reduce.run(10, 2, mode="gather")


@pytest.mark.parametrize("buffer", [False, True], ids=["objects", "buffer"])
def test_trace_names_each_process_its_share_and_what_it_holds(capsys, buffer):
    reduce.run(5, 3, mode="scan", buffer=buffer, trace=True)
    lines = capsys.readouterr().err.splitlines()
    assert [re.sub(r"pid \d+", "pid P", line) for line in lines] == [
        "worker scan-0 (pid P) squared 0-1, partial sum 1, holds 1",
        "worker scan-1 (pid P) squared 2-3, partial sum 13, holds 14",
        "worker scan-2 (pid P) squared 4, partial sum 16, holds 30",
    ]


@pytest.mark.parametrize("buffer", [False, True], ids=["objects", "buffer"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", ["raise", "kill"])
def test_a_failed_worker_raises_worker_failed_and_leaves_nothing(kind, mode, buffer):
    # Worker 0 fails before its work: under allreduce the others then wait at the barrier
    # for it, under scan its successors wait on the chain, for ever unless they are stopped.
    start = time.monotonic()
    with pytest.raises(reduce.runtime.WorkerFailed, match=rf"worker {mode}-0 "):
        reduce.run(100, 4, mode=mode, buffer=buffer, fault=Fault(kind, 0))
    assert time.monotonic() - start < 30
    assert mp.active_children() == []


# --- whole runs, both ways ---------------------------------------------------------------

VARIANTS = [("reduce", ()), ("allreduce", ()), ("scan", ()), ("reduce", ("--buffer",)),
            ("allreduce", ("--buffer",)), ("scan", ("--buffer",))]


@pytest.mark.parametrize("workers", [1, 2, 3, 4])
@pytest.mark.parametrize(("mode", "extra"), VARIANTS,
                         ids=[" ".join((mode, *extra)) for mode, extra in VARIANTS])
def test_same_stdout_both_ways(mode, extra, workers):
    support.same_stdout_both_ways("reduce", workers, expected(100, workers, mode),
                                  *FLAGS[mode], *extra)


@pytest.mark.parametrize(("items", "workers"), [(3, 4), (0, 3), (1, 2)])
@pytest.mark.parametrize("mode", MODES)
def test_more_workers_than_items_both_ways(mode, items, workers):
    support.same_stdout_both_ways("reduce", workers, expected(items, workers, mode),
                                  "--items", str(items), *FLAGS[mode])


def test_mpi_single_process_without_mpiexec():
    done = launch.run(launch.python("message_passing.reduce", "--items", "4", "--all"))
    assert (done.returncode, done.stdout) == (0, expected(4, 1, "allreduce")), done.stderr


@pytest.mark.parametrize(
    ("command", "who"),
    [
        (launch.python("shared_memory.reduce", "--workers", "3", "--all", "--trace"),
         r"worker allreduce-\d \(pid \d+\)"),
        (launch.mpiexec(3, *launch.python("message_passing.reduce", "--all", "--trace")),
         r"rank \d on \S+"),
    ],
)
def test_trace_goes_to_stderr_one_line_per_worker(command, who):
    done = launch.run(command)
    assert (done.returncode, done.stdout) == (0, expected(100, 3, "allreduce")), done.stderr
    shares = [("0-33", 12529), ("34-66", 85492), ("67-99", 230329)]
    assert re.fullmatch(
        "".join(f"{who} squared {s}, partial sum {p}, holds 328350\n" for s, p in shares),
        done.stderr,
    ), done.stderr


# --- bad arguments and faults ------------------------------------------------------------

BAD = [["--all", "--scan"], ["--items", "-1"], ["--items", "abc"], ["--bogus"],
       ["--buffer", "--items", str(outputs.INT64_ITEMS + 1)],
       ["--all", "--items", str(outputs.INT64_ITEMS + 1)]]


@pytest.mark.parametrize("args", [*BAD, ["--workers", "0"], ["--fault", "raise:4"]])
def test_shared_bad_arguments_one_line_exit_2(args):
    done = launch.run(launch.python("shared_memory.reduce", *args))
    support.assert_bad_arguments(done, "shared_memory.reduce")


@pytest.mark.parametrize("args", [*BAD, ["--workers", "2"], ["--fault", "raise:3"]])
def test_mpi_bad_arguments_one_line_from_rank_0_exit_2(args):
    done = support.run_mpi("reduce", 3, *args)
    support.assert_bad_arguments(done, "message_passing.reduce")


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("workers", "worker", "items"), [(1, 0, 100), (4, 1, 100), (7, 6, 2)])
@pytest.mark.parametrize("mode", MODES)
def test_shared_fault_ends_nonzero_naming_the_worker(mode, workers, worker, items):
    done = support.run_shared(
        "reduce", workers, "--items", str(items), *FLAGS[mode], "--fault", f"raise:{worker}",
        timeout=30,
    )
    support.assert_worker_failed(
        done, worker, "shared_memory.reduce", process=f"{mode}-{worker}"
    )


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("ranks", "worker", "items"), [(1, 0, 100), (3, 1, 100), (4, 3, 2)])
@pytest.mark.parametrize("mode", MODES)
def test_mpi_fault_aborts_the_job_promptly(mode, ranks, worker, items):
    done = support.run_mpi(
        "reduce", ranks, "--items", str(items), *FLAGS[mode], "--fault", f"raise:{worker}",
        timeout=30,
    )
    support.assert_job_aborted(done, worker)
