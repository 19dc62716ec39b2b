"""The pipe pattern: multiprocessing in-process, and both sides as programs."""

import multiprocessing as mp

import pytest
import support

from bench import launch
from contract import faults
from message_passing import pipe as mpi_pipe
from shared_memory import pipe as shared_pipe
from shared_memory import runtime


def lines(items):
    return "".join(f"{i * i}\n" for i in range(items)) + "end\n"


@pytest.mark.parametrize("workers", [1, 2, 3, 4])
@pytest.mark.parametrize("items", [0, 1, 10])
def test_run_squares_in_order(items, workers):
    assert shared_pipe.run(items, workers) == [i * i for i in range(items)]
    assert not mp.active_children()


@pytest.mark.parametrize("workers", [2, 3])
def test_order_kept_for_many_items(workers):
    # Far more than a pipe's buffer holds: writers block and resume many times.
    assert shared_pipe.run(20_000, workers) == [i * i for i in range(20_000)]


@pytest.mark.parametrize(
    ("workers", "where"),
    [(1, {"collect": 0, "square": 0, "produce": 0}),
     (2, {"collect": 0, "square": 1, "produce": 1}),
     (3, {"collect": 0, "square": 1, "produce": 2}),
     (7, {"collect": 0, "square": 1, "produce": 2})],
)
def test_stages_share_workers_when_fewer_than_three(workers, where):
    assert shared_pipe.placement(workers) == where
    assert mpi_pipe.placement(workers) == where


def test_trace_says_who_ran_which_stage(capsys):
    shared_pipe.run(5, 4, trace=True)
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "worker 0 (the parent) ran collect"
    assert err[1].startswith("worker 1 (pid ") and err[1].endswith(") ran square")
    assert err[2].startswith("worker 2 (pid ") and err[2].endswith(") ran produce")
    assert len(err) == 3


@pytest.mark.parametrize(("workers", "worker"), [(3, 1), (3, 2), (2, 1)])
def test_a_failing_stage_is_reported_not_taken_for_the_end_of_stream(workers, worker):
    # A dead writer closes its pipe end too: the reader sees EOFError as at a normal end,
    # and only the exit status tells the stream was cut short.
    with pytest.raises(runtime.WorkerFailed, match="exited with status 1"):
        shared_pipe.run(10_000, workers, fault=faults.Fault("raise", worker))
    assert not mp.active_children()


def test_a_failing_parent_leaves_no_child_behind():
    with pytest.raises(faults.InjectedFault, match="worker 0 fails on purpose"):
        shared_pipe.run(10_000, 3, fault=faults.Fault("raise", 0))
    assert not mp.active_children()


# Whole programs, both ways.

@pytest.mark.parametrize("workers", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("items", [10, 0])
def test_same_stdout_both_ways(workers, items):
    support.same_stdout_both_ways("pipe", workers, lines(items), "--items", str(items))


@pytest.mark.parametrize("ranks", [2, 3])
def test_order_kept_along_the_chain_of_ranks(ranks):
    done = launch.run(
        launch.mpiexec(ranks, *launch.python("message_passing.pipe", "--items", "3000"))
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == lines(3000)


def test_single_rank_without_mpiexec():
    done = launch.run(launch.python("message_passing.pipe", "--items", "3"))
    assert (done.returncode, done.stdout) == (0, lines(3)), done.stderr


def test_mpi_trace_names_the_idle_ranks():
    done = launch.run(launch.mpiexec(4, *launch.python("message_passing.pipe", "--trace")))
    assert done.returncode == 0, done.stderr
    stages = [row.split(" ran ")[1] for row in done.stderr.splitlines()]
    assert stages == ["collect", "square", "produce", "nothing"]


@pytest.mark.parametrize(
    "args",
    [["--items", "-1"], ["--workers", "0"], ["--items", "x"], ["--bogus"],
     ["--fault", "raise:4"], ["--fault", "raise:3"]],
)
def test_bad_arguments_one_line_exit_2(args):
    done = launch.run(launch.python("shared_memory.pipe", *args))
    support.assert_bad_arguments(done, "shared_memory.pipe")


@pytest.mark.parametrize(
    "args", [["--items", "-1"], ["--workers", "2"], ["--fault", "raise:3"], ["--fault", "raise:4"]]
)
def test_bad_arguments_one_line_from_rank_0_exit_2(args):
    support.assert_bad_arguments(support.run_mpi("pipe", 4, *args), "message_passing.pipe")


def test_a_fault_on_an_idle_worker_is_refused_the_same_way_both_ways():
    shared = launch.run(launch.python("shared_memory.pipe", "--fault", "raise:3"))
    mpi = launch.run(
        launch.mpiexec(4, *launch.python("message_passing.pipe", "--fault", "raise:3"))
    )
    assert "names a worker with no stage to run" in shared.stderr
    assert "names a rank with no stage to run" in mpi.stderr


@pytest.mark.parametrize(("workers", "worker"), [(4, 0), (4, 1), (4, 2), (2, 1), (1, 0)])
def test_fault_ends_the_multiprocessing_run_promptly(workers, worker):
    # Nothing half-written on stdout: not even the squares that came before the failure.
    support.assert_worker_failed(
        support.run_shared("pipe", workers, "--items", "100000", "--fault", f"raise:{worker}",
                           timeout=30),
        worker,
    )


@pytest.mark.parametrize(("ranks", "worker"), [(4, 0), (4, 1), (4, 2), (2, 1), (1, 0)])
def test_fault_aborts_the_mpi_job_promptly(ranks, worker):
    support.assert_job_aborted(
        support.run_mpi("pipe", ranks, "--items", "1000", "--fault", f"raise:{worker}", timeout=30),
        worker,
    )
