"""One producer, W consumers on a ``multiprocessing.Queue``; the consumers square what they take.

    python -m examples.shared_memory.queue [WORKERS]  # 4 consumer processes if left out
"""
import sys
from multiprocessing import Process, Queue


def produce(tasks, items, consumers):
    for x in [*range(items), *[None] * consumers]:  # one sentinel per consumer: each stops once
        tasks.put(x)


def consume(tasks, results):
    taken = list(iter(tasks.get, None))  # get() until the sentinel; never empty() then get()
    results.put((len(taken), sum(x * x for x in taken)))


if __name__ == "__main__":
    workers = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    tasks, results = Queue(), Queue()
    processes = [Process(target=produce, args=(tasks, 10, workers))]
    processes += [Process(target=consume, args=(tasks, results)) for _ in range(workers)]
    for process in processes:
        process.start()
    reports = [results.get() for _ in range(workers)]  # read before join()
    for process in processes:
        process.join()
    count, total = sum(n for n, _ in reports), sum(s for _, s in reports)
    print(f"consumed {count} items, sum of squares {total}")
