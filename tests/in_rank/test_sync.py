"""Run inside every rank: ``mpiexec -n N python -m pytest --with-mpi tests/in_rank``."""

import pytest
from mpi4py import MPI

from message_passing import sync

COMM = MPI.COMM_WORLD


def check(seen, comm, items, bound):
    if comm.Get_rank() != 0:
        assert seen is None
        return
    size = comm.Get_size()
    assert seen.peak <= bound  # the semaphore held
    if items:
        assert seen.peak >= 1  # and the counter really counted
    assert seen.ready == [size] * size  # nobody started before all were ready
    assert seen.order == list(range(size))  # the condition passed the turn in order
    assert seen.token == sum(i * i for i in range(items))
    assert seen.lines()[1] == f"bound {bound}: never exceeded"


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize(("items", "bound"), [(10, 2), (8, 1), (12, 3), (1, 2), (0, 1)])
def test_bound_start_and_token(items, bound):
    check(sync.run(items, bound=bound), COMM, items, bound)


@pytest.mark.mpi(min_size=2)
def test_a_bound_of_one_is_mutual_exclusion():
    seen = sync.run(2 * COMM.Get_size(), bound=1)
    if COMM.Get_rank() == 0:
        assert seen.peaks == [1] * COMM.Get_size()


@pytest.mark.mpi(min_size=2)
def test_on_sub_communicators():
    # Even ranks synchronize among themselves while odd ranks do the same apart.
    half = COMM.Split(COMM.Get_rank() % 2, COMM.Get_rank())
    try:
        check(sync.run(7, half, bound=1), half, 7, 1)
    finally:
        half.Free()


@pytest.mark.mpi(min_size=2)
def test_trace_is_written_by_rank_0_only(capsys):
    sync.run(COMM.Get_size(), trace=True)
    err = capsys.readouterr().err
    if COMM.Get_rank() == 0:
        assert len(err.splitlines()) == COMM.Get_size() + 1
        assert err.splitlines()[-1].startswith("largest number inside at once: ")
    else:
        assert err == ""
