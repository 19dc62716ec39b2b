"""Broadcast: every worker process receives the parent's whole table, as an argument.

    python -m examples.shared_memory.broadcast [WORKERS]  # 4 worker processes if left out
"""
import sys
from multiprocessing import Process, Queue


def receive(index, table, results):  # the table: inherited (fork) or pickled (spawn)
    results.put((index, len(table), sum(table)))


if __name__ == "__main__":
    workers = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    table = [x * x for x in range(10)]
    results = Queue()
    processes = [Process(target=receive, args=(i, table, results)) for i in range(workers)]
    for process in processes:
        process.start()
    for index, count, checksum in sorted(results.get() for _ in processes):  # before join()
        print(f"worker {index} of {workers} received {count} values, checksum {checksum}")
    for process in processes:
        process.join()
