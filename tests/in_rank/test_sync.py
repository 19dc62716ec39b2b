"""Run inside every rank: ``mpiexec -n N python -m pytest --with-mpi tests/in_rank``."""

import pytest
import support
from mpi4py import MPI

from message_passing import sync

COMM = MPI.COMM_WORLD


def check(seen, comm, items, bound):
    if comm.Get_rank() != 0:
        assert seen is None
        return
    support.assert_sync_held(seen, comm.Get_size(), items, bound)
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
    with support.halves(COMM) as half:
        check(sync.run(7, half, bound=1), half, 7, 1)


@pytest.mark.mpi(min_size=2)
def test_trace_is_written_by_rank_0_only(capsys):
    sync.run(COMM.Get_size(), trace=True)
    err = capsys.readouterr().err
    if COMM.Get_rank() == 0:
        assert len(err.splitlines()) == COMM.Get_size() + 1
        assert err.splitlines()[-1].startswith("largest number inside at once: ")
    else:
        assert err == ""
