"""Run inside every rank: ``mpiexec -n N python -m pytest --with-mpi tests/in_rank``."""

import pytest
import support
from mpi4py import MPI

from message_passing import manager

COMM = MPI.COMM_WORLD


def expected_on_rank_0(items, comm=COMM):
    return {i: 2 * i for i in range(items)} if comm.Get_rank() == 0 else None


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("items", [0, 1, COMM.Get_size() - 1, 10, 1001])
@pytest.mark.parametrize("rma", [False, True])
def test_dict_on_rank_0_only(items, rma):
    table = manager.run(items, COMM, rma=rma)
    assert table == expected_on_rank_0(items)
    if table is not None:
        assert list(table) == list(range(items))


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("rma", [False, True])
def test_on_a_sub_communicator(rma):
    # Even and odd ranks each fill a dict of their own, at the same time.
    with support.halves(COMM) as half:
        assert manager.run(7, half, rma=rma) == expected_on_rank_0(7, half)


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("rma", [False, True])
def test_trace_is_written_by_rank_0_only(capsys, rma):
    manager.run(COMM.Get_size() * 2, COMM, rma=rma, trace=True)
    err = capsys.readouterr().err
    if COMM.Get_rank() == 0:
        lines = err.splitlines()
        assert [line.split(" stored ")[1] for line in lines] == [
            f"{2 * r}-{2 * r + 1}" for r in range(COMM.Get_size())
        ]
    else:
        assert err == ""
