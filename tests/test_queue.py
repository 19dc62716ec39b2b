"""The queue pattern: multiprocessing in-process, and both sides as programs."""

import multiprocessing as mp
import queue as stdlib_queue
import re

import pytest
import support

from bench import launch
from contract import faults, unit
from message_passing import queue as mpi_queue
from shared_memory import queue as shared_queue
from shared_memory import runtime

BIG = 100_000


def line(items):
    return f"consumed {items} items, sum of squares {sum(i * i for i in range(items))}\n"


def took(stderr):
    """``--trace`` lines -> how many items each consumer took."""
    return [int(n) for n in re.findall(r" took (\d+) items$", stderr, re.MULTILINE)]


def test_the_stdlib_queue_is_not_shadowed():
    # shared_memory/queue.py and message_passing/queue.py must not hide the standard
    # library's queue, which multiprocessing itself imports.
    assert hasattr(stdlib_queue, "Empty")
    assert stdlib_queue.__file__ != shared_queue.__file__


@pytest.mark.parametrize("joinable", [False, True])
@pytest.mark.parametrize("workers", [1, 2, 4])
@pytest.mark.parametrize("items", [0, 1, 3, 10])
def test_run_consumes_every_item_once(items, workers, joinable):
    consumed = shared_queue.run(items, workers, joinable=joinable)
    assert len(consumed.taken) == workers
    support.assert_each_item_once(consumed, items)
    assert str(consumed) == line(items).rstrip("\n")


@pytest.mark.parametrize("batch", [2, 7, 1000])
def test_batches_change_nothing_but_the_messages(batch):
    support.assert_each_item_once(shared_queue.run(50, 3, batch=batch), 50)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("joinable", [False, True])
def test_a_hundred_thousand_items_to_four_consumers(joinable):
    consumed = shared_queue.run(BIG, 4, joinable=joinable)
    assert len(consumed.taken) == 4
    support.assert_each_item_once(consumed, BIG)
    assert not mp.active_children()


def test_blocks_cover_the_items_in_order():
    assert shared_queue.blocks(7, 3) == [range(0, 3), range(3, 6), range(6, 7)]
    assert list(mpi_queue.blocks(7, 3)) == shared_queue.blocks(7, 3)
    assert shared_queue.blocks(0, 3) == []


def test_trace_one_line_a_consumer(capsys):
    shared_queue.run(20, 3, trace=True)
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 3
    assert all(row.startswith(f"consumer-{c} (pid ") for c, row in enumerate(err.splitlines()))
    assert sum(took(err)) == 20


@pytest.mark.parametrize("joinable", [False, True])
@pytest.mark.parametrize("worker", [0, 2])
def test_a_failing_consumer_is_reported_not_waited_for(worker, joinable):
    # It fails holding a block it took: under --joinable that block never gets its
    # task_done(), so the producer's join() would never return.
    fault = faults.Fault("raise", worker)
    with pytest.raises(runtime.WorkerFailed, match=f"consumer-{worker} exited with status 1"):
        shared_queue.run(BIG, 3, joinable=joinable, fault=fault)
    assert not mp.active_children()


# Whole programs, both ways.

@pytest.mark.parametrize("workers", [1, 2, 3, 4, 7])
@pytest.mark.parametrize(
    ("shared_args", "mpi_args"),
    [((), ()), (("--joinable",), ()), (("--batch", "3"), ("--batch", "3"))],
)
def test_same_stdout_both_ways(workers, shared_args, mpi_args):
    support.same_stdout_both_ways("queue", workers, line(10), shared=shared_args, mpi=mpi_args)


@pytest.mark.parametrize("workers", [1, 2, 3, 4, 7])
def test_producer_works_same_stdout_as_multiprocessing(workers):
    # W consumers both ways: W processes beside the producer; W ranks, rank 0 among them.
    support.same_stdout_both_ways("queue", workers, line(10), mpi=("--producer-works",))


@pytest.mark.parametrize("items", [0, 1, 2])
def test_producer_works_with_fewer_items_than_ranks(items):
    done = support.run_mpi("queue", 4, "--items", str(items), "--producer-works")
    assert done.returncode == 0, done.stderr
    assert done.stdout == line(items)


@pytest.mark.timeout(90)
def test_producer_works_two_ranks_both_consume():
    # The point of the variant: at -n 2 the textbook queue has one consumer, here two.
    # With a cost per item rank 1 asks long before rank 0 is through.
    done = launch.run(
        launch.mpiexec(2, *launch.python(
            "message_passing.queue", "--items", "2000", "--producer-works", "--trace")),
        env={unit.COST_VARIABLE: "50"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == line(2000)
    counts = took(done.stderr)
    assert len(counts) == 2 and sum(counts) == 2000 and min(counts) > 0, done.stderr


@pytest.mark.timeout(90)
def test_producer_works_a_hundred_thousand_items():
    done = launch.run(
        launch.mpiexec(4, *launch.python(
            "message_passing.queue", "--items", str(BIG), "--producer-works", "--trace")),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == line(BIG)
    counts = took(done.stderr)
    assert len(counts) == 4 and sum(counts) == BIG, done.stderr


@pytest.mark.parametrize("items", [0, 1, 2])
def test_fewer_items_than_consumers(items):
    args = ("--items", str(items))
    shared = launch.run(launch.python("shared_memory.queue", "--workers", "4", *args))
    mpi = launch.run(launch.mpiexec(4, *launch.python("message_passing.queue", *args)))
    assert shared.stdout == mpi.stdout == line(items), shared.stderr + mpi.stderr


def test_single_rank_without_mpiexec():
    done = launch.run(launch.python("message_passing.queue", "--items", "5", "--trace"))
    assert done.returncode == 0, done.stderr
    assert done.stdout == line(5)
    assert took(done.stderr) == [5]  # rank 0 produced and consumed everything


@pytest.mark.timeout(90)
def test_a_hundred_thousand_items_to_four_consumers_both_ways():
    # Four consumers: four processes beside the producer; five ranks, rank 0 producing.
    # One item a message (the textbook version) takes a few seconds either way.
    args = ("--items", str(BIG), "--trace")
    shared = launch.run(launch.python("shared_memory.queue", "--workers", "4", *args))
    mpi = launch.run(launch.mpiexec(5, *launch.python("message_passing.queue", *args)))
    for done in (shared, mpi):
        assert done.returncode == 0, done.stderr
        assert done.stdout == line(BIG)
        counts = took(done.stderr)
        assert len(counts) == 4 and sum(counts) == BIG, done.stderr


@pytest.mark.parametrize(
    "args",
    [["--items", "-1"], ["--workers", "0"], ["--batch", "0"], ["--items", "x"], ["--bogus"],
     ["--fault", "raise:4"], ["--fault", "hang:1"], ["--producer-works"]],
)
def test_bad_arguments_one_line_exit_2(args):
    done = launch.run(launch.python("shared_memory.queue", *args))
    support.assert_bad_arguments(done, "shared_memory.queue")


@pytest.mark.parametrize(
    "args", [["--items", "-1"], ["--batch", "0"], ["--joinable"], ["--fault", "raise:3"]]
)
def test_bad_arguments_one_line_from_rank_0_exit_2(args):
    support.assert_bad_arguments(support.run_mpi("queue", 3, *args), "message_passing.queue")


@pytest.mark.parametrize("args", [[], ["--joinable"]])
@pytest.mark.parametrize("worker", [0, 3])
def test_fault_ends_the_multiprocessing_run_promptly(worker, args):
    done = launch.run(
        launch.python("shared_memory.queue", "--items", str(BIG), "--fault", f"raise:{worker}",
                      *args),
        timeout=30,
    )
    support.assert_worker_failed(done, worker, "shared_memory.queue", process=f"consumer-{worker}")


@pytest.mark.parametrize("variant", [(), ("--producer-works",)], ids=["textbook", "works"])
@pytest.mark.parametrize(("ranks", "worker"), [(3, 0), (3, 2), (1, 0)])
def test_fault_aborts_the_mpi_job_promptly(ranks, worker, variant):
    # Rank 0 is the producer when it has company: consumers wait on it in a receive.
    support.assert_job_aborted(
        support.run_mpi("queue", ranks, "--items", "1000", "--fault", f"raise:{worker}",
                        *variant, timeout=30),
        worker,
    )
