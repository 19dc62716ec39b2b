"""reduce inside every rank: ``mpiexec -n N python -m pytest --with-mpi tests/in_rank``."""

import pytest
import support
from mpi4py import MPI

from contract.unit import share
from message_passing import reduce

COMM = MPI.COMM_WORLD
MODES = ("reduce", "allreduce", "scan")


def squares_through(stop):
    return sum(x * x for x in range(stop))


def expected_held(items, mode, comm=COMM):
    size = comm.Get_size()
    if mode == "reduce":
        return None
    if mode == "allreduce":
        return [squares_through(items)] * size
    return [squares_through(share(items, size, r).stop) for r in range(size)]


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("buffer", [False, True], ids=["objects", "buffer"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("items", [0, 1, COMM.Get_size() - 1, 100, 1001])
def test_every_partial_sum_combined_once_result_on_rank_0(items, mode, buffer):
    reduced = reduce.run(items, mode=mode, buffer=buffer)
    if COMM.Get_rank() != 0:
        assert reduced is None
        return
    assert (reduced.items, reduced.workers) == (items, COMM.Get_size())
    assert reduced.total == squares_through(items)
    assert reduced.held == expected_held(items, mode)
    assert reduced.scan == (mode == "scan")
    reduced.lines()  # its own checks pass


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("buffer", [False, True], ids=["objects", "buffer"])
@pytest.mark.parametrize("mode", MODES)
def test_on_a_sub_communicator(mode, buffer):
    with support.halves(COMM) as half:
        reduced = reduce.run(7, half, mode=mode, buffer=buffer)
        if half.Get_rank() == 0:
            assert reduced.workers == half.Get_size()
            assert reduced.total == squares_through(7)
            assert reduced.held == expected_held(7, mode, half)
        else:
            assert reduced is None


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("buffer", [False, True], ids=["objects", "buffer"])
def test_the_collectives_alone(buffer):
    # Rank r contributes r + 1: every rank gets the sum (allreduce), or 1 + ... + (r + 1) (scan).
    rank, size = COMM.Get_rank(), COMM.Get_size()
    combine = reduce.combine_buffers if buffer else reduce.combine
    assert combine(COMM, rank + 1, "reduce") == (size * (size + 1) // 2 if rank == 0 else None)
    assert combine(COMM, rank + 1, "allreduce") == size * (size + 1) // 2
    assert combine(COMM, rank + 1, "scan") == (rank + 1) * (rank + 2) // 2


@pytest.mark.mpi(min_size=2)
def test_trace_is_written_by_rank_0_only(capsys):
    size = COMM.Get_size()
    reduce.run(size + 1, mode="scan", trace=True)
    err = capsys.readouterr().err.splitlines()
    if COMM.Get_rank() == 0:
        assert [line.split(" on ")[0] for line in err] == [f"rank {r}" for r in range(size)]
        assert err[0].endswith(" squared 0-1, partial sum 1, holds 1")
        assert err[-1].endswith(f", holds {squares_through(size + 1)}")
    else:
        assert err == []
