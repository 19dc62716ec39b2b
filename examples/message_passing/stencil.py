"""The 1-D heat equation on a line of ranks: ``Create_cart``, ``Shift``, halos by ``Sendrecv``.

    mpiexec -n 4 python -m examples.message_passing.stencil
"""
import numpy as np
from mpi4py import MPI

SIZE, STEPS, R, SAMPLES = 64, 100, 0.25, (0, 16, 32, 48, 63)

if __name__ == "__main__":
    comm = MPI.COMM_WORLD
    rank, ranks = comm.Get_rank(), comm.Get_size()
    cart = comm.Create_cart([ranks], periods=[False])  # a line of ranks, open at both ends
    left, right = cart.Shift(0, 1)  # MPI.PROC_NULL past an end: its send and receive do nothing
    counts = [(r + 1) * SIZE // ranks - r * SIZE // ranks for r in range(ranks)]
    start, n = sum(counts[:rank]), counts[rank]
    u = np.zeros(n + 2)  # my block, with a halo point at each side
    u[[hot - start + 1 for hot in (0, SIZE // 2) if start <= hot < start + n]] = 1.0
    lo, hi = 1 + (rank == 0), n + 1 - (rank == ranks - 1)  # the rod's ends are held
    for _ in range(STEPS):
        cart.Sendrecv(u[n:n + 1], right, recvbuf=u[0:1], source=left)  # my left halo in
        cart.Sendrecv(u[1:2], left, recvbuf=u[n + 1:], source=right)  # my right halo in
        new = u.copy()
        new[lo:hi] = u[lo:hi] + R * (u[lo - 1:hi - 1] - 2.0 * u[lo:hi] + u[lo + 1:hi + 1])
        u = new
    grid = np.empty(SIZE) if rank == 0 else None
    comm.Gatherv(u[1:n + 1], [grid, counts] if rank == 0 else None, root=0)
    if rank == 0:
        print(f"heat equation on {SIZE} points after {STEPS} steps (r = {R}): checksum "
              f"{float(np.sum(grid))}\n" + ", ".join(f"u[{i}] = {float(grid[i])}" for i in SAMPLES))
