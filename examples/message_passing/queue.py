"""Rank 0 hands out work on request; the other ranks square what they are given.

    mpiexec -n 4 python -m examples.message_passing.queue  # two ranks or more
"""
from mpi4py import MPI

if __name__ == "__main__":
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    count = total = 0
    if rank == 0:  # rank 0 is the queue: each request gets the next item, or None at the end
        status = MPI.Status()
        for x in [*range(10), *[None] * (size - 1)]:  # one None per consumer: it stops asking
            comm.recv(source=MPI.ANY_SOURCE, status=status)
            comm.send(x, dest=status.Get_source())
    else:  # ask, and wait for the answer: a fast consumer simply asks more often
        while (x := comm.sendrecv(None, dest=0, source=0)) is not None:
            count, total = count + 1, total + x * x
    reports = comm.gather((count, total), root=0)
    if rank == 0:
        count, total = sum(n for n, _ in reports), sum(s for _, s in reports)
        print(f"consumed {count} items, sum of squares {total}")
