"""Square a numpy array in place from several processes: ``multiprocessing.shared_memory``.

    python -m shared_memory.array [--workers 4] [--items 10] [--start-method M] [--trace]

The parent creates one shared-memory segment (``SharedMemory(create=True)``), views it as a
float64 array and writes the input 0, 1, ..., N-1 into it. Each worker attaches to the
segment by its name, views the same pages as an array of its own, and squares its
contiguous slice in place (slices differ in size by at most one; with more workers than
items some have nothing to do). No copy of the data crosses a pipe: a worker gets the
segment's name and its slice's bounds, and over a pipe of its own it only hears "go" and
answers "done". The slices do not overlap, so no lock is needed; the parent reads a slice
only after its worker said "done", which the worker sends after its last store (see
``Team``). ``--start-method`` runs the workers forked, spawned or from a fork server: they
receive names, numbers and their pipe, never the parent's objects, so the code is the same
under each.

The expert's way, and this module's: the segment and the workers are set up once
(``Team``), and squaring is then "go, every worker squares its slice in place, done",
as often as there is work, close to a single process's in-place ``np.square`` per byte
(``python -m bench square`` measures it). The program squares once.

Hazards. A segment outlives every process that maps it until it is *unlinked*, once,
by one process: here the parent, in a ``finally``, so that neither a failed worker nor an
error in the parent leaves it in ``/dev/shm`` (names start with ``mpvsmpi-array-`` and the
parent's pid, so a leftover can be traced to its creator). Each process closes its own
mapping, and only after every numpy view of it is gone (see ``view``). Python's resource
tracker watches segments too (see ``serve``).

The message-passing twin is ``message_passing.array``; both print the same line.
Bare example: examples/shared_memory/array.py
"""

from __future__ import annotations

import multiprocessing
import os
import secrets
import sys
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from multiprocessing.shared_memory import SharedMemory
from typing import TypeVar

import numpy as np

from contract import cli, faults, outputs, unit
from shared_memory import runtime

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


GO, DONE, STOP = "go", "done", "stop"  # the orders and the answer, over each worker's pipe


@runtime.worker
def serve(
    name: str, items: int, worker: int, part: range, fault: faults.Fault | None,
    orders: Connection,
) -> None:
    """One worker: attach to segment ``name`` and say DONE (ready), then square ``array[part]``
    in place at every GO, answering DONE, until STOP (or the parent is gone)."""
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
    # A parent killed outright sends no STOP, and the other end of our pipe may stay open
    # in a sibling that inherited it: @runtime.worker's guard ends us then.
    try:
        array = view(segment, items)
        mine = array[part.start:part.stop]
        faults.strike(fault, worker)
        orders.send(DONE)  # attached: ready for the first GO
        while orders.recv() == GO:
            np.square(mine, out=mine)
            orders.send(DONE)
    except EOFError:
        pass  # the parent closed its end without a STOP: it is going away, and so do we
    finally:
        array = mine = None  # the views go first (see `view`)
        segment.close()


class Team:
    """``workers`` processes attached to one shared segment, started once, set to work often.

        with Team(items, workers) as team:  # segment made, 0..N-1 written, workers attached
            team.square()                   # every worker squares its slice in place
            use(team.array)                 # the squares, where they were squared
            team.refill()                   # 0..N-1 again, for another square()

    ``square()`` is the whole cost of the work once the team stands: two short messages a
    worker (GO, DONE) around the squaring itself, no data copied, no process started. Each
    worker answers on its own pipe, and the parent reads the answers while it watches
    every worker (``runtime.collect``): a worker that fails is reported, never waited for.
    The pipe also orders the memory: a worker reads the input only after it has received
    GO, which the parent sent after writing it, and the parent reads a slice only after it
    has received that worker's DONE, sent after squaring. (A pipe's write and read are
    system calls whose kernel locks are full memory barriers, on every architecture.)

    ``team.array`` is the segment itself: it lives as long as the ``with`` block, and nothing
    may keep it, or a view of it, past the block (see ``view``). Leaving the block stops the
    workers (STOP, then each must end well), closes the segment and unlinks it, whatever
    happened inside.
    """

    def __init__(
        self, items: int, workers: int, *, fault: faults.Fault | None = None,
        start_method: str | None = None,
    ) -> None:
        self.items, self.workers, self.fault = items, workers, fault
        self.context = multiprocessing.get_context(start_method)
        self.parts = [unit.share(items, workers, w) for w in range(workers)]
        self.segment: SharedMemory | None = None
        self.array: np.ndarray | None = None
        self.processes: list[BaseProcess] = []
        self.orders: list[Connection] = []

    def __enter__(self) -> Team:
        try:
            self._start()
        except BaseException as error:
            self._end(error)
            raise
        return self

    def __exit__(self, kind: object, error: BaseException | None, tb: object) -> None:
        self._end(error)

    def _start(self) -> None:
        # A random part after the pid: two runs in one process never meet, nor a run and the
        # leftover of a killed process that had the same pid. A segment of 0 bytes is refused.
        self.segment = SharedMemory(
            name=f"{PREFIX}{os.getpid()}-{secrets.token_hex(4)}", create=True,
            size=max(1, self.items * np.dtype(np.float64).itemsize),
        )
        self.array = view(self.segment, self.items)
        fill(self.array)
        pipes = [self.context.Pipe() for _ in range(self.workers)]
        self.orders = [ours for ours, _ in pipes]
        self.processes = [
            self.context.Process(
                target=serve, name=f"square-{w}",
                args=(self.segment.name, self.items, w, self.parts[w], self.fault, theirs),
            )
            for w, (_, theirs) in enumerate(pipes)
        ]
        try:
            for process in self.processes:
                process.start()
        finally:
            for _, theirs in pipes:
                theirs.close()  # the child has its own: ours would keep EOF from ever coming
        runtime.collect(self.processes, self.orders)  # every worker attached, ready

    def square(self) -> None:
        """Every worker squares its slice of ``array`` in place; returns when all are done."""
        self._tell(GO)
        runtime.collect(self.processes, self.orders)

    def _tell(self, order: str) -> None:
        try:
            for orders in self.orders:
                orders.send(order)
        except OSError:
            # A worker that died closed its end: name it (WorkerFailed) rather than the pipe.
            runtime.supervise(self.processes)
            raise

    def refill(self) -> None:
        """The input 0..N-1 again (the parent writes it; no worker is working)."""
        assert self.array is not None
        fill(self.array)

    def _end(self, error: BaseException | None) -> None:
        try:
            if error is None:
                self._tell(STOP)
                runtime.supervise(self.processes)  # each must end well
            else:
                # Its traceback keeps every frame the error passed through, locals included:
                # a view of the segment there would keep it from closing.
                traceback.clear_frames(error.__traceback__)
        finally:
            runtime.stop(self.processes)
            for orders in self.orders:
                orders.close()
            self.array = None  # the view goes first (see `view`)
            if self.segment is not None:
                try:
                    self.segment.close()
                finally:
                    self.segment.unlink()  # once, here, whatever happened: the name leaves /dev/shm


def squared(
    items: int, workers: int, use: Callable[[np.ndarray], T], *, trace: bool = False,
    fault: faults.Fault | None = None, start_method: str | None = None,
) -> T:
    """Square 0..items-1 in a shared segment with ``workers`` processes; ``use(array)``.

    ``use`` sees the squared array while the segment exists and must not keep it (or any
    view of it): the segment is closed and unlinked when this returns.
    ``start_method``: ``"fork"``, ``"spawn"`` or ``"forkserver"``; None: the platform's default.
    """
    with Team(items, workers, fault=fault, start_method=start_method) as team:
        assert team.segment is not None and team.array is not None
        if trace:
            print(f"segment /{team.segment.name}: {team.segment.size} bytes", file=sys.stderr)
        team.square()
        result = use(team.array)
    if trace:
        for process, part in zip(team.processes, team.parts, strict=True):
            outputs.slice_trace(f"{process.name} (pid {process.pid})", part)
    return result


def run(
    items: int, workers: int = 4, *, trace: bool = False, fault: faults.Fault | None = None,
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
    parser = cli.make_parser("shared_memory.array", __doc__)
    cli.add_workers(parser)
    cli.add_items(parser, default=10, item_bytes=cli.ARRAY_ITEM_BYTES)
    parser.add_argument(
        "--start-method", choices=multiprocessing.get_all_start_methods(), metavar="M",
        help="how to start the workers: "
        f"{', '.join(multiprocessing.get_all_start_methods())} (default: the platform's)",
    )
    args = cli.parse(parser, argv)
    with runtime.report_failures(parser.prog):
        line = squared(
            args.items, args.workers, summary, trace=args.trace, fault=args.fault,
            start_method=args.start_method,
        )
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
