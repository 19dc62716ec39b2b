"""Broadcast: every worker process receives the parent's whole table and says what it got.

    python -m shared_memory.broadcast [--workers 4] [--items 10] [--buffer] [--start-method M]
                                      [--trace] [--fault raise:W]

The parent holds a table, the squares of 0..N-1, that every worker must receive whole. A
process has no ``bcast``: the honest ways one process's data reaches others are two.

* By default, as an argument: ``Process(target=receive, args=(w, table, ...))``. How it
  travels depends on the start method. Under ``fork`` (Linux's default up to Python 3.13)
  the child is a copy of the parent, the ``Process`` object and its arguments included: the
  table is inherited, not sent (its pages are shared until either side writes them, and
  reference counting writes them). Under ``spawn`` (macOS, Windows) and ``forkserver``
  (Linux's default from 3.14) the child is a fresh interpreter: the ``Process`` object,
  table and all, is pickled and sent to each child, one copy a worker, so a big table costs
  W pickles and W copies, and anything in it must be picklable. ``--trace`` says which
  happened.
* ``--buffer``: a numpy int64 array in one ``multiprocessing.shared_memory`` segment,
  written once by the parent; each worker gets only the segment's name and attaches to the
  same pages. Nothing is copied, whatever the start method; the workers only read, so no
  lock is needed, and they start after the table is written, which orders the memory.

Each worker counts the values it got and sums them (the checksum, see
``contract.outputs.CHECKSUM_MODULUS``) and sends that back over a pipe of its own; the
parent reads the pipes while it watches every worker (``runtime.start_and_collect`` says
why), and checks each report against the table it sent before printing it.

Hazards: a segment outlives every process until it is unlinked, once, and its mapping must
not be closed under a numpy view of it (``runtime.segment`` says how both are kept, whatever
happens). A worker that fails is reported, never waited for.

The message-passing twin is ``message_passing.broadcast``; both print the same lines, made
by ``contract.outputs.broadcast_lines``.
Bare example: examples/shared_memory/broadcast.py
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Sequence
from multiprocessing import current_process
from multiprocessing.connection import Connection
from multiprocessing.shared_memory import SharedMemory

import numpy as np

from contract import cli, faults, outputs
from shared_memory import runtime

PREFIX = "mpvsmpi-broadcast-"  # + the parent's pid: ls /dev/shm/mpvsmpi-broadcast-*
INT64 = np.dtype(np.int64).itemsize
BLOCK = 1 << 20  # items written at a time into the segment


def me() -> str:
    """``receiver-2 (pid 4711)``: this worker, for --trace."""
    return f"{current_process().name} (pid {os.getpid()})"


@runtime.worker
def receive(
    worker: int, table: Sequence[int], fault: faults.Fault | None, results: Connection
) -> None:
    """One worker: the table came as an argument; its count and checksum go back."""
    faults.strike(fault, worker)
    results.send(((len(table), outputs.checksum(table)), me()))
    results.close()


@runtime.worker
def attach(
    worker: int, name: str, items: int, fault: faults.Fault | None, results: Connection
) -> None:
    """One worker under --buffer: attach to segment ``name``, read the table where it lies."""
    # Attaching registers the name with the resource tracker again; ours is the parent's,
    # so that is a no-op (shared_memory.array's serve says why it must not be undone).
    segment = SharedMemory(name=name)
    try:
        got = count_and_checksum(segment, items)  # the view lives only inside that call
        faults.strike(fault, worker)
        results.send((got, me()))
        results.close()
    finally:
        segment.close()


def count_and_checksum(segment: SharedMemory, items: int) -> tuple[int, int]:
    """How many int64 values the segment holds for us, and their sum modulo 2**64."""
    table = np.frombuffer(segment.buf, dtype=np.int64, count=items)
    return len(table), int(table.sum(dtype=np.uint64))  # unsigned: wraps, never overflows


def write_table(segment: SharedMemory, items: int) -> None:
    """The squares of 0..items-1 into the segment, a block at a time (no second whole array)."""
    table = np.frombuffer(segment.buf, dtype=np.int64, count=items)
    for start in range(0, items, BLOCK):
        block = table[start:start + BLOCK]
        block[:] = np.arange(start, start + len(block), dtype=np.int64)
        np.square(block, out=block)


def run(
    items: int = 10, workers: int = 4, *, buffer: bool = False, trace: bool = False,
    fault: faults.Fault | None = None, start_method: str | None = None,
) -> list[tuple[int, int]]:
    """What each worker received: its (count, checksum) of the table, in worker order.

    ``buffer``: the table in shared memory instead of in each worker's arguments.
    ``start_method``: ``"fork"``, ``"spawn"`` or ``"forkserver"``; None: the platform's default.
    """
    context = multiprocessing.get_context(start_method)
    pipes = [context.Pipe(duplex=False) for _ in range(workers)]
    if not buffer:
        table = outputs.broadcast_table(items)
        how = ("inherited from the parent (fork)" if context.get_start_method() == "fork"
               else f"pickled in its arguments ({context.get_start_method()})")
        received = runtime.start_and_collect([
            context.Process(target=receive, name=f"receiver-{w}", args=(w, table, fault, send))
            for w, (_, send) in enumerate(pipes)
        ], pipes)
    else:
        how = "in shared memory, nothing copied"
        with runtime.segment(PREFIX, items * INT64) as segment:
            write_table(segment, items)
            if trace:
                print(f"segment /{segment.name}: {items * INT64} bytes", file=sys.stderr)
            received = runtime.start_and_collect([
                context.Process(target=attach, name=f"receiver-{w}",
                                args=(w, segment.name, items, fault, send))
                for w, (_, send) in enumerate(pipes)
            ], pipes)
    if trace:
        for (count, _), who in received:
            outputs.broadcast_trace(who, count, how)
    return [got for got, _ in received]


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.make_parser("shared_memory.broadcast", __doc__)
    cli.add_workers(parser)
    cli.add_items(parser, default=10, item_bytes=INT64)
    parser.add_argument(
        "--buffer", action="store_true",
        help="the table as a numpy array in shared memory, attached by name (nothing copied)",
    )
    parser.add_argument(
        "--start-method", choices=multiprocessing.get_all_start_methods(), metavar="M",
        help="how to start the workers: "
        f"{', '.join(multiprocessing.get_all_start_methods())} (default: the platform's)",
    )
    args = cli.parse(parser, argv)
    if args.buffer:  # one copy, in the segment
        if args.items > outputs.BUFFER_ITEMS:
            parser.error(f"--buffer: the squares of more than {outputs.BUFFER_ITEMS} items "
                         "do not fit in int64")
        cli.check_copies(parser, args.items, 1, INT64)
    else:  # the parent's and one a worker
        cli.check_copies(parser, args.items, args.workers + 1)
    with runtime.report_failures(parser.prog):
        received = run(
            args.items, args.workers, buffer=args.buffer, trace=args.trace, fault=args.fault,
            start_method=args.start_method,
        )
        lines = outputs.broadcast_lines(received, args.items)
        print(*lines, sep="\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
