"""The shuffle of map-reduce: each worker sends the square of every x of its share to worker x % W.

    python -m shared_memory.alltoall [--workers 4] [--items 10] [--buffer] [--trace]

Each worker squares its contiguous share of 0..N-1 and sorts the squares into W buckets,
the square of x into bucket ``x % W``; bucket j goes to worker j. Afterwards worker j holds
exactly the squares of the x with ``x % W == j``, from every worker, and sends how many and
their sum to the parent over a pipe of its own. The parent checks that the buckets add up to
the whole before it prints one line a worker.

Channels, the default: a ``Queue`` for every ordered pair of workers, i to j (W(W-1) of them;
a worker's own bucket stays with it). Every worker puts all its buckets, then takes one from
each of its incoming queues, in worker order. That order of reads cannot deadlock: ``put()``
hands the bucket to the queue's feeder thread and returns at once, so every worker reaches
its reads, and each read waits only for a put its writer made before reading anything. The
same order over bare ``Pipe``s would deadlock: ``send()`` blocks once the pipe's buffer is
full, until the other end reads, and when every worker writes before it reads, a bucket
larger than the buffer leaves them all in ``send()``, each waiting for another to read (a
pipe version needs a thread to write while it reads, or rounds that pair the workers off). A
queue's own hazard is the other way round: a process does not exit before its feeder has
written everything (``runtime.gather`` says why), and here every bucket is read before its
reader ends. And a channel a pair is W(W-1) pipes, two file descriptors each in the parent:
a worker count past the open-file limit (``ulimit -n``) is refused (``open_files_needed``).

``--buffer``: one ``shared_memory`` segment holds a W×W matrix whose cell (i, j) is what
worker i sends worker j: a count, and room for as many squares as any share has for one
bucket. Each worker writes its row, waits at a ``Barrier`` of all W, then reads its column.
Nothing is pickled, nothing goes through a pipe. The barrier keeps every reader from its
column until every row is written, and it orders the memory too: its lock and semaphores
are memory barriers, so the stores before ``wait()`` are seen by the loads after it. The
parent unlinks the segment, once, however the run ends (``matrix_segment``); every process
drops its numpy views before it closes its mapping (``shared_memory.array.view`` says why).

Hazards: a worker that dies leaves its siblings waiting for ever, on a queue it will never
write or at a barrier it will never reach. The parent watches every worker while it reads
their reports, and the first failure stops the rest (``runtime.start_and_collect``).

The message-passing twin is ``message_passing.alltoall``; both print the same lines, one a
worker with its count and sum, made and checked by ``contract.outputs.alltoall_lines``.
Bare example: examples/shared_memory/alltoall.py
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from contextlib import AbstractContextManager
from multiprocessing import Barrier, Pipe, Process, Queue, current_process
from multiprocessing.connection import Connection
from multiprocessing.shared_memory import SharedMemory
from multiprocessing.synchronize import Barrier as BarrierType
from typing import TYPE_CHECKING

import numpy as np

from contract import cli, faults, unit
from contract.outputs import Bucket, alltoall_lines, alltoall_trace
from shared_memory import runtime

if TYPE_CHECKING:
    from multiprocessing.queues import Queue as QueueType

PREFIX = "mpvsmpi-alltoall-"  # + the creator's pid: find leftovers with ls /dev/shm/mpvsmpi-a*
SPARE_FILES = 16  # what a Python process holds open besides our pipes, and some to spare


def bucketed(share: range, workers: int) -> list[list[int]]:
    """The squares of ``share``, the square of x in bucket ``x % workers``."""
    buckets: list[list[int]] = [[] for _ in range(workers)]
    for x in share:
        buckets[x % workers].append(unit.square(x))
    return buckets


def report(worker: int, held: Sequence[Sequence[int]], sent: list[int]) -> tuple:
    """What a worker sends the parent: its bucket counted and summed, and for ``--trace``
    who it was and how many squares it sent each worker."""
    count = sum(len(part) for part in held)
    total = sum(sum(part) for part in held)
    return Bucket(worker, count, total), f"{current_process().name}, pid {os.getpid()}", sent


@runtime.worker
def through_queues(
    worker: int, workers: int, items: int, outgoing: Sequence[QueueType | None],
    incoming: Sequence[QueueType | None], results: Connection, fault: faults.Fault | None,
) -> None:
    """One worker: square its share, put bucket j on ``outgoing[j]``, then take one bucket
    from each ``incoming[i]`` (``None``: its own, which stays here); report to the parent."""
    faults.strike(fault, worker)
    buckets = bucketed(unit.share(items, workers, worker), workers)
    for other, channel in enumerate(outgoing):
        if channel is not None:
            channel.put(buckets[other])  # never blocks: the feeder thread writes it
    held = [buckets[worker] if channel is None else channel.get() for channel in incoming]
    results.send(report(worker, held, [len(bucket) for bucket in buckets]))
    results.close()


def matrix(segment: SharedMemory, workers: int, room: int) -> tuple[np.ndarray, np.ndarray]:
    """The segment as the W×W counts, then the W×W×room squares (cell i, j: worker i to j).

    ``np.frombuffer`` views: they hold the mapping open, so ``close()`` refuses while one lives
    rather than unmapping memory under it (``shared_memory.array.view``).
    """
    cells = workers * workers
    counts = np.frombuffer(segment.buf, dtype=np.int64, count=cells)
    squares = np.frombuffer(
        segment.buf, dtype=np.int64, count=cells * room, offset=counts.nbytes
    )
    return counts.reshape(workers, workers), squares.reshape(workers, workers, room)


@runtime.worker
def through_matrix(
    worker: int, workers: int, items: int, name: str, room: int, barrier: BarrierType,
    results: Connection, fault: faults.Fault | None,
) -> None:
    """One worker: write its row of the matrix in segment ``name``, wait at ``barrier`` for
    every other row, read its column; report to the parent."""
    # Attached by name: the child shares the parent's resource tracker, so this registration
    # duplicates the parent's and is left alone (shared_memory.array.serve says why).
    segment = SharedMemory(name=name)
    counts = squares = held = None
    try:
        counts, squares = matrix(segment, workers, room)
        faults.strike(fault, worker)
        buckets = bucketed(unit.share(items, workers, worker), workers)
        for other, bucket in enumerate(buckets):  # our row
            counts[worker, other] = len(bucket)
            squares[worker, other, :len(bucket)] = bucket
        barrier.wait()  # every row is written, and visible here
        held = [squares[other, worker, :counts[other, worker]] for other in range(workers)]
        # Summed as Python ints: a bucket's sum outgrows int64 long before its squares do.
        message = report(worker, [part.tolist() for part in held], [len(b) for b in buckets])
        results.send(message)
        results.close()
    finally:
        counts = squares = held = None  # the views go first
        segment.close()


def room_needed(items: int, workers: int) -> int:
    """How many squares one cell must hold: the most any share has for one bucket.

    The largest share has ceil(items / W) consecutive numbers, of which at most
    ceil(that / W) leave the same remainder mod W.
    """
    largest = -(-items // workers)
    return -(-largest // workers)


def matrix_segment(workers: int, room: int) -> AbstractContextManager[SharedMemory]:
    """A new segment for the W×W matrix, unlinked however the block ends
    (``runtime.segment`` says how)."""
    return runtime.segment(PREFIX, workers * workers * (1 + room) * np.dtype(np.int64).itemsize)


def run(
    items: int = 10, workers: int = 4, *, buffer: bool = False, trace: bool = False,
    fault: faults.Fault | None = None,
) -> list[Bucket]:
    """Shuffle the squares of 0..items-1 over ``workers`` processes; what each one holds,
    in worker order. ``buffer``: through a shared matrix instead of queues."""
    pipes = [Pipe(duplex=False) for _ in range(workers)]
    if buffer:
        room = room_needed(items, workers)
        with matrix_segment(workers, room) as segment:
            if trace:
                print(f"segment /{segment.name}: {segment.size} bytes, {workers}x{workers} "
                      f"cells of up to {room} squares", file=sys.stderr)
            barrier = Barrier(workers)
            processes = [
                Process(target=through_matrix, name=f"alltoall-{w}",
                        args=(w, workers, items, segment.name, room, barrier, send, fault))
                for w, (_, send) in enumerate(pipes)
            ]
            reports = runtime.start_and_collect(processes, pipes)
    else:
        # channels[i][j]: from worker i to worker j; none from a worker to itself.
        channels = [[Queue() if i != j else None for j in range(workers)] for i in range(workers)]
        processes = [
            Process(target=through_queues, name=f"alltoall-{w}",
                    args=(w, workers, items, channels[w], [row[w] for row in channels],
                          send, fault))
            for w, (_, send) in enumerate(pipes)
        ]
        reports = runtime.start_and_collect(processes, pipes)
    if trace:
        for w, (_, who, sent) in enumerate(reports):
            alltoall_trace(who, (unit.share(items, workers, w), sent))
    return [held for held, _, _ in reports]


def open_files_needed(workers: int) -> int:
    """About how many files the parent holds open at once for the channels: each queue is a
    pipe, two descriptors, W(W-1) queues; and a worker's result pipe, its sentinel and what
    starting it takes, four more a worker. (A forked child inherits them all.)"""
    return 2 * workers * (workers - 1) + 4 * workers + SPARE_FILES


def open_file_limit() -> int | None:
    """How many files this process may open (``ulimit -n``); None where there is no limit."""
    try:
        import resource  # here: POSIX only, and only this check needs it
    except ImportError:
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else soft


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.make_parser("shared_memory.alltoall", __doc__)
    cli.add_workers(parser)
    cli.add_items(parser, default=10)
    parser.add_argument(
        "--buffer", action="store_true",
        help="shuffle through a W×W matrix in shared memory and a Barrier, not queues",
    )
    args = cli.parse(parser, argv)
    limit, needed = open_file_limit(), open_files_needed(args.workers)
    if not args.buffer and limit is not None and needed > limit:
        parser.error(
            f"--workers {args.workers} needs about {needed} open files for its "
            f"{args.workers * (args.workers - 1)} queues, more than the {limit} allowed here "
            "(ulimit -n): use --buffer, or fewer workers"
        )
    with runtime.report_failures(parser.prog):
        held = run(args.items, args.workers, buffer=args.buffer, trace=args.trace,
                   fault=args.fault)
        lines = alltoall_lines(held, args.items)
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
