"""sync: the multiprocessing side in-process, the report's checks, and whole runs both ways."""

import pytest
import support

from bench import launch
from message_passing import sync as mpi_sync
from shared_memory import sync

SHARED = "shared_memory.sync"
MPI = "message_passing.sync"


def expected_lines(workers, items=10, bound=2):
    token = " -> ".join(str(i) for i in range(workers))
    return (
        f"start: {workers}/{workers} ready before any worker began\n"
        f"bound {bound}: never exceeded\n"
        f"token: {token}, sum of squares {sum(i * i for i in range(items))}\n"
    )


@pytest.mark.parametrize(
    ("items", "workers", "bound"),
    [(10, 4, 2), (10, 4, 1), (12, 3, 3), (3, 4, 2), (0, 2, 1), (10, 1, 2), (20, 6, 4)],
)
def test_run_observes_the_bound_the_start_and_the_token(items, workers, bound):
    seen = sync.run(items, workers, bound=bound)
    support.assert_sync_held(seen, workers, items, bound)
    assert "".join(f"{line}\n" for line in seen.lines()) == expected_lines(workers, items, bound)


def test_a_bound_of_one_is_mutual_exclusion():
    seen = sync.run(8, 4, bound=1)
    assert seen.peak == 1
    assert seen.peaks == [1, 1, 1, 1]


@pytest.mark.parametrize("module", [sync, mpi_sync])
def test_report_refuses_a_broken_bound_or_start(module):
    good = dict(workers=3, bound=2, ready=[3, 3, 3], peaks=[1, 2, 2], order=[0, 1, 2], token=5)
    assert module.Observed(**good).lines()[1] == "bound 2: never exceeded"
    with pytest.raises(RuntimeError, match="bound 2 exceeded: 3 workers inside at once"):
        module.Observed(**{**good, "peaks": [1, 3, 2]}).lines()
    with pytest.raises(RuntimeError, match="worker 1 began with only 2 of 3 ready"):
        module.Observed(**{**good, "ready": [3, 2, 3]}).lines()


def test_trace_names_every_worker_and_the_peak(capsys):
    seen = sync.run(6, 3, bound=2, trace=True)
    err = capsys.readouterr().err.splitlines()
    assert [line.split(" (pid ")[0] for line in err[:3]] == ["worker 0", "worker 1", "worker 2"]
    assert err[0].endswith(" squared 0, 3")
    assert err[3] == f"largest number inside at once: {seen.peak} (bound 2)"


@pytest.mark.parametrize("workers", [1, 2, 3, 4, 7])
def test_same_stdout_both_ways(workers):
    support.same_stdout_both_ways("sync", workers, expected_lines(workers))


@pytest.mark.parametrize(
    ("workers", "args"),
    [(3, ["--bound", "1"]), (4, ["--items", "3"]), (2, ["--items", "0", "--bound", "5"])],
)
def test_same_stdout_both_ways_with_arguments(workers, args):
    shared, mpi = support.both_ways("sync", workers, *args)
    assert mpi.stdout == shared.stdout


def test_mpi_single_process_without_mpiexec():
    done = launch.run(launch.python(MPI, "--items", "4"), timeout=60)
    assert (done.returncode, done.stdout) == (0, expected_lines(1, 4)), done.stderr


def test_mpi_trace_is_rank_0s_and_names_the_peak():
    done = launch.run(launch.mpiexec(3, *launch.python(MPI, "--trace")), timeout=60)
    assert done.returncode == 0, done.stderr
    err = done.stderr.splitlines()
    assert [line.split(" on ")[0] for line in err[:3]] == ["rank 0", "rank 1", "rank 2"]
    peak = int(err[3].removeprefix("largest number inside at once: ").split()[0])
    assert 1 <= peak <= 2


@pytest.mark.parametrize(
    "args",
    [["--bound", "0"], ["--bound", "x"], ["--items", "-1"], ["--workers", "0"],
     ["--fault", "raise:4"]],
)
def test_shared_bad_arguments_one_line_exit_2(args):
    support.assert_bad_arguments(launch.run(launch.python(SHARED, *args), timeout=60), SHARED)


@pytest.mark.parametrize("args", [["--bound", "0"], ["--workers", "2"], ["--fault", "raise:3"]])
def test_mpi_bad_arguments_one_line_from_rank_0_exit_2(args):
    support.assert_bad_arguments(support.run_mpi("sync", 3, *args), MPI)


@pytest.mark.parametrize("worker", [0, 3])
def test_shared_fault_ends_the_run_nonzero(worker):
    # The others wait for the faulty worker's turn with the token: only supervision ends it.
    done = launch.run(launch.python(SHARED, "--fault", f"raise:{worker}"), timeout=support.HANG)
    support.assert_worker_failed(done, worker, SHARED, process=str(worker))


@pytest.mark.parametrize(("ranks", "worker"), [(3, 0), (3, 2), (1, 0)])
def test_mpi_fault_aborts_the_job_promptly(ranks, worker):
    support.assert_job_aborted(
        support.run_mpi("sync", ranks, "--fault", f"raise:{worker}"), worker
    )
