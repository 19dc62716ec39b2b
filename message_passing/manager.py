"""Fill one dict on rank 0 from every rank: each rank sends key -> 2*key for its keys.

    mpiexec -n 4 python -m message_passing.manager [--items 10] [--rma] [--trace]

There is no shared dict to write into: rank 0 owns the dict, and the other
ranks send it their data. Each rank computes the pairs of its own contiguous
share of the keys 0..N-1 (shares differ in size by at most one; with more
ranks than keys some have nothing to do), and ``gather`` brings every rank's
pairs to rank 0, which builds the dict and prints it sorted by key.

``--rma``: one-sided communication instead. Rank 0 exposes a numpy array of N
integers as an RMA window (``MPI.Win.Create``; the other ranks expose nothing),
and each rank ``Put``s its values straight into its share of that array,
without rank 0 taking part in the transfer. The puts happen inside an epoch
opened and closed by ``Fence``, a collective on the window's communicator:
a ``Put`` only starts a transfer, and neither its arrival at rank 0 nor the
right to reuse the origin buffer is promised until the closing fence returns.
Rank 0 therefore reads its array only after that fence. Every slot starts at -1,
so a value that never arrived is detected, not printed as a number.

Hazards: ``gather``, ``Win.Create``, ``Fence`` and ``Free`` are collective, so
every rank calls them, even one with no keys (``message_passing.runtime`` says
what one failing rank would do to the others, and how the job ends instead).

Bare example: examples/message_passing/manager.py

The shared-state twin is ``shared_memory.manager``; both print the same dict.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from mpi4py import MPI

from contract import cli, faults, tracing, unit
from message_passing import runtime


def stored(who: str, keys: range) -> None:
    """The ``--trace`` line of one rank: the keys it stored."""
    tracing.trace(who, keys, "stored")


def run(
    items: int, comm: MPI.Intracomm = MPI.COMM_WORLD, *, rma: bool = False,
    trace: bool = False, fault: faults.Fault | None = None,
) -> dict[int, int] | None:
    """Collective: ``{key: 2*key}`` for keys 0..items-1 on rank 0, ``None`` on the other ranks."""
    rank = comm.Get_rank()
    keys = unit.share(items, comm.Get_size(), rank)
    if rma:
        table = _by_rma(items, keys, comm, fault)
    else:
        faults.strike(fault, rank)
        gathered = comm.gather([(key, unit.burn() or 2 * key) for key in keys])
        table = None if gathered is None else dict(sorted(p for pairs in gathered for p in pairs))
    if trace:
        runtime.trace(comm, keys, stored)
    return table


def _by_rma(
    items: int, keys: range, comm: MPI.Intracomm, fault: faults.Fault | None
) -> dict[int, int] | None:
    rank = comm.Get_rank()
    memory = np.full(items if rank == 0 else 0, -1, dtype=np.int64)
    # disp_unit: a displacement in a Put counts items of the array, not bytes.
    window = MPI.Win.Create(memory, disp_unit=memory.itemsize, comm=comm)
    with runtime.freed(window):
        window.Fence()  # opens the epoch: from here ranks may access rank 0's array
        faults.strike(fault, rank)
        for _ in keys:
            unit.burn()  # the benchmarks' synthetic per-item cost (none by default)
        values = 2 * np.arange(keys.start, keys.stop, dtype=np.int64)
        if len(values):
            window.Put(values, 0, target=keys.start)
        # Closes the epoch: when it returns every Put of every rank has landed in rank 0's
        # array, and `values` may be reused. Before it, rank 0 could read stale slots.
        window.Fence()
    if rank != 0:
        return None
    missing = np.flatnonzero(memory < 0)
    if len(missing):
        raise RuntimeError(f"no value arrived for keys {tracing.spans(missing.tolist())}")
    return {key: int(value) for key, value in enumerate(memory)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = runtime.parser("message_passing.manager", __doc__)
    cli.add_items(parser, default=10)
    parser.add_argument(
        "--rma", action="store_true",
        help="put the values into a window on rank 0 (one-sided) instead of gathering them",
    )
    args = runtime.parse(parser, argv)
    with runtime.abort_on_error():
        table = run(args.items, rma=args.rma, trace=args.trace, fault=args.fault)
        if table is not None:
            print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
