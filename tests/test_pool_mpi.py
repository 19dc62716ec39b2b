"""The MPI pool from outside: pure helpers, and whole runs under mpiexec."""

import pytest
import support

from bench import launch
from contract import unit
from message_passing import pool


@pytest.mark.parametrize("items", [0, 1, 5, 10, 101])
@pytest.mark.parametrize("parts", [1, 2, 3, 4, 7])
def test_blocks_are_contiguous_and_balanced(items, parts):
    cut = unit.blocks(list(range(items)), parts)
    assert len(cut) == parts
    assert [x for block in cut for x in block] == list(range(items))
    sizes = [len(block) for block in cut]
    assert max(sizes) - min(sizes) <= 1


def test_chunksize_matches_multiprocessing_pool():
    # Pool.map: chunksize, extra = divmod(len, 4 * workers); chunksize += bool(extra)
    assert pool.chunksize(100, 4) == 7
    assert pool.chunksize(0, 4) == 1
    assert pool.chunksize(3, 1) == 1


def test_single_process_without_mpiexec():
    done = launch.run(launch.python("message_passing.pool", "--items", "5"), timeout=60)
    assert (done.returncode, done.stdout) == (0, "[0, 1, 4, 9, 16]\n"), done.stderr


@pytest.mark.parametrize("ranks", [1, 2, 3, 4])
def test_same_stdout_as_multiprocessing(ranks):
    shared, mpi = support.both_ways("pool", ranks)
    assert mpi.stdout == shared.stdout
    assert mpi.stdout.startswith("[0, 1, 4, ") and mpi.stdout.endswith(", 9801]\n")


@pytest.mark.parametrize(
    ("ranks", "args"),
    [(7, []), (4, ["--items", "3"]), (3, ["--items", "0"]), (4, ["--executor"]),
     (1, ["--executor", "--items", "9"]), (3, ["--executor", "--items", "2"])],
)
def test_any_rank_count_and_item_count(ranks, args):
    items = int(args[args.index("--items") + 1]) if "--items" in args else 100
    done = launch.run(
        launch.mpiexec(ranks, *launch.python("message_passing.pool", *args)), timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{[i * i for i in range(items)]}\n"


@pytest.mark.parametrize("args", [[], ["--executor"]])
def test_trace_names_every_rank_that_worked(args):
    done = launch.run(
        launch.mpiexec(3, *launch.python("message_passing.pool", "--trace", "--items", "9", *args)),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    workers = {line.split(" squared ")[0] for line in done.stderr.splitlines()}
    # scatter/gather: every rank has a block; executor: rank 0 is the client, 1 and 2 serve.
    ranks = {"rank 1", "rank 2"} if args else {"rank 0", "rank 1", "rank 2"}
    assert {w.split(" on ")[0] for w in workers} == ranks


@pytest.mark.parametrize("args", [["--items", "-1"], ["--items", "abc"], ["--workers", "2"]])
def test_bad_arguments_one_line_from_rank_0_exit_2(args):
    support.assert_bad_arguments(support.run_mpi("pool", 3, *args), "message_passing.pool")


@pytest.mark.parametrize(("ranks", "args"), [(3, []), (3, ["--executor"]), (1, [])])
def test_fault_raise_aborts_the_job_promptly(ranks, args):
    worker = ranks - 1
    support.assert_job_aborted(
        support.run_mpi("pool", ranks, "--fault", f"raise:{worker}", *args, timeout=30), worker
    )
