"""Each worker squares its share of 0..99 and puts its partial sum on a queue; the parent adds.

    python -m examples.shared_memory.reduce [WORKERS]  # 4 worker processes if left out
"""
import sys
from multiprocessing import Process, Queue


def partial_sum(share, results):
    results.put(sum(x * x for x in share))


if __name__ == "__main__":
    workers = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    size, extra = divmod(100, workers)  # contiguous shares of 0..99; the first `extra` get one more
    starts = [i * size + min(i, extra) for i in range(workers + 1)]
    results = Queue()
    processes = [Process(target=partial_sum, args=(range(starts[i], starts[i + 1]), results))
                 for i in range(workers)]
    for process in processes:
        process.start()
    total = sum(results.get() for _ in processes)  # read before join()
    for process in processes:
        process.join()
    print(f"sum of squares of 100 items: {total}")
