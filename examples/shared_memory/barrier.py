"""Two of the workers meet at a ``multiprocessing.Barrier`` and go on together; the others run free.

    python -m examples.shared_memory.barrier [WORKERS]  # 4 worker processes if left out
"""
import sys
import time
from multiprocessing import Barrier, Process, Queue


def arrive(worker, barrier, passed):
    time.sleep(worker * 0.01)  # uneven work: the members arrive at different times
    if barrier is not None:
        barrier.wait()  # returns once every member has arrived
    passed.put((worker, barrier is not None))


if __name__ == "__main__":
    workers = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    barrier, passed = Barrier(min(2, workers)), Queue()  # parties: exactly who calls wait()
    processes = [Process(target=arrive, args=(i, barrier if i < 2 else None, passed))
                 for i in range(workers)]
    for process in processes:
        process.start()
    passages = sorted(passed.get() for _ in processes)  # read before join()
    for process in processes:
        process.join()
    print("met at the barrier:", ", ".join(str(w) for w, met in passages if met) or "none")
    print("ran free:", ", ".join(str(w) for w, met in passages if not met) or "none")
