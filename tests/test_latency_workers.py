"""The latency workers from outside: tiny runs of every channel in both modes, bad arguments,
failures, pinning, and nothing left behind in /dev/shm."""

import json
import math
import os

import pytest

from bench import launch
from bench.latency import _timing
from bench.latency.mp import CHANNELS as MP_CHANNELS
from bench.latency.mpi import CHANNELS as MPI_CHANNELS

TINY = ["--sizes", "1", "4096", "--scale", "0.01", "--warmup", "1", "--repeat", "2"]
SHM = "/dev/shm"
PREFIX = "mpvsmpi-lat-"


def command(channel, *args):
    if channel in MPI_CHANNELS:
        return launch.mpiexec(2, *launch.python("bench.latency.mpi", channel, *args))
    return launch.python("bench.latency.mp", channel, *args)


def segments():
    return {name for name in os.listdir(SHM) if name.startswith(PREFIX)}


@pytest.fixture
def no_leftovers():
    """Our shared-memory segments: none new after the test."""
    before = segments()
    yield
    assert segments() - before == set()


def measure(channel, *args, timeout=60):
    done = launch.run(command(channel, *args), timeout=timeout)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 1, "one JSON document, one line, nothing else"
    if channel in MP_CHANNELS:  # no resource_tracker warning, no traceback
        assert done.stderr == ""
    return json.loads(done.stdout)


def check_document(doc, channel, mode, sizes):
    assert set(doc) == {"channel", "mode", "window", "placement", "sizes"}
    assert (doc["channel"], doc["mode"]) == (channel, mode)
    assert doc["window"] == (_timing.DEFAULT_WINDOW if mode == "bandwidth" else None)
    placement = doc["placement"]
    assert set(placement) == {"pinned", "cpus"}
    assert len(placement["cpus"]) == 2
    for cpus in placement["cpus"]:
        assert cpus and all(isinstance(cpu, int) and cpu >= 0 for cpu in cpus)
    assert [entry["size"] for entry in doc["sizes"]] == sizes
    for entry in doc["sizes"]:
        assert isinstance(entry["iterations"], int) and entry["iterations"] >= 1
        assert len(entry["warmup"]) == 1 and len(entry["values"]) == 2
        for value in entry["warmup"] + entry["values"]:
            assert isinstance(value, float) and value > 0 and math.isfinite(value)
        if mode == "latency":
            assert entry["window"] is None
        else:
            assert 1 <= entry["window"] <= doc["window"]
            assert entry["iterations"] % entry["window"] == 0
        if mode == "bandwidth" and channel.startswith("shm-"):
            assert 1 <= entry["slots"] <= entry["window"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("mode", _timing.MODES)
@pytest.mark.parametrize("channel", [*MP_CHANNELS, *MPI_CHANNELS])
def test_tiny_run_of_every_channel(channel, mode, no_leftovers):
    doc = measure(channel, "--mode", mode, *TINY)
    check_document(doc, channel, mode, [1, 4096])
    assert doc["placement"]["pinned"] is False


@pytest.mark.timeout(60)
@pytest.mark.parametrize("channel", ["shm-spin", "mpi-buffer"])
def test_pin_records_the_chosen_cpus(channel, no_leftovers):
    available = sorted(os.sched_getaffinity(0))
    a, b = available[0], available[-1]  # two CPUs if we have them, else both on one
    doc = measure(channel, "--pin", str(a), str(b), *TINY)
    assert doc["placement"] == {"pinned": True, "cpus": [[a], [b]]}


@pytest.mark.timeout(60)
def test_large_message_and_ring_smaller_than_window(no_leftovers):
    # 16 MiB: the window shrinks to 2 and the ring to 2 slots; the data still flows.
    doc = measure("shm-semaphore", "--mode", "bandwidth", "--sizes", "16777216",
                  "--scale", "0.01", "--warmup", "0", "--repeat", "1")
    (entry,) = doc["sizes"]
    assert (entry["window"], entry["slots"]) == (2, 2)
    doc = measure("shm-spin", "--mode", "bandwidth", "--sizes", "1048576", "--scale", "0.01",
                  "--warmup", "0", "--repeat", "1")
    (entry,) = doc["sizes"]
    assert entry["slots"] < entry["window"]  # the sender really waits for free slots


BAD = [
    ["no-such-channel"],
    ["{channel}", "--sizes", "0"],
    ["{channel}", "--sizes", "12x"],
    ["{channel}", "--sizes", str(2**31)],
    ["{channel}", "--mode", "throughput"],
    ["{channel}", "--scale", "0"],
    ["{channel}", "--repeat", "0"],
    ["{channel}", "--pin", "0"],
    ["{channel}", "--pin", "0", "4096"],
    ["{channel}", "--fault", "raise:2"],
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("args", BAD, ids=" ".join)
@pytest.mark.parametrize("channel", ["queue", "mpi-pickle"])
def test_bad_arguments_one_line_status_2(channel, args):
    argv = [arg.format(channel=channel) for arg in args]
    program = "bench.latency.mpi" if channel in MPI_CHANNELS else "bench.latency.mp"
    done = launch.run(launch.python(program, *argv), timeout=30)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith(f"python -m {program}: error:")


@pytest.mark.timeout(60)
def test_bad_arguments_under_mpiexec_said_once():
    done = launch.run(
        launch.mpiexec(2, *launch.python("bench.latency.mpi", "mpi-buffer", "--sizes", "-1")),
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stderr.count("error:") == 1


@pytest.mark.timeout(60)
@pytest.mark.parametrize("ranks", [1, 3])
def test_mpi_needs_exactly_two_ranks(ranks):
    done = launch.run(
        launch.mpiexec(ranks, *launch.python("bench.latency.mpi", "mpi-buffer", *TINY)),
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("needs exactly 2 ranks") == 1


@pytest.mark.timeout(60)
@pytest.mark.parametrize("worker", [0, 1])
@pytest.mark.parametrize("channel", MP_CHANNELS)
def test_a_failing_process_ends_the_run(channel, worker, no_leftovers):
    # The follower fails with the leader already waiting inside a batch (or the
    # other way round): the run ends at once, status 1, no JSON, nothing left.
    done = launch.run(
        launch.python("bench.latency.mp", channel, *TINY, "--fault", f"raise:{worker}"),
        timeout=30,
    )
    assert not done.timed_out, "the parent hung on a dead child"
    assert done.returncode == 1
    assert done.stdout == ""
    assert f"worker {worker} fails on purpose" in done.stderr
    if worker == 1:
        assert "error: the child process exited with status 1" in done.stderr
    assert "resource_tracker" not in done.stderr


@pytest.mark.timeout(60)
def test_a_failing_rank_aborts_the_job():
    done = launch.run(command("mpi-buffer", *TINY, "--fault", "raise:1"), timeout=30)
    assert not done.timed_out, "the job hung instead of aborting"
    assert done.returncode not in (0, None)
    assert done.stdout == ""
    assert "worker 1 fails on purpose" in done.stderr


def test_schedule_falls_with_size_and_scales():
    counts = [_timing.iterations(size) for size in _timing.DEFAULT_SIZES]
    assert counts == sorted(counts, reverse=True)
    assert counts[0] >= 1000 and 2 <= counts[-1] <= 5
    assert _timing.iterations(1, scale=0.01) == 10
    assert _timing.iterations(1 << 24, scale=0.001) == 1


def test_steps_keep_windows_whole_and_memory_bounded():
    plan = _timing.Plan("bandwidth", _timing.DEFAULT_SIZES, 2, 10, 1.0, 64)
    for step in plan.steps():
        assert step.iterations % step.window == 0 and step.windows >= 1
        assert step.window * step.size <= max(step.size, _timing.WINDOW_BYTES)
        slots = _timing.slots(step.size, step.window)
        assert 1 <= slots <= step.window
    latency = _timing.Plan("latency", (64,), 0, 1, 1.0, 64).step(64)
    assert latency.window is None
    assert latency.per_message(2.0 * latency.iterations) == pytest.approx(1.0)  # one way
