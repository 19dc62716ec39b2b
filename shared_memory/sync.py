"""A start signal, a semaphore bounding a section, and a token passed on a condition.

    python -m shared_memory.sync [--workers 4] [--items 10] [--bound 2] [--trace]

Worker w squares items w, w+W, w+2W, ... in three steps, each with one of
``multiprocessing``'s synchronization objects:

1. Start signal (``Event``): each worker counts itself ready; the one that
   makes the count W sets the event, and ``wait()`` lets everybody through
   at once, so nobody gets a head start while its siblings are still being
   started. Each worker records how many were ready when it was let through.
2. Bounded section (``BoundedSemaphore(K)``): at most K workers square inside
   it at once. Each one adds itself to a shared counter of workers inside
   (a ``Value`` and its lock) on the way in, and remembers the largest count
   it saw -- itself included -- so the largest number of workers ever inside
   together is observed, not assumed.
3. Token (``Condition``): worker w waits until the turn is w, adds its sum of
   squares to the token, passes the turn on and wakes the others
   (``notify_all``: only the next one can go, but we do not know which
   sleeper that is).

Hazards: ``wait_for`` re-checks its predicate after every wake-up, so a
wake-up meant for another worker costs a look, not a wrong turn. A worker that
dies with its turn never passes the token and the others wait forever: the
parent watches them all (``runtime.start_and_supervise``) and stops the rest.

The message-passing twin is ``message_passing.sync``; both print the same three
lines (start, bound, token), made and checked by ``contract.outputs.Observed``.
Bare example: examples/shared_memory/sync.py
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing import BoundedSemaphore, Condition, Event, Process, RawArray, RawValue, Value
from typing import Any

from contract import cli, faults
from contract.outputs import Observed
from shared_memory import runtime

HOLD = 0.01  # seconds a worker stays inside the section: long enough for others to pile up


@dataclass(frozen=True)
class Shared:
    """Everything the workers share; handed to each ``Process`` when it is created."""

    ready: Any  # Value: workers ready to start (its own lock)
    start: Any  # Event: the start signal
    section: Any  # BoundedSemaphore(bound)
    inside: Any  # Value: workers inside the section now (its own lock)
    handoff: Any  # Condition guarding turn, token and order
    turn: Any  # RawValue: whose turn it is (guarded by handoff)
    token: Any  # RawValue: the running sum carried from worker to worker (guarded by handoff)
    order: Any  # RawArray: order[t] = the worker that took turn t (guarded by handoff)
    saw_ready: Any  # RawArray: per worker, written only by that worker
    peaks: Any  # RawArray: per worker, written only by that worker


@runtime.worker
def work(
    index: int, workers: int, items: int, shared: Shared, fault: faults.Fault | None
) -> None:
    """One worker: wait for the start, square its items inside the bound, pass the token on."""
    with shared.ready.get_lock():
        shared.ready.value += 1
        if shared.ready.value == workers:  # the last one ready gives the signal
            shared.start.set()
    shared.start.wait()
    shared.saw_ready[index] = shared.ready.value
    faults.strike(fault, index)

    peak = total = 0
    for x in range(index, items, workers):
        with shared.section:
            with shared.inside.get_lock():
                shared.inside.value += 1
                peak = max(peak, shared.inside.value)
            total += x * x
            time.sleep(HOLD)
            with shared.inside.get_lock():
                shared.inside.value -= 1
    shared.peaks[index] = peak

    with shared.handoff:
        shared.handoff.wait_for(lambda: shared.turn.value == index)
        shared.order[shared.turn.value] = index
        shared.token.value += total
        shared.turn.value += 1
        shared.handoff.notify_all()


def run(
    items: int = 10, workers: int = 4, *, bound: int = 2, trace: bool = False,
    fault: faults.Fault | None = None,
) -> Observed:
    """Run the three steps with ``workers`` processes; what they observed."""
    shared = Shared(
        ready=Value("i", 0), start=Event(), section=BoundedSemaphore(bound),
        inside=Value("i", 0), handoff=Condition(), turn=RawValue("i", 0),
        token=RawValue("q", 0), order=RawArray("i", workers),
        saw_ready=RawArray("i", workers), peaks=RawArray("i", workers),
    )
    processes = [
        Process(target=work, args=(i, workers, items, shared, fault), name=str(i))
        for i in range(workers)
    ]
    runtime.start_and_supervise(processes)
    seen = Observed(
        workers, bound, list(shared.saw_ready), list(shared.peaks), list(shared.order),
        shared.token.value,
    )
    if trace:
        seen.trace([f"worker {i} (pid {p.pid})" for i, p in enumerate(processes)], items)
    return seen


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.make_parser("shared_memory.sync", __doc__)
    cli.add_workers(parser)
    cli.add_items(parser, default=10)
    parser.add_argument(
        "--bound", type=cli.positive, default=2, metavar="K",
        help="at most K workers inside the section at once (default 2)",
    )
    args = cli.parse(parser, argv)
    with runtime.report_failures(parser.prog):
        seen = run(args.items, args.workers, bound=args.bound, trace=args.trace, fault=args.fault)
        print("\n".join(seen.lines()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
