"""Square 0..99 on every rank: contiguous blocks, ``scatter`` then ``gather``.

    mpiexec -n 4 python -m examples.message_passing.pool
"""
from mpi4py import MPI

if __name__ == "__main__":
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    blocks = [range(r * 100 // size, (r + 1) * 100 // size) for r in range(size)]
    mine = comm.scatter(blocks if rank == 0 else None, root=0)  # rank 0 holds the work
    squares = comm.gather([x * x for x in mine], root=0)  # back in rank order
    if rank == 0:
        print([y for block in squares for y in block])
