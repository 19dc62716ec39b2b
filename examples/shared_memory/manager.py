"""Fill one dict from several processes: each worker stores key -> 2*key in a ``Manager().dict()``.

    python -m examples.shared_memory.manager [WORKERS]  # 4 worker processes if left out
"""
import sys
from multiprocessing import Manager, Process


def store(table, keys):
    for key in keys:
        table[key] = 2 * key  # one request to the manager's process, carried out whole there


if __name__ == "__main__":
    workers = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    with Manager() as manager:  # its server process ends with the block
        table = manager.dict()
        processes = [Process(target=store, args=(table, range(w, 10, workers)))
                     for w in range(workers)]
        for process in processes:
            process.start()
        for process in processes:
            process.join()
        print(dict(sorted(table.items())))  # the workers finish in any order: sort by key
