"""Start N worker processes by hand and hear from each: ``multiprocessing.Process``.

    python -m examples.shared_memory.spawn [WORKERS]  # 4 worker processes if left out
"""
import sys
from multiprocessing import Process, Queue


def report(index, workers, lines):
    lines.put((index, f"worker {index} of {workers} reporting"))


if __name__ == "__main__":
    workers = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    lines = Queue()
    processes = [Process(target=report, args=(i, workers, lines)) for i in range(workers)]
    for process in processes:
        process.start()
    for _, line in sorted(lines.get() for _ in processes):  # in worker order; read before join()
        print(line)
    for process in processes:
        process.join()
