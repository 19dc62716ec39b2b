"""deadlock both ways: the send/send hang made visible (--unsafe), and the fixes that avoid it."""

import json
import multiprocessing as mp
import re
import time
import uuid

import pytest
import support

from bench import faults as harness
from bench import launch
from contract.faults import Fault
from contract.outputs import DEADLOCK_FIXES, deadlock_lines, partner_of
from shared_memory import deadlock
from shared_memory.runtime import Stuck, WorkerFailed

PATIENCE = 2  # seconds: --unsafe runs in the tests are kept short


def expected(workers, size=deadlock.SIZE):
    lines = [f"message: {size} bytes each way between the two workers of a pair"]
    lines += [f"{fix}: pair {a}-{a + 1} completed"
              for fix in DEADLOCK_FIXES for a in range(0, workers - 1, 2)]
    if workers % 2:
        lines.append(f"worker {workers - 1} had no partner")
    return "".join(line + "\n" for line in lines)


# --- the shared contract ---------------------------------------------------------------------

def test_partners_pair_up_and_the_odd_one_is_left_out():
    assert [partner_of(w, 5) for w in range(5)] == [1, 0, 3, 2, None]
    assert [partner_of(w, 1) for w in range(1)] == [None]


def test_the_lines_are_checked_before_they_are_made():
    assert deadlock_lines(10, [[True] * 3, [True] * 3, None]) == expected(3, 10).splitlines()
    with pytest.raises(RuntimeError, match="worker 1 did not receive worker 0's message"):
        deadlock_lines(10, [[True] * 3, [True, False, True]])
    with pytest.raises(RuntimeError, match="no fix ran"):
        deadlock_lines(10, [[True] * 3, []])
    with pytest.raises(RuntimeError, match="partner"):
        deadlock_lines(10, [[True] * 3, None])


# --- multiprocessing, in-process -------------------------------------------------------------

@pytest.mark.timeout(120)
@pytest.mark.parametrize("workers", [1, 2, 3, 7])
@pytest.mark.parametrize("size", [0, 1, 70_000, deadlock.SIZE])
def test_run_every_pair_completes_every_fix(size, workers):
    received = deadlock.run(size, workers)
    assert received == [None if partner_of(w, workers) is None else [True] * 3
                        for w in range(workers)]
    assert mp.active_children() == []


@pytest.mark.timeout(60)
@pytest.mark.parametrize("fix", list(deadlock.FIXES.values()), ids=list(deadlock.FIXES))
def test_each_fix_alone_swaps_more_than_a_pipe_holds(fix):
    ours, theirs = mp.Pipe()
    size = 4 << 20
    other = mp.Process(target=_partner, args=(theirs, fix, size))
    other.start()
    got = fix(ours, b"a" * size, 0)
    assert ours.poll(30)
    assert ours.recv_bytes() == b"ok"
    other.join(30)
    assert other.exitcode == 0
    assert got == b"b" * size


def _partner(conn, fix, size):
    got = fix(conn, b"b" * size, 1)
    conn.send_bytes(b"ok" if got == b"a" * size else b"wrong")


@pytest.mark.timeout(60)
def test_unsafe_join_before_get_is_reported_stuck_and_stopped():
    with pytest.raises(Stuck, match=r"stuck for 1 s: the parent \(pid \d+\) in join\(\) of "
                                    r"deadlock-0 \(pid \d+\), which cannot exit"):
        deadlock.run(deadlock.SIZE, 2, unsafe="queue", patience=1)
    assert mp.active_children() == []


@pytest.mark.timeout(60)
def test_unsafe_both_ends_sending_first_is_reported_stuck_and_stopped():
    with pytest.raises(Stuck, match=r"stuck for 1 s: deadlock-0 \(pid \d+\), deadlock-1 "
                                    r"\(pid \d+\), each in send_bytes\(\) of 1048576 bytes"):
        deadlock.run(deadlock.SIZE, 3, unsafe="pipe", patience=1)
    assert mp.active_children() == []


@pytest.mark.timeout(60)
def test_unsafe_with_reports_that_fit_in_the_pipe_completes():
    # 2 workers x 3 reports of 100 bytes: the queue's pipe holds them all, nobody waits.
    # The patience is a hang's: a loaded machine may take seconds over a run that completes.
    assert deadlock.run(100, 2, unsafe="queue", patience=30) == [[True] * 3] * 2


@pytest.mark.timeout(60)
def test_unsafe_with_messages_that_fit_in_the_pipe_completes():
    assert deadlock.run(100, 3, unsafe="pipe", patience=30) == [[True], [True], None]


@pytest.mark.timeout(60)
def test_trace_names_each_process_and_what_it_did(capsys):
    deadlock.run(10, 3, trace=True)
    lines = capsys.readouterr().err.splitlines()
    fixes = ", ".join(DEADLOCK_FIXES)
    assert [re.sub(r"pid \d+", "pid P", line) for line in lines] == [
        f"deadlock-0, pid P exchanged with worker 1: {fixes}",
        f"deadlock-1, pid P exchanged with worker 0: {fixes}",
        "deadlock-2, pid P had no partner",
    ]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["raise", "kill"])
def test_fault_in_run_raises_worker_failed_and_leaves_nothing(kind):
    with pytest.raises(WorkerFailed, match="deadlock-1"):
        deadlock.run(deadlock.SIZE, 4, fault=Fault(kind, 1))
    assert mp.active_children() == []


# --- whole runs, both ways ---------------------------------------------------------------

@pytest.mark.timeout(200)
@pytest.mark.parametrize("workers", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("size", [None, 1000])
def test_same_stdout_both_ways(workers, size):
    args = [] if size is None else ["--size", str(size)]
    support.same_stdout_both_ways("deadlock", workers, expected(workers, size or deadlock.SIZE),
                                  *args)


@pytest.mark.timeout(60)
def test_mpi_single_process_without_mpiexec():
    done = launch.run(launch.python("message_passing.deadlock", "--size", "7"))
    assert (done.returncode, done.stdout) == (0, expected(1, 7)), done.stderr


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("command", "who"),
    [
        (launch.python("shared_memory.deadlock", "--workers", "3", "--trace"),
         r"deadlock-\d, pid \d+"),
        (launch.mpiexec(3, *launch.python("message_passing.deadlock", "--trace")),
         r"rank \d on \S+"),
    ],
)
def test_trace_goes_to_stderr_one_line_per_worker(command, who):
    done = launch.run(command)
    assert (done.returncode, done.stdout) == (0, expected(3)), done.stderr
    fixes = ", ".join(DEADLOCK_FIXES)
    assert re.fullmatch(
        f"{who} exchanged with worker 1: {fixes}\n{who} exchanged with worker 0: {fixes}\n"
        f"{who} had no partner\n", done.stderr,
    ), done.stderr


# --- --unsafe: the hang, seen, reported and ended --------------------------------------------

# Seconds the processes of an --unsafe run have to be gone once it ended: a process its end
# has just signalled may take a moment, more on a loaded machine. Only waited while one is seen.
SETTLE = 20


def unsafe(command):
    """Run an --unsafe command, and say how it ended and which of its processes outlived it
    by SETTLE s.

    It ends within its patience, but "within" is only held to the run's time-out (a hung run
    never ends): the seconds also hold the start-up, which a loaded machine makes long. What
    shows that the watchdog ended it is its message, and that it waited the patience out."""
    token = uuid.uuid4().hex
    segments, topology = launch.mpich_segments(), launch.hydra_files()
    done = launch.run(command, timeout=support.HANG, env={harness.TOKEN: token}, clean=False)
    deadline = time.monotonic() + SETTLE
    while (alive := harness.processes_with(token)) and time.monotonic() < deadline:
        time.sleep(0.05)
    launch.clean_after_failure(segments, topology)
    assert not done.timed_out, "the watchdog never ended the stuck run"
    assert done.seconds >= PATIENCE, done.seconds
    return done, alive


@pytest.mark.parametrize("workers", [2, 4, 5])
def test_shared_unsafe_ends_within_patience_naming_the_stuck_workers(workers):
    done, alive = unsafe(launch.python(
        "shared_memory.deadlock", "--workers", str(workers), "--unsafe",
        "--patience", str(PATIENCE),
    ))
    assert done.returncode == 1
    assert done.stdout == ""
    assert alive == []
    last = done.stderr.splitlines()[-1]
    assert re.fullmatch(
        rf"python -m shared_memory\.deadlock: error: stuck for {PATIENCE} s: the parent "
        r"\(pid \d+\) in join\(\) of deadlock-0 \(pid \d+\), which cannot exit before its "
        r"queue's feeder thread has written its report .*; still running: (.*)", last,
    ), done.stderr
    named = re.findall(r"deadlock-(\d) \(pid \d+\)", last.split("still running: ")[1])
    # Every paired worker has a large report: each waits for its feeder. (An unpaired
    # worker's small one may wait too, behind theirs, for the queue's one write lock.)
    assert {str(w) for w in range(workers - workers % 2)} <= set(named)


@pytest.mark.parametrize("workers", [2, 5])
def test_shared_unsafe_pipe_ends_within_patience_naming_the_stuck_pairs(workers):
    done, alive = unsafe(launch.python(
        "shared_memory.deadlock", "--workers", str(workers), "--unsafe", "pipe",
        "--patience", str(PATIENCE),
    ))
    assert done.returncode == 1
    assert done.stdout == ""
    assert alive == []
    pairs = ", ".join(rf"deadlock-{w} \(pid \d+\)" for w in range(workers - workers % 2))
    assert re.fullmatch(
        rf"python -m shared_memory\.deadlock: error: stuck for {PATIENCE} s: {pairs}, each "
        r"in send_bytes\(\) of 1048576 bytes to its partner, which is sending too and reads "
        r"nothing", done.stderr.splitlines()[-1],
    ), done.stderr


@pytest.mark.parametrize("ranks", [2, 4, 5])
def test_mpi_unsafe_ends_within_patience_naming_the_stuck_ranks(ranks):
    done, alive = unsafe(launch.mpiexec(ranks, *launch.python(
        "message_passing.deadlock", "--unsafe", "--patience", str(PATIENCE),
    )))
    assert done.returncode not in (0, None)
    assert done.stdout == "" or "Abort" in done.stdout or "BAD TERMINATION" in done.stdout
    assert alive == []
    stuck = re.findall(rf"^rank (\d+) on \S+: stuck in Send to rank (\d+) for {PATIENCE} s$",
                       done.stderr, re.MULTILINE)
    assert stuck, done.stderr
    for rank, partner in stuck:
        assert int(partner) == int(rank) ^ 1 < ranks - ranks % 2


# In a private /dev/shm (support.isolated): empty before the job, so what is there after it
# is the job's, whatever other sessions on the machine create meanwhile.
UNSAFE_ABORT = """
import json, os
from bench import launch
done = launch.run(launch.mpiexec(2, *launch.python(
    "message_passing.deadlock", "--unsafe", "--patience", "1")), timeout=%r)
print(json.dumps([done.returncode, sorted(os.listdir("/dev/shm"))]))
"""


def test_an_unsafe_mpich_abort_leaves_its_segment_and_the_harness_removes_it():
    if launch.mpi_flavour() != "mpich":
        pytest.skip("MPICH's mpich_shm_* files only")
    done = support.isolated(UNSAFE_ABORT % support.HANG, timeout=support.HANG + 30)
    assert done.returncode == 0, done.stderr
    returncode, shm = json.loads(done.stdout)
    assert returncode not in (0, None)
    assert shm == []


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("pattern", "args"), [
    ("shared_memory.deadlock", ["--workers", "4", "--unsafe"]),
    ("shared_memory.deadlock", ["--workers", "4", "--unsafe", "pipe"]),
    ("message_passing.deadlock", ["--unsafe"]),
])
def test_unsafe_with_a_small_message_works(pattern, args):
    # Below the eager limit (MPI) and the pipe's buffer (a queue), the unsafe order completes:
    # why a small test "works".
    command = launch.python(pattern, *args, "--size", "100")
    if pattern.startswith("message_passing"):
        command = launch.mpiexec(4, *command)
    done = launch.run(command)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("message: 100 bytes each way")
    assert "pair 2-3 completed" in done.stdout


# --- bad arguments and faults ------------------------------------------------------------

@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "args", [["--size", "-1"], ["--workers", "0"], ["--patience", "-1"], ["--patience", "x"],
             ["--unsafe", "both"], ["--bogus"], ["--fault", "raise:4"]],
)
def test_shared_bad_arguments_one_line_exit_2(args):
    done = launch.run(launch.python("shared_memory.deadlock", *args))
    support.assert_bad_arguments(done, "shared_memory.deadlock")


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "args", [["--size", "abc"], ["--workers", "2"], ["--patience", "nan"], ["--unsafe", "pipe"],
             ["--fault", "raise:3"]]
)
def test_mpi_bad_arguments_one_line_from_rank_0_exit_2(args):
    done = support.run_mpi("deadlock", 3, *args)
    support.assert_bad_arguments(done, "message_passing.deadlock")


@pytest.mark.parametrize(("workers", "worker"), [(1, 0), (4, 1), (7, 6)])
def test_shared_fault_ends_nonzero_naming_the_worker(workers, worker):
    done = support.run_shared("deadlock", workers, "--fault", f"raise:{worker}")
    support.assert_worker_failed(
        done, worker, "shared_memory.deadlock", process=f"deadlock-{worker}"
    )


@pytest.mark.parametrize(("ranks", "worker"), [(1, 0), (3, 1), (4, 3)])
def test_mpi_fault_aborts_the_job_promptly(ranks, worker):
    support.assert_job_aborted(support.run_mpi("deadlock", ranks, "--fault", f"raise:{worker}"),
                               worker)
