"""Faults, both ways: every pattern made to fail ends promptly, non-zero, with nothing left.

The matrix is ``python -m bench faults --variants``: each case is a test of its own here, so a
failure names its case and says what went wrong (time, status, leftovers).
"""

from __future__ import annotations

import os
import signal

import pytest

from bench import contract, faults, launch
from bench.patterns import Pair
from shared_memory import _workers
from shared_memory import pool as shared_pool

CASES = faults.cases(variants=True)


@pytest.mark.timeout(90)
@pytest.mark.parametrize("case", CASES, ids=[c.label.replace(" ", "-") for c in CASES])
def test_every_case_ends_promptly_and_leaves_nothing(case):
    outcome = faults.run_case(case)
    assert outcome.ok, (outcome.problems(), outcome.finished.stderr[-2000:])


def test_the_matrix_covers_every_pattern_both_ways_with_both_faults():
    injected = {(c.side, c.module, c.fault) for c in faults.cases() if c.injected}
    assert len(injected) == 2 * 10 * 2


# --- the checker must be able to fail ------------------------------------------------------

CASE = faults.Case("multiprocessing", Pair("pool"), "kill:1")
NAMED = "python -m shared_memory.pool: error: worker ForkPoolWorker-2 was killed by signal 9\n"


def outcome(case=CASE, returncode=1, stderr=NAMED, seconds=0.5, procs=0, files=()):
    done = launch.Finished(("x",), returncode, "", stderr, seconds)
    return faults.Outcome(case, done, seconds, procs, tuple(files), limit=10.0)


def test_a_good_ending_passes():
    assert outcome().problems() == []


@pytest.mark.parametrize(
    "changes, problem",
    [
        ({"returncode": 0}, "exit 0"),
        ({"returncode": None, "seconds": 40.0}, "took 40.0 s"),
        ({"seconds": 10.5}, "took 10.5 s"),
        ({"stderr": "Killed\n"}, "no line on stderr names the failed worker"),
        ({"procs": 2}, "2 processes left"),
        ({"files": ["/dev/shm/psm_1234"]}, "files left: /dev/shm/psm_1234"),
        ({"stderr": NAMED + "resource_tracker: There appear to be 1 leaked\n"},
         "resource_tracker warning"),
    ],
)
def test_each_way_of_ending_badly_is_reported(changes, problem):
    assert any(p.startswith(problem) for p in outcome(**changes).problems())


def test_the_victims_own_words_are_not_a_report():
    # Only the victim spoke: the parent (or mpiexec) that should have noticed said nothing.
    mp = outcome(stderr="worker 1 kills itself with SIGKILL (--fault kill:1)\n")
    assert "nobody reported the failed worker" in mp.problems()
    case = faults.Case("mpi4py", Pair("pool"), "raise:1")
    said = "bench.contract.InjectedFault: worker 1 fails on purpose (--fault raise:1)\n"
    assert "nobody reported the failed worker" in outcome(case, stderr=said).problems()
    reported = said + "rank 1 on vm: error: InjectedFault: worker 1 fails on purpose\n"
    assert outcome(case, stderr=reported).problems() == []


def test_mpichs_notice_on_stdout_is_a_report():
    case = faults.Case("mpi4py", Pair("pool"), "SIGKILL worker")
    done = launch.Finished(("x",), 9, "=   BAD TERMINATION OF ONE OF YOUR APPLICATION PROCESSES\n",
                           "", 0.1)
    assert faults.Outcome(case, done, 0.1, 0, (), limit=10.0).problems() == []


def test_a_raise_must_show_the_exception():
    case = faults.Case("mpi4py", Pair("pool"), "raise:1")
    assert "the exception is not on stderr" in outcome(case, stderr="rank 1 died\n").problems()


def test_an_interrupted_run_must_exit_130_without_a_traceback():
    case = faults.Case("multiprocessing", Pair("pool"), "SIGINT group")
    assert outcome(case, returncode=130, stderr="").problems() == []
    assert outcome(case, returncode=1, stderr="").problems() == ["exit 1, not 130"]
    traced = outcome(case, returncode=130, stderr="Traceback (most recent call last):\n")
    assert traced.problems() == ["a traceback on stderr"]


# --- the pieces ----------------------------------------------------------------------------

def test_kill_is_a_fault_kind():
    assert contract.fault("kill:2") == contract.Fault("kill", 2)


@pytest.mark.timeout(60)
def test_a_killed_pool_worker_ends_the_map_instead_of_hanging():
    # A plain Pool.map would wait forever for the chunk the dead worker held.
    with pytest.raises(_workers.WorkerFailed, match="was killed by signal 9"):
        shared_pool.run(40, 2, fault=contract.Fault("kill", 7))


@pytest.mark.timeout(60)
def test_the_process_finder_sees_a_process_by_its_token():
    # A process that left its parent behind, as a leftover would.
    done = launch.run(
        ["sh", "-c", "sleep 30 >/dev/null 2>&1 & echo $!"],
        env={faults.TOKEN: "probe-token"}, timeout=30,
    )
    pid = int(done.stdout)
    try:
        assert faults.processes_with("probe-token") == [pid]
    finally:
        os.kill(pid, signal.SIGKILL)


@pytest.mark.timeout(120)
def test_cli_prints_the_table_and_exits_0_when_every_case_passes():
    done = launch.run(
        launch.python("bench", "faults", "--patterns", "barrier", "--kinds", "raise",
                      "--external", "--quiet"),
        timeout=100,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "barrier" in done.stdout
    assert "2 of 2 cases ended within 10 s" in done.stdout


@pytest.mark.parametrize(
    "args", [["--patterns", "nope"], ["--kinds", "explode"], ["--limit", "-1"],
             ["--external", "nope"]],
)
def test_cli_bad_arguments_one_line_exit_2(args):
    done = launch.run(launch.python("bench", "faults", *args), timeout=60)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
