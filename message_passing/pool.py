"""Square 0..N-1 on every rank: contiguous blocks, ``scatter`` then ``gather``.

    mpiexec -n 4 python -m message_passing.pool [--items 100] [--executor] [--trace]

Rank 0 owns the list, cuts it into one contiguous block per rank (sizes differ
by at most one), and ``scatter`` sends each rank its block; every rank squares
its own block, and ``gather`` brings the blocks back, in rank order, to rank 0.
Rank 0 works too: with ``-n 1`` (or plain ``python -m``) it does everything.

``--executor`` hands the same map to ``mpi4py.futures.MPICommExecutor``: rank 0
becomes the client that farms tasks out, the other ranks serve them (with one
rank, a thread of rank 0 serves).

The shared-state twin is ``shared_memory.pool``; both print the same list.
"""

from __future__ import annotations

from collections.abc import Sequence

from mpi4py import MPI

from bench import contract
from message_passing import _cli


def square(x: int) -> int:
    return contract.square(x)


def square_where(x: int) -> tuple[int, str]:
    """The square and the process that computed it, for ``--trace``."""
    return contract.square(x), _cli.who()


def square_or_fail(x: int, fault: contract.Fault) -> int:
    """An executor task that first gives ``--fault`` its chance on the rank running it."""
    contract.strike(fault, MPI.COMM_WORLD.Get_rank())
    return contract.square(x)


def chunksize(items: int, workers: int) -> int:
    """The chunk size ``multiprocessing.Pool.map`` would pick: about 4 chunks per worker."""
    size, extra = divmod(items, workers * 4)
    return max(1, size + bool(extra))


def run(
    items: int, comm: MPI.Intracomm = MPI.COMM_WORLD, *, executor: bool = False,
    trace: bool = False, fault: contract.Fault | None = None,
) -> list[int] | None:
    """Collective: the squares of 0..items-1 on rank 0, ``None`` on the other ranks."""
    if executor:
        return _run_executor(items, comm, trace, fault)
    rank = comm.Get_rank()
    # Only rank 0 holds the data; the others pass None and receive their block.
    mine = comm.scatter(contract.blocks(list(range(items)), comm.Get_size()) if rank == 0 else None)
    contract.strike(fault, rank)
    squares = [square(x) for x in mine]
    if trace:
        # Gathered, not printed by each rank: stderr lines of several ranks interleave.
        for name, done in comm.gather((_cli.who(comm), mine)) or ():
            contract.trace(name, done)
    gathered = comm.gather(squares)
    if rank != 0:
        return None
    return [y for block in gathered for y in block]


def _run_executor(
    items: int, comm: MPI.Intracomm, trace: bool, fault: contract.Fault | None
) -> list[int] | None:
    # Imported here, not at the top: mpi4py.futures brings concurrent.futures, logging and
    # threading, a tenth of this module's import time, which only --executor needs.
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
    contract.trace_by_worker([name for _, name in pairs])
    return [y for y, _ in pairs]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _cli.parser("message_passing.pool", __doc__)
    contract.add_items(parser, default=100)
    parser.add_argument(
        "--executor", action="store_true",
        help="map with mpi4py.futures.MPICommExecutor instead of scatter/gather",
    )
    args = contract.parse(parser, argv, MPI.COMM_WORLD.Get_size())
    with _cli.abort_on_error():
        result = run(args.items, executor=args.executor, trace=args.trace, fault=args.fault)
        if result is not None:
            print(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
