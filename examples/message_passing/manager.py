"""Fill one dict on rank 0 from every rank: each rank sends key -> 2*key for its keys.

    mpiexec -n 4 python -m examples.message_passing.manager
"""
from mpi4py import MPI

if __name__ == "__main__":
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    pairs = comm.gather([(key, 2 * key) for key in range(rank, 10, size)], root=0)
    if rank == 0:  # no shared dict: rank 0 owns it, the others send it their data
        print(dict(sorted(pair for mine in pairs for pair in mine)))
