"""Faults, both ways: every pattern made to fail ends promptly, non-zero, with nothing left.

The matrix is ``python -m bench faults --variants``: each case is a test of its own here, so a
failure names its case and says what went wrong (time, status, leftovers).
"""

from __future__ import annotations

import os
import signal
import sys

import pytest

from bench import faults, launch
from bench.patterns import Pair
from contract import cli
from contract import faults as injected
from shared_memory import pool as shared_pool
from shared_memory import runtime

CASES = faults.cases(variants=True)


# A signalled case may wait START_PATIENCE s for its workers, then run to its time-out.
@pytest.mark.timeout(faults.START_PATIENCE + 120)
@pytest.mark.parametrize("case", CASES, ids=[c.label.replace(" ", "-") for c in CASES])
def test_every_case_ends_promptly_and_leaves_nothing(case):
    outcome = faults.run_case(case)
    assert outcome.ok, (outcome.problems(), outcome.finished.stderr[-2000:])


def test_the_matrix_covers_every_pattern_both_ways_with_both_faults():
    injected = {(c.side, c.module, c.fault) for c in faults.cases() if c.injected}
    assert len(injected) == 2 * 15 * 2


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
    said = "contract.faults.InjectedFault: worker 1 fails on purpose (--fault raise:1)\n"
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


def test_a_terminated_run_must_exit_143_saying_so():
    case = faults.Case("multiprocessing", Pair("pool"), "SIGTERM parent")
    said = "python -m shared_memory.pool: terminated (SIGTERM)\n"
    assert outcome(case, returncode=143, stderr=said).problems() == []
    assert outcome(case, returncode=-15, stderr=said).problems() == ["exit -15, not 143"]
    assert outcome(case, returncode=143, stderr="").problems() == [
        "no line on stderr says the run was terminated"]


# --- the pieces ----------------------------------------------------------------------------

def test_kill_is_a_fault_kind():
    assert cli.fault("kill:2") == injected.Fault("kill", 2)


@pytest.mark.timeout(60)
def test_a_killed_pool_worker_ends_the_map_instead_of_hanging():
    # A plain Pool.map would wait forever for the chunk the dead worker held.
    with pytest.raises(runtime.WorkerFailed, match="was killed by signal 9"):
        shared_pool.run(40, 2, fault=injected.Fault("kill", 7))


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


def test_a_signal_never_sent_says_why():
    case = faults.Case("mpi4py", Pair("pool"), "SIGKILL idle worker")
    done = launch.Finished(("x",), 1, "", "", 1.0)
    why = "the workers never all started (4 of 4 seen at once, 3 past start-up, in 45 s)"
    unsent = faults.Outcome(case, done, 1.0, 0, (), 10.0, signalled=False, unsent=why)
    assert f"no signal was sent: {why}" in unsent.problems()


# A worker that lives as long as its parent does (the parent's PID follows the module name),
# past its start-up as a multiprocessing worker is once it ignores SIGINT (become_worker).
WHILE_PARENT_LIVES = ("import os, signal, sys, time; p = int(sys.argv[2]); "
                      "signal.signal(signal.SIGINT, signal.SIG_IGN); "
                      "[time.sleep(0.05) for _ in iter(lambda: os.getppid() == p, False)]")


@pytest.mark.timeout(60)
def test_the_striker_waits_for_every_worker_however_late_they_start(tmp_path, monkeypatch):
    # The workers start only once the striker has looked for them 40 times (2 s at least, and
    # far longer on a loaded machine): it must wait for them, then signal.
    go = tmp_path / "go"
    looks = []

    def workers_of(case, pid):
        looks.append(pid)
        if len(looks) == 40:
            go.touch()
        return real_workers_of(case, pid)

    real_workers_of = faults.workers_of
    monkeypatch.setattr(faults, "workers_of", workers_of)
    script = (f"while [ ! -e {go} ]; do sleep 0.05; done; "
              f"for i in 1 2 3 4; do python3 -c '{WHILE_PARENT_LIVES}' shared_memory.pool $$ & "
              "done; wait")
    striker = faults.Striker(faults.Case("multiprocessing", Pair("pool"), "SIGKILL parent"))
    done = launch.run(["sh", "-c", script], timeout=50, during=striker)
    assert len(looks) > 40
    assert striker.sent is not None, striker.unsent
    assert not done.timed_out


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("command", "why"),
    [(["sleep", "50"],
      "the workers never all started (0 of 4 seen at once, 0 past start-up, in 0.5 s)"),
     (["true"], "the run ended before its workers all started (0 of 4 seen)")],
)
def test_the_striker_gives_up_saying_why_and_ends_the_run(command, why):
    striker = faults.Striker(faults.Case("mpi4py", Pair("pool"), "SIGKILL worker"), patience=0.5)
    done = launch.run(command, timeout=50, during=striker)
    assert (striker.sent, striker.unsent) == (None, why)
    assert not done.timed_out  # the striker ended a run it could not signal


@pytest.mark.timeout(60)
def test_a_launcher_that_outlives_its_job_is_ended(tmp_path, monkeypatch):
    # A "launcher" whose only child lives until the watch has seen it, and which then stays on
    # alone, as Open MPI's deadlocked prterun does. Let go on the second look that finds it:
    # the first has then been checked alive whatever the thread's scheduling.
    seen, looks = tmp_path / "seen", []

    def descendants(pid):
        found = real_descendants(pid)
        if found:
            looks.append(found)
        if len(looks) == 2:
            seen.touch()
        return found

    real_descendants = launch.descendants
    monkeypatch.setattr(launch, "descendants", descendants)
    code = (f"import subprocess, time; subprocess.run(['sh', '-c', 'while [ ! -e {seen} ]; "
            "do sleep 0.05; done']); time.sleep(50)")
    watch = launch.LauncherWatch(grace=0.2)
    done = launch.run([sys.executable, "-c", code], timeout=50, during=watch)
    assert done.returncode == -signal.SIGKILL
    assert watch.killed_after is not None and watch.killed_after >= 0.2


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "code", ["import subprocess; subprocess.run(['sleep', '0.5'])", "import time; time.sleep(1)"],
)
def test_a_launcher_that_ends_with_its_job_or_has_none_is_left_alone(code):
    watch = launch.LauncherWatch(grace=0.2)
    done = launch.run([sys.executable, "-c", code], timeout=50, during=watch)
    assert (done.returncode, watch.killed_after) == (0, None)


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


@pytest.mark.timeout(60)
def test_the_end_of_a_spawned_job_is_not_the_launchers_fault(tmp_path, monkeypatch):
    # A "launcher" whose first job (PMIx namespace @1) runs on while a job it spawned (@2)
    # ends, as MPI_Comm_spawn's children do: the watch must let it be for 20 more looks.
    both, over, seen, after = tmp_path / "both", tmp_path / "over", set(), []

    def descendants(pid):
        found = real_descendants(pid)
        seen.update(found)
        if len(found) == 2:  # the watch has seen both jobs: the spawned one may end
            both.touch()
        elif len(seen) >= 2 and len(found) == 1:  # the spawned job has come and gone
            after.append(pid)
            if len(after) == 20:  # 4 s of looks, far past the grace
                over.touch()
        return found

    real_descendants = launch.descendants
    monkeypatch.setattr(launch, "descendants", descendants)
    code = (
        "import os, subprocess, sys\n"
        "env = lambda n: {**os.environ, 'PMIX_NAMESPACE': f'prterun-x-1@{n}'}\n"
        "wait = 'import os, time\\nwhile not os.path.exists(%r): time.sleep(0.05)'\n"
        f"job = subprocess.Popen([sys.executable, '-c', wait % {str(over)!r}], env=env(1))\n"
        f"subprocess.run([sys.executable, '-c', wait % {str(both)!r}], env=env(2))\n"
        "job.wait()\n"
    )
    watch = launch.LauncherWatch(grace=0.2)
    done = launch.run([sys.executable, "-c", code], timeout=50, during=watch)
    assert (done.returncode, watch.killed_after) == (0, None), done.stderr
