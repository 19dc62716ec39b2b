"""Rank 0 hands out work on request; the other ranks square what they are given.

    mpiexec -n 4 python -m message_passing.queue [--items 10] [--batch 1] [--producer-works]
        [--trace]

There is no shared queue: rank 0 is the queue. A consumer sends rank 0 a REQUEST and
waits for the answer; rank 0 receives requests from ``ANY_SOURCE``, in whatever order
they come, reads the asker off the ``Status``, and answers it with a WORK-tagged block of
items (``--batch B`` consecutive items, 1 by default) or, when none is left, with a STOP
tag. A fast consumer simply asks more often: dynamic load balancing, in place of
the consumers of a ``multiprocessing.Queue`` racing for the next item. Each consumer
then reports the items it took and the sum of their squares with ``gather``.
With ``-n 1`` rank 0 is both the producer and the only consumer; with ``-n N`` there
are N-1 consumers (``shared_memory.queue --workers W`` has W, beside its producer).

One item a request is the textbook version: a round trip per item. ``--batch B`` hands
out B items an answer and cuts the round trips B-fold, at the price of coarser balancing.

``--producer-works``: the expert's version when ranks are few. In the textbook version
rank 0 only hands out work, so ``-n 2`` has a single consumer and cannot be faster than
one process. Here rank 0 squares blocks too: between two blocks of its own it answers
every request that has arrived (it keeps a receive posted, ``irecv``, and tests it), and
when the work is gone it tells the remaining consumers to stop. An answer may then wait
for rank 0 to finish its block, so each consumer asks for its next block *before*
squaring the one it has (one request always in flight): the answer travels while it
works. With ``-n N`` there are N consumers, rank 0 included, as
``shared_memory.queue --workers N`` has N (``python -m bench square`` measures both).

Why it cannot hang: every consumer sends exactly one request per answer (asking ahead
included: it asks again only on receiving WORK, never after STOP), and rank 0 keeps
answering until it has sent one STOP to every consumer, so no receive is left
unmatched; the answer to a rank is only received by that rank, so an answer cannot be
taken by the wrong consumer. And rank 0's receive from ``ANY_SOURCE`` sees this run's
requests only: the run talks on a communicator of its own (``runtime.own_comm``).

Bare example: examples/message_passing/queue.py

The shared-state twin is ``shared_memory.queue``; both print the same line,
the count and the sum of squares consumed, made by ``contract.outputs.Consumed``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence

from mpi4py import MPI

from contract import cli, faults, unit
from contract.outputs import Consumed
from message_passing import runtime

REQUEST, WORK, STOP = 1, 2, 3  # message tags


def blocks(items: int, batch: int) -> Iterator[range]:
    """0..items-1 cut into consecutive blocks of ``batch`` items (the last one may be shorter)."""
    return (range(start, min(start + batch, items)) for start in range(0, items, batch))


def answer(comm: MPI.Intracomm, asker: int, work: Iterator[range]) -> bool:
    """Rank 0: give ``asker`` its next block, or STOP when none is left (returns True)."""
    block = next(work, None)
    if block is None:
        comm.send(None, dest=asker, tag=STOP)
        return True
    comm.send(block, dest=asker, tag=WORK)
    return False


def produce(comm: MPI.Intracomm, work: Iterator[range], consumers: int | None = None) -> None:
    """Rank 0: answer requests until every consumer (``consumers`` of them still asking;
    by default all other ranks) has been told to stop."""
    if consumers is None:
        consumers = comm.Get_size() - 1
    status = MPI.Status()
    while consumers:
        comm.recv(source=MPI.ANY_SOURCE, tag=REQUEST, status=status)
        consumers -= answer(comm, status.Get_source(), work)


def requested(comm: MPI.Intracomm) -> Iterator[range]:
    """A consumer's work: ask rank 0 for a block, until it answers STOP."""
    status = MPI.Status()
    while True:
        comm.send(None, dest=0, tag=REQUEST)
        block = comm.recv(source=0, tag=MPI.ANY_TAG, status=status)
        if status.Get_tag() == STOP:
            return
        yield block


class Tally:
    """What one consumer took, and the sum of their squares."""

    def __init__(self) -> None:
        self.taken: list[int] = []
        self.total = 0

    def consume(self, block: range) -> None:
        self.taken.extend(block)
        self.total += sum(map(unit.square, block))


def run(
    items: int, comm: MPI.Intracomm = MPI.COMM_WORLD, *, batch: int = 1,
    producer_works: bool = False, trace: bool = False, fault: faults.Fault | None = None,
) -> Consumed | None:
    """Collective: what the consumers took, on rank 0; ``None`` on the other ranks."""
    with runtime.own_comm(comm) as own:
        rank = own.Get_rank()
        faults.strike(fault, rank)
        mine = Tally()
        work = blocks(items, batch)
        if rank == 0 and own.Get_size() > 1:
            if producer_works:
                produce_and_consume(own, work, mine.consume)
            else:
                produce(own, work)
        else:
            # A consumer; with one rank, rank 0 consumes its own blocks without messages.
            if rank != 0:
                work = requested_ahead(own) if producer_works else requested(own)
            for block in work:
                mine.consume(block)
        reports = own.gather((mine.taken, mine.total, runtime.who(own)))
    if reports is None:
        return None
    consumed = Consumed(*(list(column) for column in zip(*reports, strict=True)))
    if trace:
        # Written by rank 0 after the gather, as runtime.trace writes, for the same reason.
        for r, (name, took) in enumerate(zip(consumed.names, consumed.taken, strict=True)):
            # Rank 0 only produces when it has company, unless it works too.
            if r > 0 or len(consumed.taken) == 1 or producer_works:
                print(f"{name} took {len(took)} items", file=sys.stderr)
    return consumed


# --- --producer-works: rank 0 squares blocks too --------------------------------------------------


def produce_and_consume(
    comm: MPI.Intracomm, work: Iterator[range], consume: Callable[[range], None]
) -> None:
    """Rank 0 under ``--producer-works``: answer every request waiting, square one block of
    its own, again, until the work is gone; then stop the consumers still asking."""
    consumers = comm.Get_size() - 1
    status = MPI.Status()
    # A receive for the next request, posted in advance and tested between blocks. Not
    # Iprobe: MPICH's Iprobe looks for a match *before* it makes progress, so a request that
    # arrived while we squared a block shows up only at the Iprobe after next, one block
    # late (a consumer then waits a block for every block it squares). A test makes
    # progress and then looks.
    asking = comm.irecv(source=MPI.ANY_SOURCE, tag=REQUEST) if consumers else None
    while True:
        while asking is not None and asking.test(status=status)[0]:
            consumers -= answer(comm, status.Get_source(), work)
            asking = comm.irecv(source=MPI.ANY_SOURCE, tag=REQUEST) if consumers else None
        block = next(work, None)
        if block is None:
            break
        consume(block)
    if asking is not None:  # posted, so it must be matched: a consumer still asks
        asking.wait(status=status)
        consumers -= answer(comm, status.Get_source(), work)
    produce(comm, work, consumers)  # nothing left: every answer from here is a STOP


def requested_ahead(comm: MPI.Intracomm) -> Iterator[range]:
    """A consumer under ``--producer-works``: it asks for the next block before it squares
    the one it has, so that rank 0, busy with a block of its own, answers while it works."""
    status = MPI.Status()
    comm.send(None, dest=0, tag=REQUEST)
    while True:
        block = comm.recv(source=0, tag=MPI.ANY_TAG, status=status)
        if status.Get_tag() == STOP:
            return  # STOP answered the last request: none is left in flight
        comm.send(None, dest=0, tag=REQUEST)
        yield block


def main(argv: Sequence[str] | None = None) -> int:
    parser = runtime.parser("message_passing.queue", __doc__)
    cli.add_items(parser, default=10)
    parser.add_argument(
        "--batch", type=cli.positive, default=1, metavar="B",
        help="hand out the items in blocks of B (default 1: one item a request)",
    )
    parser.add_argument(
        "--producer-works", action="store_true",
        help="rank 0 squares blocks too, answering requests between them",
    )
    args = runtime.parse(parser, argv)
    with runtime.abort_on_error():
        result = run(
            args.items, batch=args.batch, producer_works=args.producer_works,
            trace=args.trace, fault=args.fault,
        )
        if result is not None:
            print(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
