"""Square 0..N-1 with a pool of worker processes: ``multiprocessing.Pool.map``.

    python -m shared_memory.pool [--workers 4] [--items 100] [--trace]

``Pool(W)`` starts W worker processes once; ``map`` cuts the items into chunks
(about four per worker), sends each chunk to whichever worker is free, and
returns the squares in the order of the items, whatever order they finished in.
A worker that raises has its exception raised again by ``map`` in the parent.
Hazard: a worker that is killed loses the chunk it held, and a plain ``map``
waits for it forever; ``runtime.Pool`` is a ``Pool`` whose ``map`` reports the
death instead, and says why and how.

The message-passing twin is ``message_passing.pool``; both print the same list.
Bare example: examples/shared_memory/pool.py
"""

from __future__ import annotations

from collections.abc import Sequence

from contract import cli, faults, unit
from shared_memory import runtime


def square(x: int) -> int:
    return unit.square(x)


def run(
    items: int, workers: int = 4, *, trace: bool = False, fault: faults.Fault | None = None
) -> list[int]:
    """The squares of 0..items-1, computed by ``workers`` processes."""
    with runtime.Pool(workers, trace=trace, fault=fault) as pool:
        return pool.map(square, range(items))


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.make_parser("shared_memory.pool", __doc__)
    cli.add_workers(parser)
    cli.add_items(parser, default=100)
    args = cli.parse(parser, argv)
    with runtime.report_failures(parser.prog):
        print(run(args.items, args.workers, trace=args.trace, fault=args.fault))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
