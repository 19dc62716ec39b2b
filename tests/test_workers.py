"""shared_memory.runtime: a failed child is reported, never waited on forever."""

import multiprocessing as mp
import time

import pytest

from shared_memory import runtime


def wait_at(barrier):
    barrier.wait()


def fail():
    raise SystemExit(3)


def sleep_then_ok():
    time.sleep(0.2)


def test_all_good_returns_after_every_process_ended():
    processes = [mp.Process(target=sleep_then_ok) for _ in range(3)]
    runtime.start_and_supervise(processes)
    assert [p.exitcode for p in processes] == [0, 0, 0]


@pytest.mark.timeout(30)
def test_one_failure_stops_the_rest_instead_of_hanging():
    # Three processes wait at a barrier for a fourth that fails: join() alone hangs.
    barrier = mp.Barrier(4)
    processes = [mp.Process(target=wait_at, args=(barrier,)) for _ in range(3)]
    processes.append(mp.Process(target=fail, name="the-failing-one"))
    start = time.monotonic()
    with pytest.raises(runtime.WorkerFailed, match="the-failing-one exited with status 3"):
        runtime.start_and_supervise(processes)
    assert time.monotonic() - start < 10
    assert not any(p.is_alive() for p in processes)


def test_killed_worker_is_named_with_its_signal():
    process = mp.Process(target=time.sleep, args=(60,), name="victim")
    process.start()
    process.kill()
    with pytest.raises(runtime.WorkerFailed, match="victim was killed by signal 9"):
        runtime.supervise([process])


def test_report_failures_is_one_line_and_status_1(capsys):
    process = mp.Process(target=fail, name="w")
    with pytest.raises(SystemExit) as exit_, runtime.report_failures("prog"):
        runtime.start_and_supervise([process])
    assert exit_.value.code == 1
    assert capsys.readouterr().err == "prog: error: worker w exited with status 3\n"


def close_and_fail(conn):
    conn.close()
    raise SystemExit(4)


@pytest.mark.timeout(30)
def test_collect_names_a_worker_that_closed_its_pipe_and_failed():
    # The parent may see the pipe's end of file before the child's exit: it must still
    # report the process (WorkerFailed), not the pipe (EOFError).
    for _ in range(5):
        read, write = mp.Pipe(duplex=False)
        process = mp.Process(target=close_and_fail, args=(write,), name="closer")
        with pytest.raises(runtime.WorkerFailed, match="closer exited with status 4"):
            runtime.start_and_collect([process], [(read, write)])


# A parent inside report_failures (SIGTERM raises Terminated there) starts a child and sends
# it SIGTERM at once, as Pool.terminate() and runtime.stop() do to a worker just forked. The
# child must die of it, every time: before the fork guard, 25 children in 40 lived on.
SIGTERM_AT_ONCE = """
import time, multiprocessing
from shared_memory import runtime
with runtime.report_failures("t"):
    codes = []
    for _ in range(40):
        child = multiprocessing.Process(target=time.sleep, args=(60,))
        child.start()
        child.terminate()
        child.join(10)
        codes.append(child.exitcode)
        if child.exitcode is None:
            child.kill()
            child.join()
print(codes)
"""


@pytest.mark.timeout(120)
def test_a_child_forked_under_report_failures_never_loses_a_sigterm():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", SIGTERM_AT_ONCE], capture_output=True,
                          text=True, timeout=100)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str([-15] * 40)


# The other half: the parent's own SIGTERM, arriving while it forks (SIGTERM blocked), must still
# end it with 143, and Ctrl-C with 130, not be raised inside a fork hook, where Python prints
# the exception and drops it.
FORKING_WHEN_SIGNALLED = """
import multiprocessing
from shared_memory import runtime
with runtime.report_failures("t"):
    print("forking", flush=True)
    for _ in range(5000):
        child = multiprocessing.Process(target=int)
        child.start()
        child.join()
        child.close()  # now: collected later, its finalizer could be where the raise lands
print("never stopped")
"""


@pytest.mark.timeout(300)
@pytest.mark.parametrize("delay", [n / 50 for n in range(12)])
@pytest.mark.parametrize("name, status, line", [("SIGTERM", 143, "terminated (SIGTERM)"),
                                                ("SIGINT", 130, "interrupted")])
def test_a_signal_to_a_parent_that_forks_ends_it(name, status, line, delay):
    import signal
    import subprocess
    import sys

    parent = subprocess.Popen([sys.executable, "-c", FORKING_WHEN_SIGNALLED], text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert parent.stdout.readline() == "forking\n"
        time.sleep(delay)  # any moment of the fork loop will do: each must end the same way
        parent.send_signal(signal.Signals[name])
        out, err = parent.communicate(timeout=60)
    finally:
        parent.kill()
    assert parent.returncode == status, err
    assert err == f"t: {line}\n"
