"""Run inside every rank: ``mpiexec -n N python -m pytest --with-mpi tests/in_rank``."""

import pytest
import support
from mpi4py import MPI

from message_passing import pipe

COMM = MPI.COMM_WORLD


def expected_on_rank_0(items, comm=COMM):
    return [i * i for i in range(items)] if comm.Get_rank() == 0 else None


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("items", [0, 1, 10, 2000])
def test_squares_in_order_on_rank_0_only(items):
    assert pipe.run(items) == expected_on_rank_0(items)


@pytest.mark.mpi(min_size=2)
def test_on_sub_communicators():
    # At 2 ranks each half is one rank running all three stages; at 4, two ranks each.
    with support.halves(COMM) as half:
        assert pipe.run(100, half) == expected_on_rank_0(100, half)


@pytest.mark.mpi(min_size=2)
def test_alone_on_comm_self():
    assert pipe.run(7, MPI.COMM_SELF) == [i * i for i in range(7)]


@pytest.mark.mpi(min_size=2)
def test_trace_is_written_by_rank_0_only(capsys):
    pipe.run(5, trace=True)
    err = capsys.readouterr().err
    if COMM.Get_rank() != 0:
        assert err == ""
        return
    stages = [row.split(" ran ")[1] for row in err.splitlines()]
    size = COMM.Get_size()
    expected = ["collect", "produce+square"] if size == 2 else ["collect", "square", "produce"]
    assert stages == expected + ["nothing"] * (size - len(expected))
