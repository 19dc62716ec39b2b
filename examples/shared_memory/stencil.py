"""The 1-D heat equation on one grid in shared memory: two buffers, a ``Barrier`` each step.

    python -m examples.shared_memory.stencil [WORKERS]  # 4 worker processes if left out
"""
import sys
from multiprocessing import Barrier, Process, shared_memory

import numpy as np

SIZE, STEPS, R, SAMPLES = 64, 100, 0.25, (0, 16, 32, 48, 63)


def relax(name, lo, hi, barrier):  # one worker: points lo..hi-1, every step
    segment = shared_memory.SharedMemory(name=name)  # the parent's grid: nothing copied
    u = np.ndarray((2, SIZE), np.float64, segment.buf)  # two buffers: old and new swap roles
    for step in range(STEPS):
        old, new = u[step % 2], u[1 - step % 2]
        new[lo:hi] = old[lo:hi] + R * (old[lo - 1:hi - 1] - 2.0 * old[lo:hi] + old[lo + 1:hi + 1])
        barrier.wait()  # all of `new` written before anyone reads it, or writes into `old`
    segment.close()


if __name__ == "__main__":
    workers = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    segment = shared_memory.SharedMemory(create=True, size=2 * SIZE * 8)  # all zeros
    u = np.ndarray((2, SIZE), np.float64, segment.buf)
    u[:, [0, SIZE // 2]] = 1.0  # in both buffers: the left end held hot, a spike in the middle
    cuts, barrier = [1 + w * (SIZE - 2) // workers for w in range(workers + 1)], Barrier(workers)
    team = [Process(target=relax, args=(segment.name, cuts[w], cuts[w + 1], barrier))
            for w in range(workers)]  # blocks of the interior: the held ends are never updated
    for process in team:
        process.start()
    for process in team:
        process.join()  # nothing to read from them first: what they made is in the grid
    grid = u[STEPS % 2]
    print(f"heat equation on {SIZE} points after {STEPS} steps (r = {R}): checksum "
          f"{float(np.sum(grid))}\n" + ", ".join(f"u[{i}] = {float(grid[i])}" for i in SAMPLES))
    segment.close()
    segment.unlink()  # once, by one process: else the segment outlives us in /dev/shm
