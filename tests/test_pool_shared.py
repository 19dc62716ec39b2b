import pytest
import support

from bench import launch
from shared_memory import pool


@pytest.mark.parametrize("workers", [1, 2, 4])
@pytest.mark.parametrize("items", [0, 1, 3, 100])
def test_run_squares(items, workers):
    assert pool.run(items, workers) == [i * i for i in range(items)]


def test_trace_names_every_item_once(capsys):
    assert pool.run(20, 3, trace=True) == [i * i for i in range(20)]
    lines = capsys.readouterr().err.splitlines()
    assert lines and all("Worker" in line and " squared " in line for line in lines)
    assert sum(line.count(",") + 1 for line in lines) >= 1


def test_cli_default_output():
    done = launch.run(launch.python("shared_memory.pool"), timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{[i * i for i in range(100)]}\n"
    assert done.stderr == ""


@pytest.mark.parametrize(
    "args", [["--items", "-1"], ["--workers", "0"], ["--items", "abc"], ["--bogus"]]
)
def test_cli_bad_arguments_one_line_exit_2(args):
    done = launch.run(launch.python("shared_memory.pool", *args), timeout=60)
    support.assert_bad_arguments(done, "shared_memory.pool")


@pytest.mark.parametrize("worker", [0, 3])
def test_fault_raise_ends_the_run_nonzero_naming_the_worker(worker):
    done = launch.run(
        launch.python("shared_memory.pool", "--fault", f"raise:{worker}"), timeout=60
    )
    assert not done.timed_out
    assert done.returncode == 1
    assert f"which took item {worker}, fails on purpose" in done.stderr.splitlines()[-1]
    assert "RemoteTraceback" in done.stderr  # the worker's own traceback, as the cause


def test_fault_naming_a_missing_worker_is_a_bad_argument():
    done = launch.run(launch.python("shared_memory.pool", "--fault", "raise:4"), timeout=60)
    assert done.returncode == 2
    assert done.stderr == (
        "python -m shared_memory.pool: error: --fault raise:4 names no worker (there are 4)\n"
    )
