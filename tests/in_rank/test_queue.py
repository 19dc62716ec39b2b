"""Run inside every rank: ``mpiexec -n N python -m pytest --with-mpi tests/in_rank``."""

import pytest
import support
from mpi4py import MPI

from contract import unit
from message_passing import queue

COMM = MPI.COMM_WORLD


def check_on_rank_0(consumed, items, comm=COMM, producer_works=False):
    """Nothing lost, nothing twice, and only consumers took anything; ``None`` off rank 0."""
    if comm.Get_rank() != 0:
        assert consumed is None
        return
    assert len(consumed.taken) == comm.Get_size()
    support.assert_each_item_once(consumed, items)
    if comm.Get_size() > 1 and not producer_works:
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


# --producer-works: rank 0 squares blocks too, answering requests between them.


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("batch", [1, 4])
@pytest.mark.parametrize("items", [0, 1, COMM.Get_size() - 1, 100, 10_000])
def test_producer_works_every_item_consumed_once(items, batch):
    consumed = queue.run(items, batch=batch, producer_works=True)
    check_on_rank_0(consumed, items, producer_works=True)
    if consumed is not None and items >= 2 * batch * COMM.Get_size():
        # Before its first block rank 0 answers at most two requests a consumer (one, and
        # the one asked ahead), so some work is always left for it.
        assert consumed.taken[0]


@pytest.mark.mpi(min_size=2)
@pytest.mark.timeout(60)
def test_producer_works_back_to_back_runs_do_not_mix():
    for items in range(30):
        check_on_rank_0(queue.run(items % 4, producer_works=True), items % 4,
                        producer_works=True)


@pytest.mark.mpi(min_size=2)
def test_producer_works_with_a_cost_every_consumer_takes_a_share(monkeypatch):
    # unit.square burns when COST_US is set; burn's default was read at import. Rank 0
    # waits for nobody, so the consumer must ask before rank 0 has done all the work
    # alone: 200 items of 10 ms (2 s) leave that to a consumer that is not starved for
    # seconds, as a loaded machine can starve it for the 20 ms that 1000 of 20 us made.
    burn = unit.burn
    monkeypatch.setattr(unit, "COST_US", 10_000.0)
    monkeypatch.setattr(unit, "burn", lambda: burn(10_000.0))
    consumed = queue.run(200, producer_works=True)
    check_on_rank_0(consumed, 200, producer_works=True)
    if consumed is not None and COMM.Get_size() == 2:
        assert all(consumed.taken), [len(t) for t in consumed.taken]


@pytest.mark.mpi(min_size=2)
def test_producer_works_on_sub_communicators_and_alone():
    with support.halves(COMM) as half:
        check_on_rank_0(queue.run(500, half, producer_works=True), 500, half, True)
    check_on_rank_0(queue.run(30, MPI.COMM_SELF, producer_works=True), 30, MPI.COMM_SELF, True)


@pytest.mark.mpi(min_size=2)
def test_producer_works_trace_names_every_rank(capsys):
    queue.run(20, trace=True, producer_works=True)
    err = capsys.readouterr().err
    if COMM.Get_rank() == 0:
        rows = err.splitlines()
        assert [row.split(" on ")[0] for row in rows] == [
            f"rank {r}" for r in range(COMM.Get_size())
        ]
        assert sum(int(row.split(" took ")[1].split()[0]) for row in rows) == 20
    else:
        assert err == ""
