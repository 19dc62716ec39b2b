"""stencil inside every rank: ``mpiexec -n N python -m pytest --with-mpi tests/in_rank``."""

import numpy as np
import pytest
import support
from mpi4py import MPI

from contract import outputs
from contract.outputs import HOT, RATE
from message_passing import stencil

COMM = MPI.COMM_WORLD
BLOCKING = [False, True]
BLOCKING_IDS = ["sendrecv", "nonblocking"]


def reference(size, steps):
    """The serial run: the whole grid, one step after the other."""
    u = np.zeros(size, dtype=np.float64)
    u[list(outputs.stencil_hot(size))] = HOT
    for _ in range(steps):
        new = u.copy()
        new[1:-1] = u[1:-1] + RATE * (u[:-2] - 2.0 * u[1:-1] + u[2:])
        u = new
    return u


def assert_serial_grid(result, size, steps, comm=COMM):
    if comm.Get_rank() == 0:
        assert result.dtype == np.float64
        assert result.tobytes() == reference(size, steps).tobytes()  # bitwise
    else:
        assert result is None


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("nonblocking", BLOCKING, ids=BLOCKING_IDS)
@pytest.mark.parametrize(
    ("size", "steps"),
    [(64, 100), (1, 3), (2, 3), (COMM.Get_size() - 1, 5), (COMM.Get_size() + 1, 5),
     (2 * COMM.Get_size(), 9), (1001, 20), (10, 0)],
)
def test_the_grid_on_rank_0_is_the_serial_run(size, steps, nonblocking):
    result = stencil.run(size, steps, COMM, nonblocking=nonblocking)
    assert_serial_grid(result, size, steps)


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("nonblocking", BLOCKING, ids=BLOCKING_IDS)
def test_on_a_sub_communicator(nonblocking):
    # Even and odd ranks each run a grid of their own, at the same time.
    with support.halves(COMM) as half:
        result = stencil.run(9, 20, half, nonblocking=nonblocking)
        assert_serial_grid(result, 9, 20, half)


@pytest.mark.mpi(min_size=2)
def test_runs_one_after_the_other_do_not_mix():
    # Each run lays out a cartesian communicator of its own: nothing of one reaches the next.
    for size, nonblocking in [(7, False), (8, True), (3, False), (7, True)]:
        assert_serial_grid(stencil.run(size, 11, COMM, nonblocking=nonblocking), size, 11)


@pytest.mark.mpi(min_size=2)
def test_the_exchange_alone_fills_the_halos_from_the_neighbours():
    rank, ranks = COMM.Get_rank(), COMM.Get_size()
    cart = COMM.Create_cart([ranks], periods=[False], reorder=False)
    left, right = cart.Shift(0, 1)
    assert (left, right) == (rank - 1 if rank else MPI.PROC_NULL,
                             rank + 1 if rank + 1 < ranks else MPI.PROC_NULL)
    old = np.array([-1.0, 10.0 * rank, 10.0 * rank + 1, -1.0])  # halo, my 2 points, halo
    stencil.exchange(cart, old, left, right)
    cart.Free()
    # A halo next to PROC_NULL is left as it was.
    assert old[0] == (10.0 * (rank - 1) + 1 if rank else -1.0)
    assert old[3] == (10.0 * (rank + 1) if rank + 1 < ranks else -1.0)


@pytest.mark.mpi(min_size=2)
def test_trace_is_written_by_rank_0_only(capsys):
    ranks = COMM.Get_size()
    stencil.run(ranks - 1, 2, COMM, trace=True)  # the last rank holds no point
    err = capsys.readouterr().err.splitlines()
    if COMM.Get_rank() != 0:
        assert err == []
        return
    assert err[0] == (f"cart: {ranks - 1} of {ranks} ranks on a line, not periodic; "
                      "halos by Sendrecv")
    assert [line.split(" on ")[0] for line in err[1:]] == [f"rank {r}" for r in range(ranks)]
    right = "1" if ranks > 2 else "none"  # on a line of one, rank 0 has no neighbour
    assert err[1].endswith(f" held points 0 for 2 steps; neighbours: none, {right}")
    assert err[-1].endswith(" held no points")
