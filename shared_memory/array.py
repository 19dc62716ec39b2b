"""Square a numpy array in place from several processes: ``multiprocessing.shared_memory``.

    python -m shared_memory.array [--workers 4] [--items 10] [--start-method M] [--trace]

The parent creates one shared-memory segment (``SharedMemory(create=True)``), views it as a
float64 array and writes the input 0, 1, ..., N-1 into it. Each worker attaches to the
segment by its name, views the same pages as an array of its own, and squares its
contiguous slice in place (slices differ in size by at most one; with more workers than
items some have nothing to do). No copy of the data crosses a pipe: a worker gets the
segment's name and its slice's bounds, and sends nothing back; its exit status says it
squared its slice. The slices do not overlap, so no lock is needed; the parent reads the
array only after every worker has ended well, and a process that has ended has no store
left in flight, so the parent sees every square. ``--start-method`` runs the workers
forked, spawned or from a fork server: they receive names and numbers, never the parent's
objects, so the code is the same under each.

Hazards. A segment outlives every process that maps it until it is *unlinked*, once,
by one process: here the parent, in a ``finally``, so that neither a failed worker nor an
error in the parent leaves it in ``/dev/shm`` (names start with ``mpvsmpi-array-`` and the
parent's pid, so a leftover can be traced to its creator). Each process closes its own
mapping, and only after every numpy view of it is gone (see ``view``). Python's resource
tracker watches segments too (see ``square_slice``).

The message-passing twin is ``message_passing.array``; both print the same line.
"""

from __future__ import annotations

import multiprocessing
import os
import secrets
import sys
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.shared_memory import SharedMemory
from typing import TypeVar

import numpy as np

from bench import contract, outputs
from shared_memory import _workers

T = TypeVar("T")

PREFIX = "mpvsmpi-array-"  # + the creator's pid: find leftovers with ls /dev/shm/mpvsmpi-array-*
BLOCK = 1 << 20  # items written at a time when filling the input


def fill(array: np.ndarray) -> None:
    """``array[i] = i``, a block at a time: ``np.arange(N)`` whole would be a second array."""
    for start in range(0, len(array), BLOCK):
        block = array[start:start + BLOCK]
        block[:] = np.arange(start, start + len(block), dtype=np.float64)


def view(segment: SharedMemory, items: int) -> np.ndarray:
    """The first ``items`` float64s of ``segment``, as an array that holds the mapping open.

    ``np.frombuffer`` keeps a buffer export of ``segment.buf`` for as long as the array or a
    view of it lives, so ``segment.close()`` refuses (``BufferError``) while one does. The
    array ``np.ndarray(buffer=segment.buf)`` makes holds no export: the close would unmap
    the memory under it, and the next access would crash the process (a segfault). Every
    process therefore drops its views before it closes its mapping.
    """
    return np.frombuffer(segment.buf, dtype=np.float64, count=items)


def square_slice(
    name: str, items: int, worker: int, part: range, fault: contract.Fault | None
) -> None:
    """One worker: attach to segment ``name`` and square ``array[part]`` in place."""
    # The resource tracker. On POSIX, Python < 3.13 registers every SharedMemory with the
    # resource tracker, attached ones included, and the tracker unlinks (with a "leaked
    # shared_memory objects" warning) whatever is still registered when it shuts down. A
    # *separate* program attaching by name has a tracker of its own, which would unlink our
    # segment when that program exits; the usual cure is to unregister after attaching. Our
    # workers are not separate programs: under every start method (fork, spawn and
    # forkserver; checked on 3.11) a child started by multiprocessing is handed the
    # parent's tracker, and the tracker keeps the names of each kind in a set. So this
    # registration is a duplicate of the parent's, a no-op, and we leave it alone. Were the
    # child to unregister, it would remove the parent's entry, and the parent's unlink
    # would then make the tracker print a KeyError traceback. The parent's unlink
    # unregisters the name once; tests/test_array.py runs all three start methods and
    # checks stderr for "resource_tracker". (From Python 3.13, track=False says it outright.)
    segment = SharedMemory(name=name)
    array = mine = None
    try:
        array = view(segment, items)
        contract.strike(fault, worker)
        mine = array[part.start:part.stop]
        np.square(mine, out=mine)
    finally:
        array = mine = None  # the views go first (see `view`)
        segment.close()


def squared(
    items: int, workers: int, use: Callable[[np.ndarray], T], *, trace: bool = False,
    fault: contract.Fault | None = None, start_method: str | None = None,
) -> T:
    """Square 0..items-1 in a shared segment with ``workers`` processes; ``use(array)``.

    ``use`` sees the squared array while the segment exists and must not keep it (or any
    view of it): the segment is closed and unlinked when this returns.
    ``start_method``: ``"fork"``, ``"spawn"`` or ``"forkserver"``; None: the platform's default.
    """
    context = multiprocessing.get_context(start_method)
    # A random part after the pid: two runs in one process never meet, nor a run and the
    # leftover of a killed process that had the same pid. A segment of 0 bytes is refused.
    segment = SharedMemory(
        name=f"{PREFIX}{os.getpid()}-{secrets.token_hex(4)}", create=True,
        size=max(1, items * np.dtype(np.float64).itemsize),
    )
    array = None
    try:
        array = view(segment, items)
        fill(array)
        if trace:
            print(f"segment /{segment.name}: {segment.size} bytes", file=sys.stderr)
        parts = [contract.share(items, workers, w) for w in range(workers)]
        processes = [
            context.Process(
                target=square_slice, name=f"square-{w}",
                args=(segment.name, items, w, parts[w], fault),
            )
            for w in range(workers)
        ]
        _workers.start_and_supervise(processes)  # every worker ended well: every square is in
        if trace:
            for process, part in zip(processes, parts, strict=True):
                outputs.slice_trace(f"{process.name} (pid {process.pid})", part)
        return use(array)
    except BaseException as error:
        # Its traceback keeps every frame the error passed through, locals included: the
        # argument of `fill` or `use`, a view of the segment, would keep it from closing.
        traceback.clear_frames(error.__traceback__)
        raise
    finally:
        array = None  # the view goes first (see `view`)
        try:
            segment.close()
        finally:
            segment.unlink()  # once, here, whatever happened: the name leaves /dev/shm


def run(
    items: int, workers: int = 4, *, trace: bool = False, fault: contract.Fault | None = None,
    start_method: str | None = None,
) -> np.ndarray:
    """The squares of 0..items-1 as float64, squared in place by ``workers`` processes.

    A copy: the segment they were squared in is gone when this returns.
    """
    return squared(
        items, workers, np.copy, trace=trace, fault=fault, start_method=start_method
    )


def summary(array: np.ndarray) -> str:
    """The line to print: the size and the checksum, read straight from the segment."""
    return outputs.array_line(len(array), float(np.sum(array)))


def main(argv: Sequence[str] | None = None) -> int:
    parser = contract.make_parser("shared_memory.array", __doc__)
    contract.add_workers(parser)
    contract.add_items(parser, default=10)
    parser.add_argument(
        "--start-method", choices=multiprocessing.get_all_start_methods(), metavar="M",
        help="how to start the workers: "
        f"{', '.join(multiprocessing.get_all_start_methods())} (default: the platform's)",
    )
    args = contract.parse(parser, argv)
    with _workers.report_failures(parser.prog):
        line = squared(
            args.items, args.workers, summary, trace=args.trace, fault=args.fault,
            start_method=args.start_method,
        )
    print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
