"""Pairs of processes swap 1 MiB over a ``Pipe``, three ways, and report on a ``Queue``.

    python -m examples.shared_memory.deadlock [WORKERS]  # 4 worker processes if left out
"""
import sys
from concurrent.futures import ThreadPoolExecutor
from multiprocessing import Pipe, Process, Queue

N = 1 << 20  # bytes: far more than a pipe holds


def swap(index, conn, reports):
    mine, got = bytes([index % 251]) * N, []
    # conn.send_bytes(mine); conn.recv_bytes()  # on both ends: each waits for the other to read
    if index % 2 == 0:  # order by parity: the even worker sends first, the odd one receives
        conn.send_bytes(mine)
    got.append(conn.recv_bytes())
    if index % 2 == 1:
        conn.send_bytes(mine)
    with ThreadPoolExecutor(2) as threads:
        sent = threads.submit(conn.send_bytes, mine)  # send and receive at once
        got.append(conn.recv_bytes())
        sent.result()
        posted = [threads.submit(conn.send_bytes, mine), threads.submit(conn.recv_bytes)]
        got.append([future.result() for future in posted][1])  # post both, then wait
    reports.put((index, got))  # 3 MiB: the parent must get() it before it join()s us


if __name__ == "__main__":
    workers = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    pipes, reports = [Pipe() for _ in range(workers // 2)], Queue()
    pairs = [Process(target=swap, args=(w, pipes[w // 2][w % 2], reports))
             for w in range(workers - workers % 2)]  # an odd one out has no partner
    for p in pairs:
        p.start()
    got = dict(reports.get() for _ in pairs)  # drained first: join() first would deadlock
    for p in pairs:
        p.join()
    assert all(got[w] == [bytes([(w ^ 1) % 251]) * N] * 3 for w in got)
    print(f"message: {N} bytes each way between the two workers of a pair")
    for fix in ("order by parity", "send and receive at once", "post both, then wait"):
        for a in range(0, workers - 1, 2):
            print(f"{fix}: pair {a}-{a + 1} completed")
    if workers % 2:
        print(f"worker {workers - 1} had no partner")
