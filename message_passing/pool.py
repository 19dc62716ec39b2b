"""Square 0..N-1 on every rank: contiguous blocks, ``scatter`` then ``gather``.

    mpiexec -n 4 python -m message_passing.pool [--items 100] [--executor] [--trace]

Rank 0 owns the list, cuts it into one contiguous block per rank (sizes differ
by at most one), and ``scatter`` sends each rank its block; every rank squares
its own block, and ``gather`` brings the blocks back, in rank order, to rank 0.
Rank 0 works too: with ``-n 1`` (or plain ``python -m``) it does everything.

``--executor`` hands the same map to ``mpi4py.futures.MPICommExecutor``: rank 0
becomes the client that farms tasks out, the other ranks serve them (with one
rank, a thread of rank 0 serves).

Bare example: examples/message_passing/pool.py

The shared-state twin is ``shared_memory.pool``; both print the same list.
"""

from __future__ import annotations

from collections.abc import Sequence

from mpi4py import MPI

from contract import cli, faults, tracing, unit
from message_passing import runtime


def square(x: int) -> int:
    return unit.square(x)


def run(
    items: int, comm: MPI.Intracomm = MPI.COMM_WORLD, *, executor: bool = False,
    trace: bool = False, fault: faults.Fault | None = None,
) -> list[int] | None:
    """Collective: the squares of 0..items-1 on rank 0, ``None`` on the other ranks."""
    if executor:
        return _run_executor(items, comm, trace, fault)
    rank = comm.Get_rank()
    # Only rank 0 holds the data; the others pass None and receive their block.
    mine = comm.scatter(unit.blocks(list(range(items)), comm.Get_size()) if rank == 0 else None)
    faults.strike(fault, rank)
    squares = [square(x) for x in mine]
    if trace:
        runtime.trace(comm, mine)
    gathered = comm.gather(squares)
    if rank != 0:
        return None
    return [y for block in gathered for y in block]


# --- --executor: the same map, farmed out by mpi4py.futures ---------------------------------------


def square_where(x: int) -> tuple[int, str]:
    """The square and the process that computed it, for ``--trace``."""
    return unit.square(x), runtime.who()


def square_or_fail(x: int, fault: faults.Fault) -> int:
    """An executor task that first gives ``--fault`` its chance on the rank running it."""
    faults.strike(fault, MPI.COMM_WORLD.Get_rank())
    return unit.square(x)


def chunksize(items: int, workers: int) -> int:
    """The chunk size ``multiprocessing.Pool.map`` would pick: four chunks a worker, rounded up."""
    size, extra = divmod(items, workers * 4)
    return max(1, size + bool(extra))


def _run_executor(
    items: int, comm: MPI.Intracomm, trace: bool, fault: faults.Fault | None
) -> list[int] | None:
    # Imported here, not at the top: mpi4py.futures brings concurrent.futures, logging and
    # threading, which only --executor needs (tests/test_startup.py keeps them off).
    from mpi4py.futures import MPICommExecutor

    with MPICommExecutor(comm, root=0) as pool:
        # Only the root gets an executor; on the other ranks the `with` body is
        # skipped while they serve tasks, and __exit__ returns once root shuts down.
        if pool is None:
            return None
        chunk = chunksize(items, max(1, comm.Get_size() - 1))
        if fault is not None:
            return list(pool.map(square_or_fail, range(items), [fault] * items, chunksize=chunk))
        if not trace:
            return list(pool.map(square, range(items), chunksize=chunk))
        pairs = list(pool.map(square_where, range(items), chunksize=chunk))
    tracing.trace_by_worker([name for _, name in pairs])
    return [y for y, _ in pairs]


def main(argv: Sequence[str] | None = None) -> int:
    parser = runtime.parser("message_passing.pool", __doc__)
    cli.add_items(parser, default=100)
    parser.add_argument(
        "--executor", action="store_true",
        help="map with mpi4py.futures.MPICommExecutor instead of scatter/gather",
    )
    args = runtime.parse(parser, argv)
    with runtime.abort_on_error():
        result = run(args.items, executor=args.executor, trace=args.trace, fault=args.fault)
        if result is not None:
            print(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
