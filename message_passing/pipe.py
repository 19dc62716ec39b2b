"""A pipeline produce -> square -> collect on a chain of ranks, with ``send``/``recv``.

    mpiexec -n 3 python -m message_passing.pipe [--items 10] [--trace]

Rank 2 produces 0..N-1 and sends each item to rank 1, which squares it and sends the
square on to rank 0, which collects. MPI keeps the messages between two ranks on one
communicator in the order they were sent (they do not overtake each other), and each
stage handles one item after the other, so the squares arrive in order. The end of the
stream is a message of its own, tagged END: a receiver takes any tag from its upstream
rank and stops at END, which cannot overtake the items sent before it.

Any ``-n`` works. With fewer than 3 ranks stages share a rank and pass items by a plain
function call instead of a message: with 2, rank 1 produces and squares; with 1, rank 0
does all three. Ranks from 3 on have nothing to do and return at once.

No deadlock: the messages flow one way, down the chain, and every rank that sends has a
rank below it that receives until END, so every blocking ``send`` is matched.

Bare example: examples/message_passing/pipe.py

The shared-state twin is ``shared_memory.pipe``; both print the same lines,
the squares in order and then ``end``, made by ``contract.outputs``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence

from mpi4py import MPI

from contract import cli, faults, unit
from contract.outputs import pipe_lines
from message_passing import runtime

ITEM, END = 1, 2  # message tags
STAGES = ("collect", "square", "produce")  # downstream first: stage s runs on rank s


def placement(ranks: int) -> dict[str, int]:
    """Which rank runs each stage: one a stage while there are enough, else they share."""
    return {stage: min(s, ranks - 1) for s, stage in enumerate(STAGES)}


def produce(items: int) -> Iterator[int]:
    yield from range(items)


def square(stream: Iterable[int]) -> Iterator[int]:
    for x in stream:
        yield unit.square(x)


def received(comm: MPI.Intracomm, source: int) -> Iterator[int]:
    """The items ``source`` sends us, until its END message."""
    status = MPI.Status()
    while True:
        x = comm.recv(source=source, tag=MPI.ANY_TAG, status=status)
        if status.Get_tag() == END:
            return
        yield x


def ran(who: str, stages: Sequence[str]) -> None:
    """The ``--trace`` line of one rank: the stages it ran, upstream first."""
    print(f"{who} ran {'+'.join(reversed(stages)) or 'nothing'}", file=sys.stderr)


def chain(items: int, comm: MPI.Intracomm, mine: Sequence[str]) -> list[int] | None:
    """This rank's stages: the squares, in order, on rank 0; ``None`` on the others."""
    rank = comm.Get_rank()
    stream = produce(items) if "produce" in mine else received(comm, rank + 1)
    if "square" in mine:
        stream = square(stream)
    if rank == 0:
        return list(stream)
    for x in stream:
        comm.send(x, dest=rank - 1, tag=ITEM)
    comm.send(None, dest=rank - 1, tag=END)
    return None


def run(
    items: int, comm: MPI.Intracomm = MPI.COMM_WORLD, *, trace: bool = False,
    fault: faults.Fault | None = None,
) -> list[int] | None:
    """Collective: the squares of 0..items-1 in order on rank 0, ``None`` on the other ranks."""
    rank = comm.Get_rank()
    where = placement(comm.Get_size())
    mine = [name for name in STAGES if where[name] == rank]
    if mine:
        faults.strike(fault, rank)
    with runtime.own_comm(comm) as own:
        squares = chain(items, own, mine) if mine else None
    if trace:
        runtime.trace(comm, mine, ran)
    return squares


def main(argv: Sequence[str] | None = None) -> int:
    parser = runtime.parser("message_passing.pipe", __doc__)
    cli.add_items(parser, default=10)
    args = runtime.parse(parser, argv)
    if args.fault is not None and args.fault.worker >= len(STAGES):
        # Only the first three ranks run a stage, so only they can be made to fail.
        parser.error(
            f"--fault {args.fault.kind}:{args.fault.worker} names a rank with no stage to run"
            f" (only ranks 0-{len(STAGES) - 1} run one)"
        )
    with runtime.abort_on_error():
        squares = run(args.items, trace=args.trace, fault=args.fault)
        if squares is not None:
            print("\n".join(pipe_lines(squares)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
