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
rank, in the same order (each is an RMA window), and freed on the normal path
only (``runtime.freed`` says why).

Bare example: examples/message_passing/sync.py

The shared-state twin is ``shared_memory.sync``; both print the same three
lines (start, bound, token), made and checked by ``contract.outputs.Observed``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from mpi4py import MPI
from mpi4py.util import sync

from contract import cli, faults
from contract.outputs import Observed
from message_passing import runtime

HOLD = 0.01  # seconds a rank stays inside the section: long enough for others to pile up


def run(
    items: int = 10, comm: MPI.Intracomm = MPI.COMM_WORLD, *, bound: int = 2,
    trace: bool = False, fault: faults.Fault | None = None,
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

    with runtime.freed(token, turn, handoff, section, inside, ready):
        ready.next()  # +1, complete at rank 0 when it returns: before we enter the barrier
        start = comm.Ibarrier()
        mine = range(rank, items, size)  # what a rank can do while the others arrive
        start.Wait()
        saw_ready = ready.next(0)  # a read: fetch-and-add of 0
        faults.strike(fault, rank)

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
        facts = comm.gather((saw_ready, peak, took, runtime.who(comm)))
        carried = token.next(0) if rank == 0 else 0
    if rank != 0:
        return None
    order = [0] * size
    for r, (_, _, t, _) in enumerate(facts):
        order[t] = r
    seen = Observed(size, bound, [f[0] for f in facts], [f[1] for f in facts], order, carried)
    if trace:
        seen.trace([name for _, _, _, name in facts], items)
    return seen


def main(argv: Sequence[str] | None = None) -> int:
    parser = runtime.parser("message_passing.sync", __doc__)
    cli.add_items(parser, default=10)
    parser.add_argument(
        "--bound", type=cli.positive, default=2, metavar="K",
        help="at most K ranks inside the section at once (default 2)",
    )
    args = runtime.parse(parser, argv)
    with runtime.abort_on_error():
        seen = run(args.items, bound=args.bound, trace=args.trace, fault=args.fault)
        if seen is not None:
            print("\n".join(seen.lines()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
