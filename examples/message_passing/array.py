"""Square a numpy array on every rank: ``Scatterv`` the slices, square them, ``Gatherv`` them.

    mpiexec -n 4 python -m examples.message_passing.array
"""
import numpy as np
from mpi4py import MPI

if __name__ == "__main__":
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    counts = [(r + 1) * 10 // size - r * 10 // size for r in range(size)]  # slices differ
    array = np.arange(10, dtype=np.float64) if rank == 0 else None
    mine = np.empty(counts[rank])
    comm.Scatterv([array, counts] if rank == 0 else None, mine, root=0)  # buffers, no pickles
    np.square(mine, out=mine)
    comm.Gatherv(mine, [array, counts] if rank == 0 else None, root=0)
    if rank == 0:
        print(f"squared {len(array)} float64 values, sum {float(np.sum(array))!r}")
