"""Workers as a class: ``class Squarer(Process)`` overriding ``run()``, each squaring its share.

    python -m examples.shared_memory.worker_class [WORKERS]  # 4 worker processes if left out
"""
import sys
from multiprocessing import Process, Queue


class Squarer(Process):
    def __init__(self, index, share, results):
        super().__init__()  # first: Process keeps state of its own
        self.index, self.share, self.results = index, share, results

    def run(self):  # in the child, on a copy of the object: results go back by the queue
        self.results.put((self.index, [x * x for x in self.share]))


if __name__ == "__main__":
    workers = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    size, extra = divmod(10, workers)  # contiguous shares of 0..9; the first `extra` get one more
    starts = [i * size + min(i, extra) for i in range(workers + 1)]
    results = Queue()
    squarers = [Squarer(i, range(starts[i], starts[i + 1]), results) for i in range(workers)]
    for squarer in squarers:
        squarer.start()
    for index, squares in sorted(results.get() for _ in squarers):  # read before join()
        items = "item" if len(squares) == 1 else "items"
        print(f"worker {index} of {workers} squared {len(squares)} {items}: {squares}")
    for squarer in squarers:
        squarer.join()
