"""spawn inside every rank: ``mpiexec -n N python -m pytest --with-mpi tests/in_rank``."""

import pytest
import support
from mpi4py import MPI

from message_passing import spawn

COMM = MPI.COMM_WORLD


def lines(size):
    return [f"worker {i} of {size} reporting" for i in range(size)]


@pytest.mark.mpi(min_size=2)
def test_every_rank_reports_once_in_rank_order_on_rank_0():
    result = spawn.run()
    assert result == (lines(COMM.Get_size()) if COMM.Get_rank() == 0 else None)


@pytest.mark.mpi(min_size=2)
def test_on_a_sub_communicator():
    # Even and odd ranks each form a communicator: the workers are numbered within it.
    with support.halves(COMM) as half:
        result = spawn.run(half)
        assert result == (lines(half.Get_size()) if half.Get_rank() == 0 else None)


@pytest.mark.mpi(min_size=2)
def test_trace_is_written_by_rank_0_only(capsys):
    spawn.run(trace=True)
    err = capsys.readouterr().err.splitlines()
    if COMM.Get_rank() == 0:
        assert [line.split(" on ")[0] for line in err] == [
            f"worker {i} is rank {i}" for i in range(COMM.Get_size())
        ]
    else:
        assert err == []


@pytest.mark.mpi(min_size=2)
def test_one_rank_spawns_workers_of_its_own_while_the_others_go_on():
    # Spawn from COMM_SELF is local to the calling rank: nobody else takes part.
    if COMM.Get_rank() == COMM.Get_size() - 1:
        assert spawn.run_dynamic(2) == lines(2)
    COMM.Barrier()
