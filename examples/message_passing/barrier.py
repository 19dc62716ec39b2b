"""Ranks 0 and 1 meet at a barrier of their own; the others run free.

    mpiexec -n 4 python -m examples.message_passing.barrier
"""
import time

from mpi4py import MPI

if __name__ == "__main__":
    comm = MPI.COMM_WORLD
    rank = comm.Get_rank()
    member = rank < 2
    group = comm.Split(0 if member else 1, rank)  # collective: the free ranks say they are not in
    time.sleep(rank * 0.01)  # uneven work: the members arrive at different times
    if member:
        group.Barrier()  # only the group's communicator sees it, never COMM_WORLD
    passages = comm.gather((rank, member), root=0)
    group.Free()
    if rank == 0:
        print("met at the barrier:", ", ".join(str(r) for r, met in passages if met) or "none")
        print("ran free:", ", ".join(str(r) for r, met in passages if not met) or "none")
