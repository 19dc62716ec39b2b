"""The manager pattern: shared_memory.manager in-process, and both sides as whole programs."""

import multiprocessing
import os
import stat

import pytest
import support

from bench import launch
from contract import unit
from shared_memory import manager


def doubles(items):
    return {i: 2 * i for i in range(items)}


def run_shared(workers, *args):
    return support.run_shared("manager", workers, *args)


def run_mpi(ranks, *args):
    return support.run_mpi("manager", ranks, *args)


@pytest.mark.parametrize(("items", "workers"), [(0, 1), (0, 4), (1, 1), (10, 4), (3, 7), (100, 3)])
def test_run_fills_the_dict(items, workers):
    table = manager.run(items, workers)
    assert table == doubles(items)
    assert list(table) == list(range(items))  # sorted by key, whoever finished first


@pytest.mark.parametrize(("items", "workers"), [(0, 3), (10, 4), (3, 7), (11, 3)])
def test_shares_cover_every_key_once_and_are_balanced(items, workers):
    parts = [unit.share(items, workers, w) for w in range(workers)]
    assert [k for part in parts for k in part] == list(range(items))
    assert max(map(len, parts)) - min(map(len, parts)) <= 1


def test_the_manager_listens_on_a_private_unix_socket_with_the_parents_authkey():
    # What the module's docstring claims about Manager()'s defaults, checked here.
    with multiprocessing.Manager() as server:
        assert isinstance(server.address, str)
        assert stat.S_ISSOCK(os.stat(server.address).st_mode)
        assert stat.S_IMODE(os.stat(os.path.dirname(server.address)).st_mode) == 0o700
        assert bytes(server._authkey) == bytes(multiprocessing.current_process().authkey)
        assert len(bytes(server._authkey)) == 32


@pytest.mark.parametrize("workers", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("variant", [[], ["--rma"]], ids=["gather", "rma"])
def test_same_stdout_both_ways(workers, variant):
    support.same_stdout_both_ways("manager", workers, f"{doubles(10)}\n", mpi=tuple(variant))


@pytest.mark.parametrize(("workers", "items"), [(3, 0), (7, 3), (2, 101)])
@pytest.mark.parametrize("variant", [[], ["--rma"]], ids=["gather", "rma"])
def test_no_items_and_more_workers_than_items(workers, items, variant):
    left, right = support.both_ways("manager", workers, "--items", str(items), mpi=tuple(variant))
    assert left.stdout == right.stdout == f"{doubles(items)}\n"


@pytest.mark.parametrize(
    "side", [run_shared, lambda n, *a: run_mpi(n, *a), lambda n, *a: run_mpi(n, "--rma", *a)],
    ids=["shared_memory", "message_passing", "message_passing-rma"],
)
def test_trace_names_who_stored_which_keys(side):
    done = side(3, "--trace", "--items", "7")
    assert done.returncode == 0, done.stderr
    stored = [line for line in done.stderr.splitlines() if " stored " in line]
    assert [line.split(" stored ")[1] for line in stored] == ["0-2", "3-4", "5-6"]


def test_trace_shows_the_manager_address():
    done = run_shared(2, "--trace")
    assert done.stderr.startswith("manager server at '/"), done.stderr


@pytest.mark.parametrize("args", [["--items", "-1"], ["--items", "x"], ["--group", "2"]])
@pytest.mark.parametrize("side", ["shared_memory", "message_passing"])
def test_bad_arguments_one_line_exit_2(side, args):
    done = (run_shared if side == "shared_memory" else run_mpi)(3, *args)
    support.assert_bad_arguments(done, f"{side}.manager")


def test_rma_is_not_an_option_of_the_shared_memory_side():
    done = run_shared(2, "--rma")
    assert done.returncode == 2
    assert "unrecognized arguments: --rma" in done.stderr


@pytest.mark.parametrize("worker", [0, 3])
def test_fault_shared_memory_ends_nonzero_naming_the_worker(worker):
    done = launch.run(
        launch.python("shared_memory.manager", "--fault", f"raise:{worker}"), timeout=support.HANG
    )
    support.assert_worker_failed(done, worker, "shared_memory.manager", process=f"store-{worker}")


@pytest.mark.parametrize("worker", [0, 3])
@pytest.mark.parametrize("variant", [[], ["--rma"]], ids=["gather", "rma"])
def test_fault_mpi_aborts_the_job(worker, variant):
    done = support.run_mpi("manager", 4, "--fault", f"raise:{worker}", *variant)
    support.assert_job_aborted(done, worker)
