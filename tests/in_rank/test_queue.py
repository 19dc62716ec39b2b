"""Run inside every rank: ``mpiexec -n N python -m pytest --with-mpi tests/in_rank``."""

import pytest
import support
from mpi4py import MPI

from message_passing import queue

COMM = MPI.COMM_WORLD


def check_on_rank_0(consumed, items, comm=COMM):
    """Nothing lost, nothing twice, and only consumers took anything; ``None`` off rank 0."""
    if comm.Get_rank() != 0:
        assert consumed is None
        return
    assert len(consumed.taken) == comm.Get_size()
    support.assert_each_item_once(consumed, items)
    if comm.Get_size() > 1:
        assert consumed.taken[0] == []  # rank 0 only hands out work when it has company


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("batch", [1, 4])
@pytest.mark.parametrize("items", [0, 1, COMM.Get_size() - 1, 100])
def test_every_item_consumed_once(items, batch):
    check_on_rank_0(queue.run(items, batch=batch), items)


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize(("items", "batch"), [(10_000, 1), (100_000, 100)])
def test_many_items(items, batch):
    check_on_rank_0(queue.run(items, batch=batch), items)


@pytest.mark.mpi(min_size=2)
@pytest.mark.timeout(60)
def test_back_to_back_runs_do_not_mix():
    # A consumer that has left a run sends the next run's first request at once; on the
    # caller's communicator rank 0, still serving the others, took it for one of this
    # run's requests and left a consumer unanswered (it hung at 4 ranks). Each run now
    # talks on a Dup of its own.
    for items in range(30):
        check_on_rank_0(queue.run(items % 4), items % 4)


@pytest.mark.mpi(min_size=2)
def test_on_sub_communicators():
    # Even and odd ranks each run their own queue; at 2 ranks each is a single rank.
    with support.halves(COMM) as half:
        check_on_rank_0(queue.run(500, half), 500, half)


@pytest.mark.mpi(min_size=2)
def test_alone_on_comm_self():
    check_on_rank_0(queue.run(30, MPI.COMM_SELF), 30, MPI.COMM_SELF)


@pytest.mark.mpi(min_size=2)
def test_trace_is_written_by_rank_0_only(capsys):
    queue.run(20, trace=True)
    err = capsys.readouterr().err
    if COMM.Get_rank() == 0:
        rows = err.splitlines()
        assert [row.split(" on ")[0] for row in rows] == [
            f"rank {r}" for r in range(1, COMM.Get_size())
        ]
        assert sum(int(row.split(" took ")[1].split()[0]) for row in rows) == 20
    else:
        assert err == ""
