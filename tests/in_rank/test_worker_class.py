"""worker_class inside every rank: ``mpiexec -n N python -m pytest --with-mpi tests/in_rank``."""

import pytest
import support
from mpi4py import MPI

from contract.unit import blocks
from message_passing import worker_class

COMM = MPI.COMM_WORLD


def expected_on_rank_0(items, comm=COMM):
    if comm.Get_rank() != 0:
        return None
    return [[x * x for x in block] for block in blocks(range(items), comm.Get_size())]


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("items", [0, 1, COMM.Get_size() - 1, 10, 1001])
def test_each_rank_squares_its_share_result_on_rank_0(items):
    result = worker_class.run(items)
    assert result == expected_on_rank_0(items)
    if result is not None:
        assert [y for squares in result for y in squares] == [i * i for i in range(items)]


@pytest.mark.mpi(min_size=2)
def test_on_a_sub_communicator():
    with support.halves(COMM) as half:
        assert worker_class.run(7, half) == expected_on_rank_0(7, half)


@pytest.mark.mpi(min_size=2)
def test_the_class_alone_with_a_share_of_our_choosing():
    # Each rank is handed [rank, rank + 100]: no scatter, the state is the object's own.
    rank = COMM.Get_rank()
    result = worker_class.Squarer([rank, rank + 100]).run(COMM)
    if rank == 0:
        assert result == [[r * r, (r + 100) ** 2] for r in range(COMM.Get_size())]
    else:
        assert result is None


@pytest.mark.mpi(min_size=2)
def test_trace_is_written_by_rank_0_only(capsys):
    worker_class.run(COMM.Get_size() + 1, trace=True)
    err = capsys.readouterr().err.splitlines()
    if COMM.Get_rank() == 0:
        assert [line.split(" on ")[0] for line in err] == [
            f"rank {r}" for r in range(COMM.Get_size())
        ]
        assert err[0].endswith(" squared 0-1") and err[-1].endswith(f" squared {COMM.Get_size()}")
    else:
        assert err == []
