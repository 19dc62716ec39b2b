"""Run inside every rank: ``mpiexec -n N python -m pytest --with-mpi tests/in_rank``."""

import time

import pytest
import support
from mpi4py import MPI

from message_passing import terminate

COMM = MPI.COMM_WORLD


def nothing_left_in_flight(comm):
    # Every WORKING and every STOP was received: nothing waits for the next user of comm.
    comm.Barrier()
    return not comm.Iprobe(source=MPI.ANY_SOURCE, tag=MPI.ANY_TAG)


def check(outcome, comm):
    if comm.Get_rank() != 0:
        assert outcome is None
        return
    assert [s.worker for s in outcome.stopped] == list(range(comm.Get_size()))
    for s in outcome.stopped:
        assert s.units >= 1
        assert s.total == sum(i * i for i in range(s.units))
    assert outcome.seconds < support.STOP_HANG, "a stop request must be honoured"
    assert outcome.lines() == [
        f"worker {i} stopped on request, cleaned up" for i in range(comm.Get_size())
    ]


@pytest.mark.mpi(min_size=2)
def test_every_rank_stops_and_hands_its_tally_back():
    check(terminate.run(), COMM)
    assert nothing_left_in_flight(COMM)


@pytest.mark.mpi(min_size=2)
def test_stop_is_asked_after_seconds():
    start = time.monotonic()
    outcome = terminate.run(seconds=0.3)
    check(outcome, COMM)
    if COMM.Get_rank() == 0:
        assert time.monotonic() - start >= 0.3
        # How many units rank 0 did meanwhile is the machine's load's to say: not checked.
    assert nothing_left_in_flight(COMM)


@pytest.mark.mpi(min_size=2)
def test_on_sub_communicators():
    # Even ranks stop among themselves while odd ranks do the same apart.
    with support.halves(COMM) as half:
        check(terminate.run(half), half)
        assert nothing_left_in_flight(half)


@pytest.mark.mpi(min_size=2)
def test_one_rank_stops_itself():
    alone = COMM.Split(COMM.Get_rank(), 0)
    try:
        check(terminate.run(alone), alone)
    finally:
        alone.Free()


@pytest.mark.mpi(min_size=2)
def test_trace_is_written_by_rank_0_only(capsys):
    terminate.run(trace=True)
    err = capsys.readouterr().err
    if COMM.Get_rank() == 0:
        assert len(err.splitlines()) == COMM.Get_size() + 1
        assert err.splitlines()[-1].startswith("asked to stop after ")
    else:
        assert err == ""
