"""K of the workers meet at a ``multiprocessing.Barrier`` and go on in turn; the others run free.

    python -m shared_memory.barrier [--workers 4] [--group 2] [--trace]

Workers 0..K-1 are the group: each one arrives, waits in ``Barrier(K).wait()``
until all K have arrived, and only then goes on. Workers K..W-1 never wait.
Worker i works i times ``STAGGER`` before it arrives (uneven work), so the
members arrive at different times and the early ones wait for the last. Past the
barrier the members take a ``Lock`` one at a time: under it each takes the
next turn from a shared counter and, with ``--trace``, prints its line, so the
group's lines come out one by one in turn order (which member goes first is up
to the scheduler). A ``--group`` larger than the number of workers is cut down
to it: everyone meets.

Hazards. A barrier counts calls, not callers: K must be exactly the number of
processes that call ``wait()``. One process too few, or a member that dies
before it arrives, leaves the others waiting forever: the parent watches them all
(``runtime.start_and_supervise``) and stops the rest when one fails. The counter
is a plain shared integer: ``+= 1`` is a read then a write, and without the lock
two members could take the same turn.

Timestamps are ``time.time()``: every process on one host reads the same clock,
so one process's arrival compares with another's departure.

The message-passing twin is ``message_passing.barrier``; both print the same two lines,
who met at the barrier and who ran free, made by ``contract.outputs``.
Bare example: examples/shared_memory/barrier.py
"""

from __future__ import annotations

import ctypes
import time
from collections.abc import Sequence
from multiprocessing import Barrier, Lock, Process, RawArray, RawValue, current_process
from multiprocessing.synchronize import Barrier as BarrierType
from multiprocessing.synchronize import Lock as LockType

from contract import cli, faults
from contract.outputs import Passage, barrier_report, barrier_trace
from shared_memory import runtime

STAGGER = 0.01  # seconds between two workers' arrivals


@runtime.worker
def meet(
    worker: int, barrier: BarrierType | None, lock: LockType, counter: ctypes.c_int,
    turns: ctypes.Array, arrived: ctypes.Array, left: ctypes.Array,
    start: float, trace: bool, fault: faults.Fault | None,
) -> None:
    """One worker: arrive, wait at ``barrier`` if in the group (None: free), then report."""
    faults.strike(fault, worker)
    time.sleep(worker * STAGGER)
    # Each worker writes only its own slots of the shared arrays: no lock needed there.
    arrived[worker] = time.time()
    if barrier is not None:
        barrier.wait()
    left[worker] = time.time()
    who = f"worker {worker} ({current_process().name})"
    if barrier is None:
        # Free workers do not queue for the lock: their lines come whenever they are
        # ready (one short line is one write, so lines do not tear, but any order goes).
        if trace:
            barrier_trace(who, arrived[worker], left[worker], None, start)
        return
    with lock:
        # Turn taking and printing are one step under the lock: nobody else reads the
        # counter between our read and our write, and nobody prints in between.
        turns[worker] = counter.value
        counter.value += 1
        if trace:
            barrier_trace(who, arrived[worker], left[worker], turns[worker], start)


def run(
    workers: int = 4, group: int = 2, *, trace: bool = False,
    fault: faults.Fault | None = None,
) -> list[Passage]:
    """Workers 0..group-1 meet at a barrier, the others run free; every worker's passage."""
    if group < 1:
        raise ValueError(f"a barrier needs a group of 1 or more, not {group}")
    group = min(group, workers)
    barrier = Barrier(group)
    lock = Lock()
    # Raw shared memory, without a lock of its own: the only shared read-modify-write
    # is the counter, and our lock guards it.
    counter = RawValue("i", 0)
    turns = RawArray("i", [-1] * workers)
    arrived = RawArray("d", workers)
    left = RawArray("d", workers)
    start = time.time()
    processes = [
        Process(
            target=meet, name=f"barrier-{i}",
            args=(i, barrier if i < group else None, lock, counter, turns, arrived, left,
                  start, trace, fault),
        )
        for i in range(workers)
    ]
    runtime.start_and_supervise(processes)
    return [
        Passage(i, turns[i] if turns[i] >= 0 else None, arrived[i], left[i])
        for i in range(workers)
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.make_parser("shared_memory.barrier", __doc__)
    cli.add_workers(parser)
    parser.add_argument(
        "--group", type=cli.positive, default=2, metavar="K",
        help="how many workers meet at the barrier (default 2; at most all of them)",
    )
    args = cli.parse(parser, argv)
    with runtime.report_failures(parser.prog):
        passages = run(args.workers, args.group, trace=args.trace, fault=args.fault)
        print(barrier_report(passages))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
