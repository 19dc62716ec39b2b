"""Workers as a class: one ``Squarer`` per rank whose ``run(comm)`` squares its share.

    mpiexec -n 4 python -m message_passing.worker_class [--items 10] [--trace] [--fault raise:W]

Every rank builds one ``Squarer`` around its state (its contiguous share of
0..N-1, handed out by rank 0 with ``scatter``) and calls ``run(comm)``, which
squares the share and ``gather``s every worker's squares to rank 0, in rank
order. The class is ordinary: MPI has already started the processes, so there
is nothing to subclass; the object's state lives in its rank and results travel
only as messages. ``run`` is collective: every rank of ``comm`` must call it,
or the gather waits for the missing one.

Bare example: examples/message_passing/worker_class.py

The shared-state twin is ``shared_memory.worker_class``; both print the same lines,
one a worker with its squares, made by ``contract.outputs.describe``.
"""

from __future__ import annotations

from collections.abc import Sequence

from mpi4py import MPI

from contract import cli, faults, unit
from contract.outputs import describe
from message_passing import runtime


class Squarer:
    """One rank's worker: squares the share it was given and reports to rank 0."""

    def __init__(
        self, share: Sequence[int], *, trace: bool = False, fault: faults.Fault | None = None
    ) -> None:
        self.share = list(share)
        self.trace = trace
        self.fault = fault

    def run(self, comm: MPI.Intracomm) -> list[list[int]] | None:
        """Collective: every rank's squares, in rank order, on rank 0; ``None`` elsewhere."""
        faults.strike(self.fault, comm.Get_rank())
        squares = [x * x for x in self.share]
        if self.trace:
            runtime.trace(comm, self.share)
        return comm.gather(squares)


def run(
    items: int = 10, comm: MPI.Intracomm = MPI.COMM_WORLD, *, trace: bool = False,
    fault: faults.Fault | None = None,
) -> list[list[int]] | None:
    """Collective: the squares of 0..items-1, one list per rank, on rank 0; ``None`` elsewhere."""
    rank = comm.Get_rank()
    share = comm.scatter(unit.blocks(range(items), comm.Get_size()) if rank == 0 else None)
    return Squarer(share, trace=trace, fault=fault).run(comm)


def main(argv: Sequence[str] | None = None) -> int:
    parser = runtime.parser("message_passing.worker_class", __doc__)
    cli.add_items(parser, default=10)
    args = runtime.parse(parser, argv)
    with runtime.abort_on_error():
        results = run(args.items, trace=args.trace, fault=args.fault)
        if results is not None:
            for index, squares in enumerate(results):
                print(describe(index, len(results), squares))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
