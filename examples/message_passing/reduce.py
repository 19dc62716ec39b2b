"""Each rank squares its share of 0..99; ``reduce`` adds the partial sums up on rank 0.

    mpiexec -n 4 python -m examples.message_passing.reduce
"""
from mpi4py import MPI

if __name__ == "__main__":
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    count, extra = divmod(100, size)  # contiguous shares of 0..99; the first `extra` get one more
    begin = rank * count + min(rank, extra)
    partial = sum(x * x for x in range(begin, begin + count + (rank < extra)))
    total = comm.reduce(partial, op=MPI.SUM, root=0)  # collective: None on the other ranks
    if rank == 0:
        print(f"sum of squares of 100 items: {total}")
