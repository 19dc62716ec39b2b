"""Run inside every rank: ``mpiexec -n N python -m pytest --with-mpi tests/in_rank``."""

import pytest
import support
from mpi4py import MPI

from message_passing import pool

COMM = MPI.COMM_WORLD


def expected_on_rank_0(items, comm=COMM):
    return [i * i for i in range(items)] if comm.Get_rank() == 0 else None


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("items", [0, 1, COMM.Get_size() - 1, 100, 1001])
@pytest.mark.parametrize("executor", [False, True])
def test_result_on_rank_0_only(items, executor):
    assert pool.run(items, executor=executor) == expected_on_rank_0(items)


@pytest.mark.mpi(min_size=2)
def test_on_a_sub_communicator():
    # Even ranks square among themselves while odd ranks do the same apart.
    with support.halves(COMM) as half:
        assert pool.run(50, half) == expected_on_rank_0(50, half)


@pytest.mark.mpi(min_size=2)
def test_trace_is_written_by_rank_0_only(capsys):
    pool.run(COMM.Get_size() * 2, trace=True)
    err = capsys.readouterr().err
    if COMM.Get_rank() == 0:
        assert len(err.splitlines()) == COMM.Get_size()
    else:
        assert err == ""
