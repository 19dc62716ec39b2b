"""A start signal, a semaphore bounding a section, and a token passed on a condition.

    mpiexec -n 4 python -m message_passing.sync [--items 10] [--bound 2] [--trace]

Rank r squares items r, r+N, r+2N, ... in three steps. Ranks share no memory,
so the shared objects are ``mpi4py.util.sync`` ones, built on one-sided
(RMA) windows: a rank updates memory that lives on rank 0 with atomic
operations, without rank 0 taking part.

1. Start signal (``comm.Ibarrier()``): each rank counts itself ready on a
   ``sync.Counter``, then starts a nonblocking barrier and waits on it. The
   barrier completes once the last rank has entered it, so nobody gets a
   head start; in between, a rank could do work of its own. Each rank records
   how many were ready when it was let through.
2. Bounded section (``sync.Semaphore(K)``): at most K ranks square inside it
   at once. Each one adds itself to a ``sync.Counter`` of ranks inside on the
   way in (an atomic fetch-and-add) and remembers the largest count it saw,
   itself included, so the largest number ever inside together is observed.
3. Token (``sync.Condition``): rank r waits until the turn -- a counter -- is
   r, adds its sum of squares to the token -- another counter -- passes the
   turn on and wakes the others with ``notify_all``.

Hazards: every ``sync`` object is created and freed collectively, by every
rank, in the same order (each is an RMA window). They are freed only on the
normal path: a rank that raised must not go on to a collective ``free`` the
others never reach, it must reach ``_cli.abort_on_error`` instead.

The shared-state twin is ``shared_memory.sync``; both print the same lines.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

from mpi4py import MPI
from mpi4py.util import sync

from bench import contract
from message_passing import _cli

HOLD = 0.01  # seconds a rank stays inside the section: long enough for others to pile up


@dataclass(frozen=True)
class Observed:
    """What the ranks saw, one entry per rank (in rank order) unless said otherwise."""

    workers: int
    bound: int
    ready: list[int]  # how many ranks were ready when the start signal let this one through
    peaks: list[int]  # the most ranks this one saw inside the section at once, itself included
    order: list[int]  # order[t]: the rank that held the token at turn t
    token: int  # the token's final value: every rank's sum of squares added in

    @property
    def peak(self) -> int:
        """The largest number of ranks ever inside the section together."""
        return max(self.peaks, default=0)

    def lines(self) -> list[str]:
        """The deterministic report; raises if the start signal or the bound did not hold."""
        return report(self)


def report(seen: Observed) -> list[str]:
    """Statements about the observations, identical both ways, checked before they are made.

    How many ranks actually overlap inside the section depends on timing (the
    scheduler, the core count, one rank alone never overlaps), so the
    observed maximum is not printed on stdout -- it goes to --trace -- but the
    statement that it never went above the bound is, and it is checked here:
    a broken bound fails the run instead of printing a falsehood.
    """
    early = [w for w, ready in enumerate(seen.ready) if ready != seen.workers]
    if early:
        raise RuntimeError(
            f"start signal broken: worker {early[0]} began with only "
            f"{seen.ready[early[0]]} of {seen.workers} ready"
        )
    if seen.peak > seen.bound:
        raise RuntimeError(f"bound {seen.bound} exceeded: {seen.peak} workers inside at once")
    return [
        f"start: {seen.workers}/{seen.workers} ready before any worker began",
        f"bound {seen.bound}: never exceeded",
        f"token: {' -> '.join(map(str, seen.order))}, sum of squares {seen.token}",
    ]


def run(
    items: int = 10, comm: MPI.Intracomm = MPI.COMM_WORLD, *, bound: int = 2,
    trace: bool = False, fault: contract.Fault | None = None,
) -> Observed | None:
    """Collective: run the three steps on every rank; what they observed on rank 0, else None."""
    rank, size = comm.Get_rank(), comm.Get_size()
    # Collective constructors: every rank builds every object, in this order.
    ready = sync.Counter(0, comm=comm)
    inside = sync.Counter(0, comm=comm)
    section = sync.Semaphore(bound, comm=comm)
    handoff = sync.Condition(comm=comm)
    turn = sync.Counter(0, comm=comm)
    token = sync.Counter(0, typecode="q", comm=comm)

    ready.next()  # +1, complete at rank 0 when it returns: before we enter the barrier
    start = comm.Ibarrier()
    mine = range(rank, items, size)  # what a rank can do while the others arrive
    start.Wait()
    saw_ready = ready.next(0)  # a read: fetch-and-add of 0
    contract.strike(fault, rank)

    peak = total = 0
    for x in mine:
        with section:
            peak = max(peak, inside.next(+1) + 1)  # next() returns the value before the add
            total += x * x
            time.sleep(HOLD)
            inside.next(-1)

    with handoff:
        handoff.wait_for(lambda: turn.next(0) == rank)
        took = turn.next(+1)  # the turn this rank took
        token.next(total)
        handoff.notify_all()

    # Once rank 0 holds everybody's facts, every rank has passed the token on.
    facts = comm.gather((saw_ready, peak, took, _cli.who(comm)))
    carried = token.next(0) if rank == 0 else 0
    for thing in (token, turn, handoff, section, inside, ready):
        thing.free()  # collective: every rank gets here, on the normal path only
    if rank != 0:
        return None
    order = [0] * size
    for r, (_, _, t, _) in enumerate(facts):
        order[t] = r
    seen = Observed(size, bound, [f[0] for f in facts], [f[1] for f in facts], order, carried)
    if trace:
        for r, (_, _, _, name) in enumerate(facts):
            contract.trace(name, range(r, items, size))
        print(f"largest number inside at once: {seen.peak} (bound {bound})", file=sys.stderr)
    return seen


def main(argv: Sequence[str] | None = None) -> int:
    parser = _cli.parser("message_passing.sync", __doc__)
    contract.add_items(parser, default=10)
    parser.add_argument(
        "--bound", type=contract.positive, default=2, metavar="K",
        help="at most K ranks inside the section at once (default 2)",
    )
    contract.add_trace(parser)
    contract.add_fault(parser)
    args = parser.parse_args(argv)
    contract.check_fault(parser, args.fault, MPI.COMM_WORLD.Get_size())
    with _cli.abort_on_error():
        seen = run(args.items, bound=args.bound, trace=args.trace, fault=args.fault)
        if seen is not None:
            print("\n".join(seen.lines()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
