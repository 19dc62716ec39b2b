"""Square 0..N-1 with a pool of worker processes: ``multiprocessing.Pool.map``.

    python -m shared_memory.pool [--workers 4] [--items 100] [--trace]

``Pool(W)`` starts W worker processes once; ``map`` cuts the items into chunks
(about four per worker), sends each chunk to whichever worker is free, and
returns the squares in the order of the items, whatever order they finished in.
A worker that raises has its exception, with the worker's traceback as its
cause, raised again by ``map`` in the parent.

The message-passing twin is ``message_passing.pool``; both print the same list.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from multiprocessing import Pool, current_process

from bench import contract


def square(x: int) -> int:
    return contract.square(x)


def square_where(x: int) -> tuple[int, str]:
    """The square and the process that computed it, for ``--trace``."""
    return contract.square(x), current_process().name


def square_or_fail(x: int, fault: contract.Fault, where: bool = False) -> object:
    """A task that first gives ``--fault`` its chance.

    Pool workers are anonymous and take chunks as they come free, so "worker W"
    is whichever worker squares item W: the fault then always fires, in one worker.
    """
    contract.strike(fault, x, f"{current_process().name}, which took item {x},")
    return square_where(x) if where else square(x)


def run(
    items: int, workers: int = 4, *, trace: bool = False, fault: contract.Fault | None = None
) -> list[int]:
    """The squares of 0..items-1, computed by ``workers`` processes."""
    task = square_where if trace else square
    if fault is not None:
        task = partial(square_or_fail, fault=fault, where=trace)
    # The `with` block terminates the workers on the way out, also after an error.
    with Pool(workers) as pool:
        results = pool.map(task, range(items))
    if not trace:
        return results
    contract.trace_by_worker([name for _, name in results])
    return [y for y, _ in results]


def main(argv: Sequence[str] | None = None) -> int:
    parser = contract.make_parser("shared_memory.pool", __doc__)
    contract.add_workers(parser)
    contract.add_items(parser, default=100)
    args = contract.parse(parser, argv)
    print(run(args.items, args.workers, trace=args.trace, fault=args.fault))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
