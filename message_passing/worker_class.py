"""Workers as a class: one ``Squarer`` per rank whose ``run(comm)`` squares its share.

    mpiexec -n 4 python -m message_passing.worker_class [--items 10] [--trace] [--fault raise:W]

Every rank builds one ``Squarer`` around its state (its contiguous share of
0..N-1, handed out by rank 0 with ``scatter``) and calls ``run(comm)``, which
squares the share and ``gather``s every worker's squares to rank 0, in rank
order. The class is ordinary: MPI has already started the processes, so there
is nothing to subclass; the object's state lives in its rank and results travel
only as messages. ``run`` is collective: every rank of ``comm`` must call it,
or the gather waits for the missing one.

The shared-state twin is ``shared_memory.worker_class``; both print the same lines,
one a worker with its squares, made by ``bench.outputs.describe``.
"""

from __future__ import annotations

from collections.abc import Sequence

from mpi4py import MPI

from bench import contract
from bench.outputs import describe
from message_passing import _cli


class Squarer:
    """One rank's worker: squares the share it was given and reports to rank 0."""

    def __init__(
        self, share: Sequence[int], *, trace: bool = False, fault: contract.Fault | None = None
    ) -> None:
        self.share = list(share)
        self.trace = trace
        self.fault = fault

    def run(self, comm: MPI.Intracomm) -> list[list[int]] | None:
        """Collective: every rank's squares, in rank order, on rank 0; ``None`` elsewhere."""
        rank = comm.Get_rank()
        contract.strike(self.fault, rank)
        squares = [x * x for x in self.share]
        # Gathered, not printed by each rank: lines of several ranks interleave.
        gathered = comm.gather((squares, self.share, _cli.who(comm) if self.trace else None))
        if rank != 0:
            return None
        if self.trace:
            for _, share, who in gathered:
                contract.trace(who, share)
        return [squares for squares, _, _ in gathered]


def run(
    items: int = 10, comm: MPI.Intracomm = MPI.COMM_WORLD, *, trace: bool = False,
    fault: contract.Fault | None = None,
) -> list[list[int]] | None:
    """Collective: the squares of 0..items-1, one list per rank, on rank 0; ``None`` elsewhere."""
    rank = comm.Get_rank()
    share = comm.scatter(contract.blocks(range(items), comm.Get_size()) if rank == 0 else None)
    return Squarer(share, trace=trace, fault=fault).run(comm)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _cli.parser("message_passing.worker_class", __doc__)
    contract.add_items(parser, default=10)
    args = contract.parse(parser, argv, MPI.COMM_WORLD.Get_size())
    with _cli.abort_on_error():
        results = run(args.items, trace=args.trace, fault=args.fault)
        if results is not None:
            for index, squares in enumerate(results):
                print(describe(index, len(results), squares))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
