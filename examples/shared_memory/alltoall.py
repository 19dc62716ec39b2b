"""The shuffle of map-reduce: each worker sends the square of every x of its share to worker x % W.

    python -m examples.shared_memory.alltoall [WORKERS]  # 4 worker processes if left out
"""
import sys
from multiprocessing import Process, Queue


def shuffle(me, workers, channels, results):  # channels[i][j]: a Queue from worker i to j
    size, extra = divmod(10, workers)  # my contiguous share of 0..9; the first `extra` get one more
    share = range(me * size + min(me, extra), (me + 1) * size + min(me + 1, extra))
    buckets = [[x * x for x in share if x % workers == j] for j in range(workers)]
    for other in range(workers):  # put() never blocks (a feeder thread writes): all write first
        channels[me][other].put(buckets[other])
    mine = [y for other in range(workers) for y in channels[other][me].get()]  # then all read
    results.put((me, len(mine), sum(mine)))


if __name__ == "__main__":
    workers = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    channels = [[Queue() for _ in range(workers)] for _ in range(workers)]
    results = Queue()
    processes = [Process(target=shuffle, args=(w, workers, channels, results))
                 for w in range(workers)]
    for process in processes:
        process.start()
    for me, count, total in sorted(results.get() for _ in processes):  # read before join()
        print(f"worker {me} of {workers} holds {count} square{'s' * (count != 1)}, sum {total}")
    for process in processes:
        process.join()
