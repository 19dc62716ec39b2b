"""Square 0..99 with a pool of worker processes: ``multiprocessing.Pool.map``.

    python -m examples.shared_memory.pool [WORKERS]  # 4 worker processes if left out
"""
import sys
from multiprocessing import Pool


def square(x):
    return x * x


if __name__ == "__main__":
    workers = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    with Pool(workers) as pool:
        print(pool.map(square, range(100)))  # in the order of the items
