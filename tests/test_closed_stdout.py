"""Every entry point ends quietly when its stdout is closed early, as under ``| head``.

Each program is started with stdout the write end of a pipe whose read end is already closed:
its first write to stdout fails (EPIPE), whatever the timing. A few also run with a reader
that takes 20 bytes of a long output and closes, as ``| head -c 20`` does. Each must end
within its time limit, with no traceback, no error line and no "Exception ignored" on stderr,
and with the status a shell would show as 141:

* ``python -m`` (patterns both ways, MPI singletons, ``bench``): exit status 141
  (``contract.streams.end_if_stdout_closed``, from the guard around every main);
* ``python -m examples...``: killed by SIGPIPE (-13 here, 141 in a shell): the examples' package
  restores SIGPIPE's default action (examples/__init__.py says why);
* ``mpiexec``: whatever the launcher does, since it, not a rank, writes to the closed pipe
  (``LAUNCHER_STATUS``; docs/faults.md, "A closed stdout").

The environment leaves stdout buffered (no ``PYTHONUNBUFFERED``), as a user's is: a short
output then reaches the pipe only when it is flushed, the case the guards must flush for.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bench import launch
from bench.patterns import MODULES

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
EXAMPLES = sorted(p.stem for p in (ROOT / "examples" / "shared_memory").glob("*.py")
                  if p.stem != "__init__")
RANKS = 3  # the pipeline's three stages; enough for every pattern's collectives
BIG = ("--items", "200000")  # pool's list: 1.9 MB on stdout, many writes

QUIET_EXIT = 141  # contract.streams.CLOSED_STDOUT_STATUS, as a shell shows a SIGPIPE death
SIGPIPED = -signal.SIGPIPE  # how subprocess reports a process SIGPIPE killed
# What mpiexec ends with (measured 2026-12-02, MPICH 5.0.2 and Open MPI 5.0.11): MPICH's is
# killed by SIGPIPE when it forwards the output; Open MPI's prterun drops the output it cannot
# forward and exits 0 after a job that went well.
LAUNCHER_STATUS = {"mpich": SIGPIPED, "openmpi": 0}

pytestmark = pytest.mark.timeout(120)


def run_closed(argv: list[str], *, read: int = 0, timeout: float = 60) -> tuple[int, str]:
    """Run ``argv`` with stdout a pipe whose reader is gone: at once (``read`` 0), or after it
    read ``read`` bytes. Returns (exit status, stderr). The run has a process group of its own,
    killed after it ends or at ``timeout`` (a failure), as ``launch.run`` does."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    # A singleton's MPI_Comm_spawn finds Open MPI's prte beside our interpreter, on PATH.
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    before, topology = launch.mpich_segments(), launch.hydra_files()
    reader, writer = os.pipe()
    if not read:
        os.close(reader)
    with launch.backing_directory() as backing:
        process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=writer, stderr=subprocess.PIPE, text=True,
            start_new_session=True, cwd=ROOT, env={**env, **launch.mpi_environment(), **backing},
        )
        os.close(writer)
        if read:
            with os.fdopen(reader, "rb") as head:
                got = head.read(read)
            assert len(got) == read
        try:
            _, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            launch.kill_group(process.pid)
            process.communicate()
            pytest.fail(f"still running after {timeout} s: {' '.join(argv)}")
        finally:
            launch.kill_group(process.pid)  # a worker or rank left behind ends with the test
    if launch.is_launcher(argv) and launch.mpi_flavour() == "mpich":
        # MPICH's ranks, ended by their proxies once SIGPIPE killed mpiexec, leave their
        # node's segment and the launcher its topology file.
        launch.clean_after_failure(before, topology)
    return process.returncode, stderr


def assert_quiet(stderr: str) -> None:
    """Nothing on stderr about the closed stdout (Open MPI's own box is not the program's)."""
    for word in ("Traceback", "Error", "error", "Exception ignored"):
        assert word not in stderr, stderr
    assert launch.without_launcher_notice(stderr) == "", stderr


def assert_ends_quietly(argv: list[str], *, expected: int, read: int = 0) -> None:
    """:func:`run_closed`, then: nothing said about it on stderr, and exit status ``expected``."""
    status, stderr = run_closed(argv, read=read)
    assert_quiet(stderr)
    assert status == expected


def launcher_status() -> int:
    return LAUNCHER_STATUS[launch.mpi_flavour()]


@pytest.mark.parametrize("pattern", MODULES)
def test_shared_memory_pattern(pattern):
    assert_ends_quietly(
        launch.python(f"shared_memory.{pattern}", "--workers", "3"),
        expected=QUIET_EXIT,
    )


@pytest.mark.parametrize("pattern", MODULES)
def test_message_passing_pattern_without_mpiexec(pattern):
    assert_ends_quietly(launch.python(f"message_passing.{pattern}"), expected=QUIET_EXIT)


@pytest.mark.parametrize("pattern", MODULES)
def test_message_passing_pattern_under_mpiexec(pattern):
    assert_ends_quietly(
        launch.mpiexec(RANKS, *launch.python(f"message_passing.{pattern}")),
        expected=launcher_status(),
    )


def test_spawned_workers_under_a_singleton():
    # spawn --dynamic: the workers MPI_Comm_spawn starts share the parent's closed stdout.
    assert_ends_quietly(launch.python("message_passing.spawn", "--dynamic"), expected=QUIET_EXIT)


@pytest.mark.parametrize("read", [0, 20])
@pytest.mark.parametrize("side", ["shared_memory", "message_passing"])
def test_a_long_output_fails_in_print_not_at_exit(side, read):
    # Far more than the buffer and the pipe hold: the error comes from print() itself.
    assert_ends_quietly(launch.python(f"{side}.pool", *BIG), read=read, expected=QUIET_EXIT)


def test_a_long_output_under_mpiexec():
    assert_ends_quietly(
        launch.mpiexec(RANKS, *launch.python("message_passing.pool", *BIG)), read=20,
        expected=launcher_status())


@pytest.mark.parametrize("example", EXAMPLES)
def test_shared_memory_example(example):
    assert_ends_quietly(launch.python(f"examples.shared_memory.{example}"), expected=SIGPIPED)


@pytest.mark.parametrize("example", EXAMPLES)
def test_message_passing_example_under_mpiexec(example):
    assert_ends_quietly(
        launch.mpiexec(RANKS, *launch.python(f"examples.message_passing.{example}")),
        expected=launcher_status())


@pytest.mark.parametrize("side", ["shared_memory", "message_passing"])
def test_help(side):
    # argparse prints the help and exits: contract.cli flushes it before it does.
    assert_ends_quietly(launch.python(f"{side}.pool", "--help"), expected=QUIET_EXIT)


def test_every_example_was_found():
    assert EXAMPLES == sorted(MODULES)


OLD, NEW = str(FIXTURES / "latency-old.json"), str(FIXTURES / "latency-new.json")


def bench_commands(out: str) -> dict[str, list[str]]:
    """One short run of every ``bench`` subcommand that prints (results written to ``out``)."""
    return {
        "show": ["show", NEW],
        "compare": ["compare", OLD, NEW],
        "report": ["report", NEW, "--output", out],
        "verify": ["verify", "pool", "--workers", "2", "--quiet"],
        "faults": ["faults", "--patterns", "pool", "--kinds", "raise", "--external",
                   "--sides", "multiprocessing", "--limit", "20", "--quiet"],
        "latency": ["latency", "--channels", "pipe-bytes", "--sizes", "1", "--repeat", "1",
                    "--scale", "0.01", "--modes", "latency", "--quiet", "--output-dir", out],
        "square": ["square", "--patterns", "pool", "--items", "100", "--workers", "1",
                   "--array-items", "1000", "--crossover-costs", "0", "--crossover-items", "100",
                   "--repeat", "1", "--warmup", "0", "--startup-runs", "0", "--no-naive",
                   "--quiet", "--output-dir", out],
        "startup": ["startup", "--runs", "1", "--warmup", "0", "--quiet", "--output-dir", out],
        "help": ["--help"],
    }


@pytest.mark.parametrize("command", list(bench_commands("")))
def test_bench(command, tmp_path):
    assert_ends_quietly(
        launch.python("bench", *bench_commands(str(tmp_path))[command]),
        expected=QUIET_EXIT,
    )


def test_a_broken_pipe_elsewhere_is_still_reported():
    # Only stdout's reader going away ends quietly: the same error from another pipe (a
    # worker's, the Manager's socket) must still be a traceback and an error line.
    code = (
        "import os, sys\n"
        "from shared_memory import runtime\n"
        "r, w = os.pipe(); os.close(r)\n"
        "with runtime.report_failures('prog'):\n"
        "    os.write(w, b'x')\n"
    )
    done = launch.run([sys.executable, "-c", code], timeout=60)
    assert done.returncode == 1
    assert "Traceback" in done.stderr
    assert done.stderr.splitlines()[-1] == "prog: error: BrokenPipeError: [Errno 32] Broken pipe"
