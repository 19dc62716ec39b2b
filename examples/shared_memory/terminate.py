"""Stop workers that loop forever, cooperatively: each looks at an ``Event`` between two units.

    python -m examples.shared_memory.terminate [WORKERS]  # 4 worker processes if left out
"""
import sys
import time
from multiprocessing import Event, Process, Queue


def work(index, stop, working, stopped):
    working.put(index)
    try:
        while not stop.is_set():  # looked at between two units only: none is cut short
            time.sleep(0.01)  # one unit of work
    finally:  # the cleanup, which Process.terminate() would skip
        stopped.put(index)


if __name__ == "__main__":
    workers = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    stop, working, stopped = Event(), Queue(), Queue()
    processes = [Process(target=work, args=(i, stop, working, stopped)) for i in range(workers)]
    for process in processes:
        process.start()
        working.get()  # it is at work
    stop.set()  # every worker is at work: ask them all to stop
    for index in sorted(stopped.get() for _ in processes):  # read before join()
        print(f"worker {index} stopped on request, cleaned up")
    for process in processes:
        process.join()
