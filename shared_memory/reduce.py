"""Each worker squares its share of 0..N-1 and the partial sums are combined into one total.

    python -m shared_memory.reduce [--workers 4] [--items 100] [--all | --scan] [--buffer]
                                   [--trace] [--fault raise:W]

Worker w squares its contiguous share of 0..N-1 (shares differ in size by at most one;
with more workers than items the last ones get nothing) and sums the squares: its partial
sum. What happens to the partial sums is the pattern, three ways:

* by default, *reduce to one*: each worker puts its partial sum on a ``Queue`` and the
  parent adds them up. Only the parent holds the total.
* ``--all``, *every worker holds the total*: a shared ``Value`` that each worker adds its
  partial sum to under the value's ``Lock`` (``+=`` is a read, then a write: without the
  lock two workers could read the same old total and one partial sum would be lost), then
  a ``Barrier`` for every worker, so that nobody reads the total before the last one has
  added to it. Each worker reports what it read.
* ``--scan``, *every worker holds the sum through its share* (a prefix sum): a chain of
  one-way pipes (``Pipe(duplex=False)``), worker w-1 to worker w. Worker w squares its
  share while its predecessors square theirs, then waits for the running total of workers
  0..w-1, adds its own, passes the result on to worker w+1 and reports it. The last
  worker's is the total.

``--buffer``: the same three, with the partial sums in a shared numpy array instead of
messages: one int64 slot a worker (a ``RawArray("q", W)`` viewed with ``np.frombuffer``;
each worker writes only its own slot, so no lock). By default the parent sums the slots once
every worker has ended; ``--all``: each worker, after a ``Barrier``, sums all the slots;
``--scan``: each, after the barrier, sums the slots 0..w. What it holds goes in a second
array, a slot a worker. Nothing is pickled: the twin of the MPI side's upper-case
``Reduce``, ``Allreduce`` and ``Scan`` of numpy buffers. Plain stores to shared memory are
not messages: what orders a worker's store before another's load is the barrier between
them (a semaphore, a full memory barrier), and for the parent, the worker's exit.

Hazards. A barrier counts calls, not callers, and a pipe's reader waits for its writer: a
worker that dies before it reaches the barrier, or before it passes its running total on,
leaves the others waiting for ever. The parent watches every worker while it waits for them
(``runtime.gather``, ``runtime.start_and_supervise``) and, at the first failure, stops the
others (``runtime.started``): their wait is ended from outside, and the run fails naming the
worker that failed first. The chain is ended the same way: the parent keeps its copy of
every pipe end until the run is over, so no worker ever reads an end of pipe that it
would have to tell from a result, and the worker named is the one that failed, never a
successor that saw its pipe close. ``--all`` and ``--buffer`` hold the total in an int64:
``contract.outputs.reduce_refusal`` refuses an item count whose total overflows it.

The message-passing twin is ``message_passing.reduce``; both print the same lines, the
total and (``--all``, ``--scan``) what each worker holds, made and checked by
``contract.outputs.Reduced``.
Bare example: examples/shared_memory/reduce.py
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from multiprocessing import Barrier, Pipe, Process, Queue, RawArray, Value
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue as QueueType
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Barrier as BarrierType

from contract import cli, faults, unit
from contract.outputs import Reduced, reduce_refusal, reduce_trace
from shared_memory import runtime

MODES = ("reduce", "allreduce", "scan")


def partial_sum(part: range) -> int:
    """The sum of the squares of one worker's share: what each worker contributes."""
    return sum(map(unit.square, part))


# --- the workers: one function a way, each a process's target -----------------------------


@runtime.worker
def reduce(worker: int, part: range, results: QueueType, fault: faults.Fault | None) -> None:
    """Default: the partial sum to the parent, over the queue."""
    faults.strike(fault, worker)
    results.put((worker, partial_sum(part), None))


@runtime.worker
def allreduce(
    worker: int, part: range, total: Synchronized, everyone: BarrierType, results: QueueType,
    fault: faults.Fault | None,
) -> None:
    """``--all``: add the partial sum to the shared total, wait for everybody, read the total."""
    faults.strike(fault, worker)
    partial = partial_sum(part)
    with total.get_lock():
        total.value += partial
    everyone.wait()  # the last one has added: from here on, the total stays as it is
    results.put((worker, partial, total.value))


@runtime.worker
def scan(
    worker: int, part: range, inbox: Connection | None, outbox: Connection | None,
    results: QueueType, fault: faults.Fault | None,
) -> None:
    """``--scan``: the running total from the predecessor, plus ours, on to the successor."""
    faults.strike(fault, worker)
    partial = partial_sum(part)  # while the predecessors work too
    running = partial if inbox is None else inbox.recv() + partial
    if outbox is not None:
        outbox.send(running)
    results.put((worker, partial, running))


@runtime.worker
def into_slots(
    worker: int, part: range, slots: ctypes.Array, held: ctypes.Array,
    everyone: BarrierType | None, mode: str, fault: faults.Fault | None,
) -> None:
    """``--buffer``: the partial sum into our slot; for ``--all``/``--scan`` wait for everybody,
    then sum the slots (all of them, or 0..worker) into our slot of ``held``."""
    import numpy as np  # here: only --buffer pays for importing numpy

    faults.strike(fault, worker)
    partials = np.frombuffer(slots, dtype=np.int64)  # the shared slots, not a copy
    partials[worker] = partial_sum(part)
    if everyone is None:  # a plain reduce: the parent sums the slots
        return
    everyone.wait()  # every slot written before anyone reads
    held[worker] = int(np.sum(partials if mode == "allreduce" else partials[:worker + 1]))


# --- the pattern -------------------------------------------------------------------------


def run(
    items: int = 100, workers: int = 4, *, mode: str = "reduce", buffer: bool = False,
    trace: bool = False, fault: faults.Fault | None = None,
) -> Reduced:
    """The sum of the squares of 0..items-1 over ``workers`` processes, combined as ``mode``
    says ("reduce", "allreduce" or "scan"); ``buffer``: through shared numpy slots."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    parts = [unit.share(items, workers, w) for w in range(workers)]
    if buffer:
        return _run_buffer(items, workers, parts, mode, trace, fault)
    results = Queue()
    chain: list[tuple[Connection, Connection]] = []
    if mode == "reduce":
        processes = [
            Process(target=reduce, name=f"reduce-{w}", args=(w, parts[w], results, fault))
            for w in range(workers)
        ]
    elif mode == "allreduce":
        total = Value(ctypes.c_int64, 0)  # a shared int64 and the lock that guards it
        everyone = Barrier(workers)  # parties: exactly the processes that call wait()
        processes = [
            Process(target=allreduce, name=f"allreduce-{w}",
                    args=(w, parts[w], total, everyone, results, fault))
            for w in range(workers)
        ]
    else:
        # chain[w] carries the running total from worker w to worker w+1: (read end, write end).
        chain = [Pipe(duplex=False) for _ in range(workers - 1)]
        processes = [
            Process(target=scan, name=f"scan-{w}",
                    args=(w, parts[w], chain[w - 1][0] if w > 0 else None,
                          chain[w][1] if w < workers - 1 else None, results, fault))
            for w in range(workers)
        ]
    # Every report read while every worker is watched, then every worker seen to end well.
    # The parent keeps its copy of every end of the chain until all is over (see the
    # module's hazards): a worker waits for its predecessor until it hears or is stopped.
    with runtime.started(processes, closing=[end for pipe in chain for end in pipe]):
        reports = sorted(runtime.gather(results, workers, processes))
        runtime.supervise(processes)
    held = None if mode == "reduce" else [value for _, _, value in reports]
    if mode == "reduce":
        total_sum = sum(partial for _, partial, _ in reports)
    elif mode == "allreduce":
        total_sum = total.value
    else:
        total_sum = reports[-1][2]  # the end of the chain
    if trace:
        _trace(processes, parts, [partial for _, partial, _ in reports], held)
    return Reduced(items, workers, total_sum, held, scan=mode == "scan")


def _run_buffer(
    items: int, workers: int, parts: list[range], mode: str, trace: bool,
    fault: faults.Fault | None,
) -> Reduced:
    """``run`` with ``--buffer``: the partial sums in shared int64 slots, one a worker."""
    import numpy as np  # here: only --buffer pays for importing numpy

    slots = RawArray(ctypes.c_int64, workers)  # no lock: each worker writes only its own
    held = RawArray(ctypes.c_int64, workers)
    everyone = None if mode == "reduce" else Barrier(workers)
    processes: list[BaseProcess] = [
        Process(target=into_slots, name=f"{mode}-{w}",
                args=(w, parts[w], slots, held, everyone, mode, fault))
        for w in range(workers)
    ]
    runtime.start_and_supervise(processes)  # all ended well: every slot is written
    partials = np.frombuffer(slots, dtype=np.int64)
    values = None if mode == "reduce" else [int(v) for v in held]
    total_sum = int(np.sum(partials))
    if trace:
        _trace(processes, parts, [int(p) for p in partials], values)
    return Reduced(items, workers, total_sum, values, scan=mode == "scan")


def _trace(
    processes: Sequence[BaseProcess], parts: Sequence[range], partials: Sequence[int],
    held: Sequence[int] | None,
) -> None:
    for w, process in enumerate(processes):
        reduce_trace(f"worker {process.name} (pid {process.pid})",
                     (parts[w], partials[w], None if held is None else held[w]))


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.make_parser("shared_memory.reduce", __doc__)
    cli.add_workers(parser)
    cli.add_items(parser, default=100)
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--all", dest="mode", action="store_const", const="allreduce",
                     help="every worker holds the total (a shared Value, a Lock, a Barrier)")
    how.add_argument("--scan", dest="mode", action="store_const", const="scan",
                     help="every worker holds the sum through its share (a chain of Pipes)")
    parser.set_defaults(mode="reduce")
    parser.add_argument("--buffer", action="store_true",
                        help="the partial sums in a shared numpy array, one slot a worker")
    args = cli.parse(parser, argv)
    refusal = reduce_refusal(args.items, args.mode, args.buffer)
    if refusal:
        parser.error(refusal)
    with runtime.report_failures(parser.prog):
        reduced = run(args.items, args.workers, mode=args.mode, buffer=args.buffer,
                      trace=args.trace, fault=args.fault)
        print("\n".join(reduced.lines()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
