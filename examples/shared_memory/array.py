"""Square a numpy array in place from several processes: ``multiprocessing.shared_memory``.

    python -m examples.shared_memory.array [WORKERS]  # 4 worker processes if left out
"""
import sys
from multiprocessing import Pool
from multiprocessing.shared_memory import SharedMemory

import numpy as np


def square_slice(name, worker, workers):
    segment = SharedMemory(name=name)  # the parent's pages, found by name: nothing is copied
    begin, end = worker * 10 // workers, (worker + 1) * 10 // workers  # its contiguous slice
    np.ndarray((10,), np.float64, segment.buf)[begin:end] **= 2  # in place; no view kept
    segment.close()


if __name__ == "__main__":
    workers = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    segment = SharedMemory(create=True, size=10 * 8)
    array = np.ndarray((10,), np.float64, segment.buf)
    array[:] = np.arange(10)
    with Pool(workers) as pool:
        pool.starmap(square_slice, [(segment.name, w, workers) for w in range(workers)])
    print(f"squared {len(array)} float64 values, sum {float(np.sum(array))!r}")
    del array  # every view of the segment, before it is closed
    segment.close()
    segment.unlink()  # once, by one process: else the segment outlives us in /dev/shm
