"""K of the ranks meet at a barrier of their own and go on in turn; the others run free.

    mpiexec -n 4 python -m message_passing.barrier [--group 2] [--trace]

``comm.Split`` cuts the communicator in two: ranks 0..K-1 get a communicator
of their own and call ``Barrier()`` on it, so only they wait for each other;
ranks K..N-1 are in the other part and never wait. Rank i works i ``STAGGER``s
before it arrives (uneven work), so the members arrive at different times and
the early ones wait for the last. Past the barrier the members take turns in
rank order with ``mpi4py.util.sync.Sequential`` (rank r waits for a message
from r-1, then sends one to r+1) and, with ``--trace``, print their line in
their turn. A ``--group`` larger than the number of ranks is cut down to it:
everyone meets. Rank 0 gathers every rank's passage and prints the report.

Hazards. ``Split``, ``Barrier``, ``gather`` and ``Free`` are collective: every
rank of the communicator they are called on must call them, in the same order.
That is why the free ranks still call ``Split`` (to say they are not in the
group), and why only the group's own communicator, never ``COMM_WORLD``, sees
the barrier. ``Sequential`` orders when ranks print, not when their lines reach
the terminal: ``mpiexec`` forwards each rank's stream on its own, so lines of
different ranks may still arrive out of order.

Timestamps are ``time.time()``, not ``MPI.Wtime()``: MPICH reports
``MPI.WTIME_IS_GLOBAL`` false, so nothing promises that two hosts' ``Wtime``
agree, or even share an origin. On one host every rank reads the same clock
and the times compare; across hosts ``time.time()`` compares only to within
the hosts' clock skew.

Bare example: examples/message_passing/barrier.py

The shared-state twin is ``shared_memory.barrier``; both print the same two lines,
who met at the barrier and who ran free, made by ``contract.outputs``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from mpi4py import MPI
from mpi4py.util.sync import Sequential

from contract import cli, faults
from contract.outputs import Passage, barrier_report, barrier_trace
from message_passing import runtime

STAGGER = 0.01  # seconds between two ranks' arrivals


def run(
    comm: MPI.Intracomm = MPI.COMM_WORLD, group: int = 2, *, trace: bool = False,
    fault: faults.Fault | None = None,
) -> list[Passage] | None:
    """Collective: ranks 0..group-1 meet, the others run free; every passage on rank 0."""
    if group < 1:
        raise ValueError(f"a barrier needs a group of 1 or more, not {group}")
    rank = comm.Get_rank()
    member = rank < min(group, comm.Get_size())
    # Colour 0: the group, 1: the free ranks. The key (our rank) keeps the order,
    # so a member's rank in `part` is its rank in `comm`.
    part = comm.Split(0 if member else 1, rank)
    with runtime.freed(part):
        start = comm.bcast(time.time() if rank == 0 else None)  # one origin for the trace times
        faults.strike(fault, rank)
        time.sleep(rank * STAGGER)
        arrived = time.time()
        if member:
            part.Barrier()
        left = time.time()
        turn = None
        who = f"worker {rank} ({runtime.who(comm)})"
        if member:
            with Sequential(part):
                turn = part.Get_rank()
                if trace:
                    barrier_trace(who, arrived, left, turn, start)
        elif trace:
            # Free ranks print as soon as they are ready, in whatever order that is.
            barrier_trace(who, arrived, left, None, start)
        passages = comm.gather(Passage(rank, turn, arrived, left))
    return passages


def main(argv: Sequence[str] | None = None) -> int:
    parser = runtime.parser("message_passing.barrier", __doc__)
    parser.add_argument(
        "--group", type=cli.positive, default=2, metavar="K",
        help="how many ranks meet at the barrier (default 2; at most all of them)",
    )
    args = runtime.parse(parser, argv)
    with runtime.abort_on_error():
        passages = run(group=args.group, trace=args.trace, fault=args.fault)
        if passages is not None:
            print(barrier_report(passages))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
