"""worker_class both ways: a Process subclass per worker, a class per rank."""

import multiprocessing as mp
import re

import pytest
import support

from bench import launch
from contract.faults import Fault
from contract.outputs import describe
from contract.unit import blocks
from shared_memory import worker_class
from shared_memory.worker_class import Squarer


def expected(items, workers):
    """What both sides print, built from the contiguous cut of message_passing.pool.blocks."""
    size, extra = divmod(items, workers)
    out, start = [], 0
    for index in range(workers):
        share = list(range(start, start + size + (index < extra)))
        start += len(share)
        noun = "item" if len(share) == 1 else "items"
        out.append(f"worker {index} of {workers} squared {len(share)} {noun}: "
                   f"{[x * x for x in share]}\n")
    return "".join(out)


# --- multiprocessing, in-process -------------------------------------------------------------

@pytest.mark.parametrize("workers", [1, 2, 3, 7])
@pytest.mark.parametrize("items", [0, 1, 3, 10, 1000])
def test_run_squares_each_share_every_item_once(items, workers):
    results = worker_class.run(items, workers)
    assert len(results) == workers
    assert [y for squares in results for y in squares] == [i * i for i in range(items)]
    sizes = [len(squares) for squares in results]
    assert max(sizes) - min(sizes) <= 1
    assert mp.active_children() == []


def test_a_result_bigger_than_the_pipe_buffer_does_not_deadlock():
    # 200 000 squares pickle to far more than a pipe holds: the child blocks in send()
    # until the parent reads, which a join-before-read parent would never do.
    results = worker_class.run(400_000, 2)
    assert [len(squares) for squares in results] == [200_000, 200_000]
    assert results[1][-1] == 399_999**2


def test_the_class_alone_state_in_init_result_over_the_pipe():
    reader, writer = mp.Pipe(duplex=False)
    squarer = Squarer(5, [3, 4], writer)
    assert squarer.name == "Squarer-5" and squarer.share == [3, 4]
    squarer.start()
    writer.close()
    assert reader.poll(30)
    squares, who = reader.recv()
    squarer.join(30)
    assert squarer.exitcode == 0
    assert squares == [9, 16]
    assert who == f"Squarer-5, pid {squarer.pid}"


def test_blocks_are_contiguous_and_balanced():
    assert [list(b) for b in blocks(range(10), 4)] == [[0, 1, 2], [3, 4, 5], [6, 7], [8, 9]]
    assert [list(b) for b in blocks(range(2), 3)] == [[0], [1], []]


def test_describe():
    assert describe(1, 4, [9, 16, 25]) == "worker 1 of 4 squared 3 items: [9, 16, 25]"
    assert describe(0, 1, [0]) == "worker 0 of 1 squared 1 item: [0]"
    assert describe(6, 7, []) == "worker 6 of 7 squared 0 items: []"


def test_trace_names_each_process_and_its_share(capsys):
    worker_class.run(5, 3, trace=True)
    lines = capsys.readouterr().err.splitlines()
    assert [re.sub(r"pid \d+", "pid P", line) for line in lines] == [
        "Squarer-0, pid P squared 0-1", "Squarer-1, pid P squared 2-3",
        "Squarer-2, pid P squared 4",
    ]


def test_fault_in_run_raises_worker_failed_and_leaves_nothing():
    with pytest.raises(worker_class.runtime.WorkerFailed, match="Squarer-2 exited with status 1"):
        worker_class.run(10, 4, fault=Fault("raise", 2))
    assert mp.active_children() == []


# --- whole runs, both ways ---------------------------------------------------------------

@pytest.mark.parametrize("workers", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("items", [None, 3, 0])
def test_same_stdout_both_ways(workers, items):
    args = [] if items is None else ["--items", str(items)]
    expect = expected(10 if items is None else items, workers)
    support.same_stdout_both_ways("worker_class", workers, expect, *args)


def test_mpi_single_process_without_mpiexec():
    done = launch.run(launch.python("message_passing.worker_class", "--items", "4"))
    assert (done.returncode, done.stdout) == (0, expected(4, 1)), done.stderr


@pytest.mark.parametrize(
    ("command", "who"),
    [
        (launch.python("shared_memory.worker_class", "--workers", "3", "--trace"),
         r"Squarer-\d, pid \d+"),
        (launch.mpiexec(3, *launch.python("message_passing.worker_class", "--trace")),
         r"rank \d on \S+"),
    ],
)
def test_trace_goes_to_stderr_one_line_per_worker(command, who):
    done = launch.run(command)
    assert (done.returncode, done.stdout) == (0, expected(10, 3)), done.stderr
    shares = ["0-3", "4-6", "7-9"]
    assert re.fullmatch("".join(f"{who} squared {share}\n" for share in shares), done.stderr)


# --- bad arguments and faults ------------------------------------------------------------

@pytest.mark.parametrize(
    "args", [["--items", "-1"], ["--workers", "0"], ["--items", "abc"], ["--bogus"],
             ["--fault", "raise:4"]],
)
def test_shared_bad_arguments_one_line_exit_2(args):
    done = launch.run(launch.python("shared_memory.worker_class", *args))
    support.assert_bad_arguments(done, "shared_memory.worker_class")


@pytest.mark.parametrize(
    "args", [["--items", "-1"], ["--workers", "2"], ["--fault", "raise:3"], ["--fault", "x"]]
)
def test_mpi_bad_arguments_one_line_from_rank_0_exit_2(args):
    done = support.run_mpi("worker_class", 3, *args)
    support.assert_bad_arguments(done, "message_passing.worker_class")


@pytest.mark.parametrize(("workers", "worker", "items"), [(1, 0, 10), (4, 3, 10), (7, 6, 2)])
def test_shared_fault_ends_nonzero_naming_the_worker(workers, worker, items):
    done = support.run_shared(
        "worker_class", workers, "--items", str(items), "--fault", f"raise:{worker}", timeout=30
    )
    support.assert_worker_failed(
        done, worker, "shared_memory.worker_class", process=f"Squarer-{worker}"
    )


@pytest.mark.parametrize(("ranks", "worker", "items"), [(1, 0, 10), (3, 1, 10), (4, 3, 2)])
def test_mpi_fault_aborts_the_job_promptly(ranks, worker, items):
    done = support.run_mpi(
        "worker_class", ranks, "--items", str(items), "--fault", f"raise:{worker}", timeout=30
    )
    support.assert_job_aborted(done, worker)
