"""deadlock inside every rank, the safe fixes only: ``mpiexec -n N python -m pytest --with-mpi
tests/in_rank``. Never ``unsafe=True`` here: its watchdog would abort the whole pytest job."""

import numpy as np
import pytest
import support
from mpi4py import MPI

from contract.outputs import DEADLOCK_FIXES, message_byte, partner_of
from message_passing import deadlock

COMM = MPI.COMM_WORLD


def expected_on_rank_0(comm=COMM):
    if comm.Get_rank() != 0:
        return None
    size = comm.Get_size()
    return [None if partner_of(r, size) is None else [True] * len(DEADLOCK_FIXES)
            for r in range(size)]


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("size", [0, 1, 100_000, deadlock.SIZE])
def test_every_pair_completes_every_fix_result_on_rank_0(size):
    assert deadlock.run(size) == expected_on_rank_0()


@pytest.mark.mpi(min_size=2)
def test_on_a_sub_communicator():
    # At 2 ranks each half is one rank with no partner; at 4, one pair each.
    with support.halves(COMM) as half:
        assert deadlock.run(50_000, half) == expected_on_rank_0(half)


@pytest.mark.mpi(min_size=2)
def test_alone_on_comm_self():
    assert deadlock.run(10, MPI.COMM_SELF) == [None]


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("name", DEADLOCK_FIXES)
def test_each_fix_alone_moves_the_partners_bytes(name):
    rank, size = COMM.Get_rank(), COMM.Get_size()
    partner = partner_of(rank, size)
    if partner is None:
        return
    send = np.full(300_000, message_byte(rank), dtype=np.uint8)
    got = np.zeros_like(send)
    deadlock.FIXES[name](COMM, send, got, partner)
    assert np.all(got == message_byte(partner))


@pytest.mark.mpi(min_size=2)
def test_trace_is_written_by_rank_0_only(capsys):
    deadlock.run(10, trace=True)
    err = capsys.readouterr().err.splitlines()
    if COMM.Get_rank() != 0:
        assert err == []
        return
    size = COMM.Get_size()
    assert [line.split(" on ")[0] for line in err] == [f"rank {r}" for r in range(size)]
    for rank, line in enumerate(err):
        assert line.endswith(f"exchanged with worker {rank ^ 1}: {', '.join(DEADLOCK_FIXES)}")
