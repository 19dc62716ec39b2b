"""The shuffle of map-reduce: each rank sends the square of every x of its share to rank x % W.

    mpiexec -n 4 python -m message_passing.alltoall [--items 10] [--buffer] [--trace]

Each rank squares its contiguous share of 0..N-1 (known from its rank: nothing is
scattered) and sorts the squares into one bucket per rank, the square of x into bucket
``x % W``. One collective call is the whole shuffle: ``comm.alltoall(buckets)`` sends bucket
j to rank j and returns the W buckets addressed to this rank, in rank order, its own
included (which never leaves the process). Each rank then holds exactly the squares of the
x with ``x % W`` equal to its rank; how many and their sum are gathered to rank 0, which
checks that the buckets add up to the whole before it prints one line a rank.

``--buffer``: the upper-case calls, on numpy int64 arrays, nothing pickled. A rank cannot
receive into a buffer before it knows how much comes from whom, so the counts go first:
``Alltoall`` of one C int to and from every rank, then ``Alltoallv`` of the squares, each
side with a count and a displacement per rank (where that rank's part starts in the one
flat array sent or received).

Hazards: ``alltoall`` is collective, so every rank calls it, with a bucket for every rank
(empty ones included), or the others wait in it; ``message_passing.runtime`` says how one
failing rank ends the job instead. Every rank sends to every other, W(W-1) messages, and
unlike the shared side's channels the library chooses the order they travel in: no order
of reads to get right, and none to get wrong.

Bare example: examples/message_passing/alltoall.py

The shared-state twin is ``shared_memory.alltoall``; both print the same lines, one a
worker with its count and sum, made and checked by ``contract.outputs.alltoall_lines``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from mpi4py import MPI

from contract import cli, faults, unit
from contract.outputs import Bucket, alltoall_lines, alltoall_trace
from message_passing import runtime


def bucketed(share: range, ranks: int) -> list[list[int]]:
    """The squares of ``share``, the square of x in bucket ``x % ranks``."""
    buckets: list[list[int]] = [[] for _ in range(ranks)]
    for x in share:
        buckets[x % ranks].append(unit.square(x))
    return buckets


def shuffled(buckets: list[list[int]], comm: MPI.Intracomm) -> list[list[int]]:
    """Collective: bucket j of every rank to rank j, as Python lists (pickled)."""
    return comm.alltoall(buckets)


def shuffled_buffers(buckets: list[list[int]], comm: MPI.Intracomm) -> list[list[int]]:
    """Collective: the same shuffle as numpy int64 arrays: ``Alltoall`` of the counts, then
    ``Alltoallv`` of the squares."""
    sent = np.array([len(bucket) for bucket in buckets], dtype=np.intc)  # MPI counts: C ints
    come = np.empty_like(sent)
    comm.Alltoall(sent, come)  # now every rank knows how much comes from whom
    squares = np.array([y for bucket in buckets for y in bucket], dtype=np.int64)
    received = np.empty(int(come.sum()), dtype=np.int64)
    comm.Alltoallv(
        [squares, sent, starts(sent), MPI.INT64_T], [received, come, starts(come), MPI.INT64_T]
    )
    # As Python ints: a bucket's sum outgrows int64 long before its squares do.
    return [part.tolist() for part in np.split(received, starts(come)[1:])]


def starts(counts: np.ndarray) -> np.ndarray:
    """The displacement of each rank's part in one flat array: the counts before it."""
    return np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.intc)


def run(
    items: int = 10, comm: MPI.Intracomm = MPI.COMM_WORLD, *, buffer: bool = False,
    trace: bool = False, fault: faults.Fault | None = None,
) -> list[Bucket] | None:
    """Collective: shuffle the squares of 0..items-1 over the ranks of ``comm``; what each
    rank holds, in rank order, on rank 0, ``None`` elsewhere. ``buffer``: numpy buffers."""
    rank, ranks = comm.Get_rank(), comm.Get_size()
    faults.strike(fault, rank)
    share = unit.share(items, ranks, rank)
    buckets = bucketed(share, ranks)
    held = (shuffled_buffers if buffer else shuffled)(buckets, comm)
    if trace:
        runtime.trace(comm, (share, [len(bucket) for bucket in buckets]), alltoall_trace)
    mine = Bucket(rank, sum(len(part) for part in held), sum(sum(part) for part in held))
    return comm.gather(mine)


def main(argv: Sequence[str] | None = None) -> int:
    parser = runtime.parser("message_passing.alltoall", __doc__)
    cli.add_items(parser, default=10)
    parser.add_argument(
        "--buffer", action="store_true",
        help="shuffle numpy buffers: Alltoall of the counts, then Alltoallv of the squares",
    )
    args = runtime.parse(parser, argv)
    with runtime.abort_on_error():
        held = run(args.items, buffer=args.buffer, trace=args.trace, fault=args.fault)
        if held is not None:
            print("\n".join(alltoall_lines(held, args.items)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
