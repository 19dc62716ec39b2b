"""terminate: the multiprocessing side in-process, and whole runs both ways."""

import signal
import time

import pytest
import support

from bench import launch
from shared_memory import terminate

SHARED = "shared_memory.terminate"
MPI = "message_passing.terminate"


def lines(workers):
    return "".join(f"worker {i} stopped on request, cleaned up\n" for i in range(workers))


@pytest.mark.parametrize("workers", [1, 3])
def test_cooperative_stop_is_prompt_and_every_cleanup_ran(workers):
    outcome = terminate.run(workers)
    assert [s.worker for s in outcome.stopped] == list(range(workers))
    for s in outcome.stopped:
        assert s.exitcode == 0
        assert s.cleaned_up
        assert s.units >= 1  # nobody was asked to stop before doing a unit
        assert s.total == sum(i * i for i in range(s.units))  # the tally is the real one
    assert outcome.seconds < support.STOP_HANG, "a stop request must be honoured"
    assert outcome.lines() == lines(workers).splitlines()


def test_stop_waits_for_seconds_then_stops_promptly():
    start = time.monotonic()
    outcome = terminate.run(2, seconds=0.5)
    assert time.monotonic() - start >= 0.5
    assert outcome.seconds < support.STOP_HANG
    assert all(s.cleaned_up for s in outcome.stopped)
    # How many units each did in that half second is the machine's load's to say: not checked.


def test_hard_stop_is_sigterm_and_skips_the_cleanup():
    outcome = terminate.run(3, hard=True)
    for s in outcome.stopped:
        assert s.exitcode == -signal.SIGTERM == -15
        assert not s.cleaned_up  # the finally: that hands back the tally never ran
        assert s.units is None and s.total is None
    assert outcome.seconds < support.STOP_HANG
    assert outcome.lines() == [
        f"worker {i} terminated: exit code -15, cleanup did not run" for i in range(3)
    ]


@pytest.mark.parametrize("hard", [False, True])
def test_trace_names_every_worker(capsys, hard):
    terminate.run(2, hard=hard, trace=True)
    err = capsys.readouterr().err.splitlines()
    assert [line.split(" (pid ")[0] for line in err[:2]] == ["worker 0", "worker 1"]
    word = "tally was lost" if hard else " squared 0"
    assert all(word in line for line in err[:2])
    assert err[2].startswith("asked to stop after ")


@pytest.mark.parametrize("workers", [1, 2, 3, 4, 7])
def test_same_stdout_both_ways(workers):
    support.same_stdout_both_ways("terminate", workers, lines(workers))


def test_mpi_single_process_without_mpiexec():
    done = launch.run(launch.python(MPI), timeout=60)
    assert (done.returncode, done.stdout) == (0, lines(1)), done.stderr


def test_mpi_trace_stop_is_prompt():
    done = launch.run(
        launch.mpiexec(3, *launch.python(MPI, "--trace", "--seconds", "0.5")), timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == lines(3)
    err = done.stderr.splitlines()
    assert [line.split(" on ")[0] for line in err[:3]] == ["rank 0", "rank 1", "rank 2"]
    asked, stopped = err[3].removeprefix("asked to stop after ").split(" s; all stopped ")
    assert float(asked) >= 0.5
    assert float(stopped.removesuffix(" s later")) < support.STOP_HANG


def test_cli_hard():
    done = launch.run(launch.python(SHARED, "--workers", "2", "--hard"), timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "worker 0 terminated: exit code -15, cleanup did not run\n"
        "worker 1 terminated: exit code -15, cleanup did not run\n"
    )


@pytest.mark.parametrize(
    "args",
    [["--workers", "0"], ["--seconds", "-1"], ["--seconds", "abc"], ["--seconds", "nan"],
     ["--bogus"], ["--fault", "raise:4"]],
)
def test_shared_bad_arguments_one_line_exit_2(args):
    support.assert_bad_arguments(launch.run(launch.python(SHARED, *args), timeout=60), SHARED)


@pytest.mark.parametrize(
    "args", [["--seconds", "-1"], ["--workers", "2"], ["--hard"], ["--fault", "raise:3"]]
)
def test_mpi_bad_arguments_one_line_from_rank_0_exit_2(args):
    done = support.run_mpi("terminate", 3, *args)
    support.assert_bad_arguments(done, MPI)
    if args == ["--hard"]:
        assert "Comm.Abort" in done.stderr


@pytest.mark.parametrize("worker", [0, 3])
def test_shared_fault_ends_the_run_nonzero(worker):
    done = launch.run(launch.python(SHARED, "--fault", f"raise:{worker}"), timeout=support.HANG)
    support.assert_worker_failed(done, worker, SHARED, process=str(worker))


@pytest.mark.parametrize(("ranks", "worker"), [(3, 0), (3, 2), (1, 0)])
def test_mpi_fault_aborts_the_job_promptly(ranks, worker):
    support.assert_job_aborted(
        support.run_mpi("terminate", ranks, "--fault", f"raise:{worker}"), worker
    )
