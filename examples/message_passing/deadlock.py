"""Pairs of ranks swap 1 MiB: ``Send`` then ``Recv`` on both sides deadlocks; three fixes do not.

    mpiexec -n 4 python -m examples.message_passing.deadlock
"""
import numpy as np
from mpi4py import MPI

if __name__ == "__main__":
    comm = MPI.COMM_WORLD
    rank, size, n = comm.Get_rank(), comm.Get_size(), 1 << 20  # far above the eager limit
    partner = rank ^ 1  # pairs (0, 1), (2, 3)...
    mine, got = np.full(n, rank % 251, np.uint8), np.zeros((3, n), np.uint8)  # one row a fix
    if partner < size:
        # comm.Send(mine, partner); comm.Recv(got, partner)  # on both ranks: a deadlock
        if rank % 2 == 0:  # order by parity: the even rank sends first, the odd one receives
            comm.Send(mine, partner)
        comm.Recv(got[0], partner)
        if rank % 2 == 1:
            comm.Send(mine, partner)
        comm.Sendrecv(mine, partner, recvbuf=got[1], source=partner)  # send and receive at once
        MPI.Request.Waitall([comm.Isend(mine, partner), comm.Irecv(got[2], partner)])  # post, wait
    if all(comm.allgather(partner >= size or np.all(got == partner % 251))) and rank == 0:
        print(f"message: {n} bytes each way between the two workers of a pair")
        for fix in ("order by parity", "send and receive at once", "post both, then wait"):
            for a in range(0, size - 1, 2):
                print(f"{fix}: pair {a}-{a + 1} completed")
        if size % 2:
            print(f"worker {size - 1} had no partner")
