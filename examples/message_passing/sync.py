"""A start signal (a barrier), at most 2 inside a section (``sync.Semaphore``), a token in turn.

    mpiexec -n 4 python -m examples.message_passing.sync
"""
import time

from mpi4py import MPI
from mpi4py.util import sync

from contract.outputs import Observed  # the full program's three lines, checked before printing

if __name__ == "__main__":
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    # Shared objects on one-sided windows, built (and freed) by every rank, in the same order.
    ready, inside, turn, token = (sync.Counter(comm=comm) for _ in range(4))
    section, handoff = sync.Semaphore(2, comm=comm), sync.Condition(comm=comm)
    ready.next()  # +1, an atomic fetch-and-add on rank 0's memory
    comm.Barrier()  # the start signal: nobody goes on before the last one is ready
    saw, peak, total = ready.next(0), 0, 0
    for x in range(rank, 10, size):
        with section:  # at most 2 ranks in here at once, and we count them to see it
            peak = max(peak, inside.next(+1) + 1)  # next() returns the value before the add
            total += x * x
            time.sleep(0.01)
            inside.next(-1)
    with handoff:  # the token: wait for our turn, add our sum, pass the turn on
        handoff.wait_for(lambda: turn.next(0) == rank)
        took = turn.next(+1)
        token.next(total)
        handoff.notify_all()
    facts = comm.gather((saw, peak, took), root=0)  # every rank has passed the token on
    carried = token.next(0)
    for thing in (token, turn, inside, ready, section, handoff):
        thing.free()
    if rank == 0:
        order = sorted(range(size), key=lambda r: facts[r][2])  # order[t]: who took turn t
        ready, peaks = [fact[0] for fact in facts], [fact[1] for fact in facts]
        print("\n".join(Observed(size, 2, ready, peaks, order, carried).lines()))
