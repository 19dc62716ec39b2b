"""Square 0..N-1 with a pool of worker processes: ``multiprocessing.Pool.map``.

    python -m shared_memory.pool [--workers 4] [--items 100] [--trace]

``Pool(W)`` starts W worker processes once; ``map`` cuts the items into chunks
(about four per worker), sends each chunk to whichever worker is free, and
returns the squares in the order of the items, whatever order they finished in.

The message-passing twin is ``message_passing.pool``; both print the same list.
"""

from __future__ import annotations

from collections.abc import Sequence
from multiprocessing import Pool, current_process

from bench import contract


def square(x: int) -> int:
    return x * x


def square_where(x: int) -> tuple[int, str]:
    """The square and the process that computed it, for ``--trace``."""
    return x * x, current_process().name


def run(items: int, workers: int = 4, *, trace: bool = False) -> list[int]:
    """The squares of 0..items-1, computed by ``workers`` processes."""
    # The `with` block terminates the workers on the way out, also after an error.
    with Pool(workers) as pool:
        if not trace:
            return pool.map(square, range(items))
        pairs = pool.map(square_where, range(items))
    contract.trace_by_worker([name for _, name in pairs])
    return [y for y, _ in pairs]


def main(argv: Sequence[str] | None = None) -> int:
    parser = contract.make_parser("shared_memory.pool", __doc__)
    contract.add_workers(parser)
    contract.add_items(parser, default=100)
    contract.add_trace(parser)
    args = parser.parse_args(argv)
    print(run(args.items, args.workers, trace=args.trace))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
