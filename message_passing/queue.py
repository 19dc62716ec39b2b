"""Rank 0 hands out work on request; the other ranks square what they are given.

    mpiexec -n 4 python -m message_passing.queue [--items 10] [--batch 1] [--trace]

There is no shared queue: rank 0 is the queue. A consumer sends rank 0 a REQUEST and
waits for the answer; rank 0 receives requests from ``ANY_SOURCE``, in whatever order
they come, reads the asker off the ``Status``, and answers it with a WORK-tagged block of
items (``--batch B`` consecutive items, 1 by default) or, when none is left, with a STOP
tag. A fast consumer simply asks more often: dynamic load balancing, in place of
the consumers of a ``multiprocessing.Queue`` racing for the next item. Each consumer
then reports the items it took and the sum of their squares with ``gather``.
With ``-n 1`` rank 0 is both the producer and the only consumer; with ``-n N`` there
are N-1 consumers (``shared_memory.queue --workers W`` has W, beside its producer).

One item a request is the textbook version: a round trip per item, a few seconds for
10**5 items at ``-n 4`` on two cores; ``--batch B`` hands out B items an answer and
cuts the round trips B-fold (0.9 s with B = 10), at the price of coarser balancing.

Why it cannot hang: every consumer sends exactly one request per answer, and rank 0
keeps answering until it has sent one STOP to every consumer, so no receive is left
unmatched; the answer to a rank is only received by that rank, so an answer cannot
be taken by the wrong consumer. And ``ANY_SOURCE`` must not match a message that
belongs to something else, such as the next run's first request: each run talks on
a duplicate of the communicator (``Dup``), whose messages nothing else can receive.

The shared-state twin is ``shared_memory.queue``; both print the same line,
the count and the sum of squares consumed, made by ``bench.outputs.Consumed``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence

from mpi4py import MPI

from bench import contract
from bench.outputs import Consumed
from message_passing import _cli

REQUEST, WORK, STOP = 1, 2, 3  # message tags


def blocks(items: int, batch: int) -> Iterator[range]:
    """0..items-1 cut into consecutive blocks of ``batch`` items (the last one may be shorter)."""
    return (range(start, min(start + batch, items)) for start in range(0, items, batch))


def produce(comm: MPI.Intracomm, work: Iterator[range]) -> None:
    """Rank 0: answer requests until every consumer has been told to stop."""
    consumers = comm.Get_size() - 1
    status = MPI.Status()
    while consumers:
        comm.recv(source=MPI.ANY_SOURCE, tag=REQUEST, status=status)
        asker = status.Get_source()
        block = next(work, None)
        if block is None:
            comm.send(None, dest=asker, tag=STOP)
            consumers -= 1
        else:
            comm.send(block, dest=asker, tag=WORK)


def requested(comm: MPI.Intracomm) -> Iterator[range]:
    """A consumer's work: ask rank 0 for a block, until it answers STOP."""
    status = MPI.Status()
    while True:
        comm.send(None, dest=0, tag=REQUEST)
        block = comm.recv(source=0, tag=MPI.ANY_TAG, status=status)
        if status.Get_tag() == STOP:
            return
        yield block


def consume_or_produce(
    items: int, comm: MPI.Intracomm, batch: int, fault: contract.Fault | None
) -> list[tuple[list[int], int, str]] | None:
    """Rank 0 hands out the work (or, alone, does it); every rank's report, gathered to rank 0."""
    rank = comm.Get_rank()
    contract.strike(fault, rank)
    taken: list[int] = []
    total = 0
    if rank == 0 and comm.Get_size() > 1:
        produce(comm, blocks(items, batch))
    else:
        # A consumer; with one rank, rank 0 consumes its own blocks without messages.
        work = blocks(items, batch) if rank == 0 else requested(comm)
        for block in work:
            taken.extend(block)
            total += sum(map(contract.square, block))
    return comm.gather((taken, total, _cli.who(comm)))


def run(
    items: int, comm: MPI.Intracomm = MPI.COMM_WORLD, *, batch: int = 1,
    trace: bool = False, fault: contract.Fault | None = None,
) -> Consumed | None:
    """Collective: what the consumers took, on rank 0; ``None`` on the other ranks."""
    # A communicator of our own, as a library takes: rank 0 receives from ANY_SOURCE,
    # and on ``comm`` it could take a message that is not part of this run, such as the
    # first REQUEST of the next run from a consumer that has already left this one (its
    # gather returns once its report is sent), leaving a consumer of this run unanswered.
    own = comm.Dup()
    try:
        reports = consume_or_produce(items, own, batch, fault)
    finally:
        own.Free()
    if reports is None:
        return None
    consumed = Consumed(*(list(column) for column in zip(*reports, strict=True)))
    if trace:
        # From rank 0 after the gather: lines written by several ranks would interleave.
        for r, (name, took) in enumerate(zip(consumed.names, consumed.taken, strict=True)):
            if r > 0 or len(consumed.taken) == 1:  # rank 0 only produces when it has company
                print(f"{name} took {len(took)} items", file=sys.stderr)
    return consumed


def main(argv: Sequence[str] | None = None) -> int:
    parser = _cli.parser("message_passing.queue", __doc__)
    contract.add_items(parser, default=10)
    parser.add_argument(
        "--batch", type=contract.positive, default=1, metavar="B",
        help="hand out the items in blocks of B (default 1: one item a request)",
    )
    args = contract.parse(parser, argv, MPI.COMM_WORLD.Get_size())
    with _cli.abort_on_error():
        result = run(args.items, batch=args.batch, trace=args.trace, fault=args.fault)
        if result is not None:
            print(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
