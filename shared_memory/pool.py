"""Square 0..N-1 with a pool of worker processes: ``multiprocessing.Pool.map``.

    python -m shared_memory.pool [--workers 4] [--items 100] [--trace]

``Pool(W)`` starts W worker processes once; ``map`` cuts the items into chunks
(about four per worker), sends each chunk to whichever worker is free, and
returns the squares in the order of the items, whatever order they finished in.
A worker that raises has its exception, with the worker's traceback as its
cause, raised again by ``map`` in the parent. A worker that is killed is another
matter: ``Pool`` quietly starts a new worker, but the chunk the dead one held is
lost and a plain ``map`` waits for it forever. So we ``map_async`` and, while
waiting, watch the workers: the first one to die ends the run (``BrokenProcessPool``
is how ``concurrent.futures`` says the same).

The message-passing twin is ``message_passing.pool``; both print the same list.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from multiprocessing import Pool, active_children, connection, current_process
from multiprocessing.pool import AsyncResult
from multiprocessing.pool import Pool as PoolType
from multiprocessing.process import BaseProcess
from typing import TypeVar

from bench import contract
from shared_memory import _workers

T = TypeVar("T")


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
    before = set(active_children())
    # The `with` block terminates the workers on the way out, also after an error.
    with Pool(workers, initializer=_workers.become_worker) as pool:
        pool_workers = [p for p in active_children() if p not in before]
        try:
            results = wait_watching(pool.map_async(task, range(items)), pool_workers)
        except _workers.WorkerFailed:
            abandon(pool, pool_workers)
            raise
    if not trace:
        return results
    contract.trace_by_worker([name for _, name in results])
    return [y for y, _ in results]


def wait_watching(result: AsyncResult[list[T]], workers: Sequence[BaseProcess]) -> list[T]:
    """``result.get()``, unless one of ``workers`` dies first: then :class:`_workers.WorkerFailed`.

    An ``AsyncResult`` has nothing to wait on together with the workers' sentinels,
    so we wait on it in short steps and look at the sentinels between them.
    """
    sentinels = {p.sentinel: p for p in workers}
    while not result.ready():
        result.wait(0.05)  # returns as soon as the map is done: a quick map pays no poll
        for handle in connection.wait(list(sentinels), timeout=0):
            process = sentinels[handle]
            process.join()  # the pool's own thread may reap it first; either way it is over
            raise _workers.WorkerFailed(process)
    return result.get()


def abandon(pool: PoolType, workers: Sequence[BaseProcess]) -> None:
    """After a worker died: kill the others, and free the queue locks the dead one may hold.

    Leaving the ``with`` block calls ``Pool.terminate()``, which takes the task queue's read
    lock (an idle worker holds it while it waits for a task) and writes to the result queue
    under its write lock (a worker holds that one while it sends a result). A worker killed
    holding either would make ``terminate()`` wait for ever. Once no worker is alive, nobody
    else takes those two locks (the parent reads and writes the pipes directly), so we free
    them. This reaches into ``Pool``'s internals (``_inqueue``, ``_outqueue``), as little as
    it can; ``concurrent.futures.ProcessPoolExecutor`` was built not to need it.
    """
    for process in workers:
        process.kill()
    for process in workers:
        process.join()
    for lock in (pool._inqueue._rlock, pool._outqueue._wlock):  # type: ignore[attr-defined]
        if lock is not None:
            lock.acquire(False)  # held by a dead worker or, now, by us: either way, free it
            lock.release()


def main(argv: Sequence[str] | None = None) -> int:
    parser = contract.make_parser("shared_memory.pool", __doc__)
    contract.add_workers(parser)
    contract.add_items(parser, default=100)
    args = contract.parse(parser, argv)
    with _workers.report_failures(parser.prog):
        print(run(args.items, args.workers, trace=args.trace, fault=args.fault))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
