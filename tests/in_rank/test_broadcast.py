"""broadcast inside every rank: ``mpiexec -n N python -m pytest --with-mpi tests/in_rank``."""

import pytest
import support
from mpi4py import MPI

from contract import outputs
from message_passing import broadcast

COMM = MPI.COMM_WORLD
BUFFER = [False, True]
BUFFER_IDS = ["object", "buffer"]


def expected_on_rank_0(items, comm=COMM):
    if comm.Get_rank() != 0:
        return None
    return [(items, sum(x * x for x in range(items)) % 2**64)] * comm.Get_size()


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("items", [0, 1, COMM.Get_size() - 1, COMM.Get_size() + 1, 10, 1001])
@pytest.mark.parametrize("buffer", BUFFER, ids=BUFFER_IDS)
def test_every_rank_receives_the_whole_table_reports_on_rank_0(items, buffer):
    assert broadcast.run(items, buffer=buffer) == expected_on_rank_0(items)


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("buffer", BUFFER, ids=BUFFER_IDS)
def test_on_a_sub_communicator(buffer):
    # Even and odd ranks each broadcast a table of their own, at the same time.
    with support.halves(COMM) as half:
        assert broadcast.run(7, half, buffer=buffer) == expected_on_rank_0(7, half)


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("buffer", BUFFER, ids=BUFFER_IDS)
def test_the_reports_make_the_lines_both_sides_print(buffer):
    received = broadcast.run(10, buffer=buffer)
    if COMM.Get_rank() == 0:
        size = COMM.Get_size()
        assert outputs.broadcast_lines(received, 10) == [
            f"worker {r} of {size} received 10 values, checksum 285" for r in range(size)
        ]


@pytest.mark.mpi(min_size=2)
def test_a_buffer_table_is_int64_squares_on_every_rank():
    # What Bcast leaves in each rank's own array: the root's bytes, as they were.
    table = broadcast.table_array(5) if COMM.Get_rank() == 0 else broadcast.np.zeros(
        5, dtype=broadcast.np.int64
    )
    COMM.Bcast(table, root=0)
    assert table.dtype == broadcast.np.int64 and table.tolist() == [0, 1, 4, 9, 16]


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize(
    ("buffer", "how"),
    [(False, "by bcast (pickled)"), (True, "by Bcast (an int64 buffer, not pickled)")],
    ids=BUFFER_IDS,
)
def test_trace_is_written_by_rank_0_only(capsys, buffer, how):
    broadcast.run(3, buffer=buffer, trace=True)
    err = capsys.readouterr().err.splitlines()
    if COMM.Get_rank() == 0:
        assert [line.split(" on ")[0] for line in err] == [
            f"rank {r}" for r in range(COMM.Get_size())
        ]
        assert all(line.endswith(f" received 3 values {how}") for line in err), err
    else:
        assert err == []
