"""Run inside every rank: ``mpiexec -n N python -m pytest --with-mpi tests/in_rank``."""

import pytest
import support
from mpi4py import MPI

from contract import outputs
from message_passing import barrier

COMM = MPI.COMM_WORLD


def check_on_rank_0(passages, comm, group):
    if comm.Get_rank() != 0:
        assert passages is None
        return
    size = comm.Get_size()
    group = min(group, size)
    assert [p.worker for p in passages] == list(range(size))
    members = passages[:group]
    # Sequential hands out the turns in rank order.
    assert [p.turn for p in members] == list(range(group))
    assert all(p.turn is None for p in passages[group:])
    # The invariant. time.time() on one host: the same clock in every rank (see the
    # module's docstring for why not MPI.Wtime, whose WTIME_IS_GLOBAL is false here).
    last_arrival = max(p.arrived for p in members)
    assert all(p.left >= last_arrival for p in members)


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("group", [1, 2, COMM.Get_size(), COMM.Get_size() + 3])
def test_group_leaves_after_its_last_arrival(group):
    check_on_rank_0(barrier.run(COMM, group), COMM, group)


@pytest.mark.mpi(min_size=2)
def test_an_empty_group_is_refused_on_every_rank_before_any_communication():
    with pytest.raises(ValueError, match="group of 1 or more, not 0"):
        barrier.run(COMM, 0)
    COMM.Barrier()  # every rank still answers: nobody was left inside run()


@pytest.mark.mpi(min_size=2)
def test_on_a_sub_communicator():
    # The odd ranks and the even ranks each hold a barrier pattern of their own.
    with support.halves(COMM) as half:
        check_on_rank_0(barrier.run(half, 2), half, 2)


@pytest.mark.mpi(min_size=2)
def test_report_is_the_same_as_the_shared_memory_one():
    passages = barrier.run(COMM, 2)
    if COMM.Get_rank() == 0:
        met = ", ".join(str(i) for i in range(2))
        free = ", ".join(str(i) for i in range(2, COMM.Get_size())) or "none"
        assert outputs.barrier_report(passages) == f"met at the barrier: {met}\nran free: {free}"


@pytest.mark.mpi(min_size=2)
def test_trace_is_one_line_per_rank_each_printed_by_its_own_rank(capsys):
    barrier.run(COMM, 2, trace=True)
    lines = capsys.readouterr().err.splitlines()
    rank = COMM.Get_rank()
    assert len(lines) == 1
    assert lines[0].startswith(f"worker {rank} (rank {rank} on ")
    how = f"took turn {rank} after the barrier" if rank < 2 else "ran free"
    assert lines[0].endswith(how)
