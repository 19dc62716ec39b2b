"""alltoall inside every rank: ``mpiexec -n N python -m pytest --with-mpi tests/in_rank``."""

import pytest
import support
from mpi4py import MPI

from contract.outputs import Bucket, alltoall_lines
from contract.unit import share
from message_passing import alltoall

COMM = MPI.COMM_WORLD
BUFFER = [False, True]
BUFFER_IDS = ["objects", "buffers"]
SHUFFLES = [alltoall.shuffled, alltoall.shuffled_buffers]


def expected_on_rank_0(items, comm=COMM):
    if comm.Get_rank() != 0:
        return None
    size = comm.Get_size()
    return [
        Bucket(r, len(range(r, items, size)), sum(x * x for x in range(r, items, size)))
        for r in range(size)
    ]


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("buffer", BUFFER, ids=BUFFER_IDS)
@pytest.mark.parametrize("items", [0, 1, COMM.Get_size() - 1, 10, 1001])
def test_every_rank_holds_its_bucket_reported_on_rank_0(items, buffer):
    result = alltoall.run(items, buffer=buffer)
    assert result == expected_on_rank_0(items)
    if result is not None:
        assert len(alltoall_lines(result, items)) == COMM.Get_size()


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("buffer", BUFFER, ids=BUFFER_IDS)
def test_on_a_sub_communicator(buffer):
    with support.halves(COMM) as half:
        assert alltoall.run(7, half, buffer=buffer) == expected_on_rank_0(7, half)


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("shuffle", SHUFFLES, ids=BUFFER_IDS)
@pytest.mark.parametrize("items", [0, 5, 1001])
def test_the_shuffle_hands_each_rank_the_squares_of_its_remainder_from_each_rank(
    shuffle, items
):
    rank, size = COMM.Get_rank(), COMM.Get_size()
    held = shuffle(alltoall.bucketed(share(items, size, rank), size), COMM)
    # Part i is what rank i sent: its squares of the x with x % size == rank, in order.
    assert held == [[x * x for x in share(items, size, i) if x % size == rank]
                    for i in range(size)]


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("shuffle", SHUFFLES, ids=BUFFER_IDS)
def test_sums_beyond_int64_stay_exact(shuffle):
    # Every square fits in an int64, their sum does not: the parts come back as Python ints.
    size = COMM.Get_size()
    held = shuffle([[2**62, 2**62 - 1] for _ in range(size)], COMM)
    assert sum(sum(part) for part in held) == size * (2**63 - 1)
    assert all(type(y) is int for part in held for y in part)


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("buffer", BUFFER, ids=BUFFER_IDS)
def test_trace_is_written_by_rank_0_only(capsys, buffer):
    size = COMM.Get_size()
    alltoall.run(size, buffer=buffer, trace=True)  # one item each: x to rank x
    err = capsys.readouterr().err.splitlines()
    if COMM.Get_rank() != 0:
        assert err == []
        return
    workers = "0" if size == 1 else f"0-{size - 1}"
    assert [line.split(" on ", 1)[0] for line in err] == [f"rank {r}" for r in range(size)]
    for r, line in enumerate(err):
        sent = [int(r == other) for other in range(size)]
        assert line.endswith(f" squared {r}, sent {sent} squares to workers {workers}")
