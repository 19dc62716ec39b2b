"""Each rank squares its share of 0..N-1 and the partial sums are combined into one total.

    mpiexec -n 4 python -m message_passing.reduce [--items 100] [--all | --scan] [--buffer]
                                                  [--trace] [--fault raise:W]

Every rank works out its own contiguous share of 0..N-1 from its rank and the size (shares
differ in size by at most one; with more ranks than items the last ones get nothing), so
nothing is sent to hand the work out, and sums the squares: its partial sum. One collective
combines them, three ways:

* by default ``comm.reduce(partial, op=MPI.SUM, root=0)``: rank 0 gets the total, the
  others ``None``;
* ``--all``: ``comm.allreduce(partial, op=MPI.SUM)``: every rank gets the total;
* ``--scan``: ``comm.scan(partial, op=MPI.SUM)``: rank r gets the sum of the partial sums of
  ranks 0..r, the prefix through its share (an *inclusive* scan; ``exscan`` leaves out the
  rank's own). The last rank's is the total.

For ``--all`` and ``--scan``, rank 0 then ``gather``s what each rank holds, to report it.
The lower-case calls pickle the partial sums and combine them with Python's ``+``, so the
integers are exact however large. ``--buffer``: the upper-case ``Reduce``, ``Allreduce``
and ``Scan`` (and ``Gather``) of one-element numpy int64 arrays: the bytes travel as they
are, nothing is pickled, and the library combines them itself; an int64 can overflow, so
``contract.outputs.reduce_refusal`` refuses an item count whose total would not fit. The
library chooses the order in which it combines the partial sums (a tree, a ring...): for
integers the total is the same whatever the order, for floats it could differ in the last
bits from one worker count to another.

Hazards: every call above is collective, so every rank makes it, even one with nothing to
square; a rank that fails before it does leaves the others waiting in it
(``message_passing.runtime`` says how the job is aborted instead).

Bare example: examples/message_passing/reduce.py

The shared-state twin is ``shared_memory.reduce``; both print the same lines, the total and
(``--all``, ``--scan``) what each worker holds, made and checked by
``contract.outputs.Reduced``.
"""

from __future__ import annotations

from collections.abc import Sequence

from mpi4py import MPI

from contract import cli, faults, unit
from contract.outputs import Reduced, reduce_refusal, reduce_trace
from message_passing import runtime

MODES = ("reduce", "allreduce", "scan")


def partial_sum(part: range) -> int:
    """The sum of the squares of one rank's share: what each rank contributes."""
    return sum(map(unit.square, part))


def combine(comm: MPI.Intracomm, partial: int, mode: str) -> int | None:
    """Collective, on Python objects: the total on rank 0 (``reduce``; ``None`` elsewhere), on
    every rank (``allreduce``), or the sum through this rank's share (``scan``)."""
    if mode == "reduce":
        return comm.reduce(partial, op=MPI.SUM, root=0)
    if mode == "allreduce":
        return comm.allreduce(partial, op=MPI.SUM)
    return comm.scan(partial, op=MPI.SUM)


def combine_buffers(comm: MPI.Intracomm, partial: int, mode: str) -> int | None:
    """:func:`combine` with the upper-case calls, on one-element numpy int64 buffers."""
    import numpy as np  # here: only --buffer pays for importing numpy

    mine = np.array([partial], dtype=np.int64)
    result = np.zeros(1, dtype=np.int64)
    if mode == "reduce":
        comm.Reduce(mine, result, op=MPI.SUM, root=0)
        return int(result[0]) if comm.Get_rank() == 0 else None
    if mode == "allreduce":
        comm.Allreduce(mine, result, op=MPI.SUM)
    else:
        comm.Scan(mine, result, op=MPI.SUM)
    return int(result[0])


def gather_buffers(comm: MPI.Intracomm, value: int) -> list[int] | None:
    """Collective: every rank's ``value``, in rank order, on rank 0 (``None`` elsewhere), with
    ``Gather`` of numpy int64 buffers."""
    import numpy as np

    values = np.empty(comm.Get_size(), dtype=np.int64) if comm.Get_rank() == 0 else None
    comm.Gather(np.array([value], dtype=np.int64), values, root=0)
    return None if values is None else [int(v) for v in values]


def run(
    items: int = 100, comm: MPI.Intracomm = MPI.COMM_WORLD, *, mode: str = "reduce",
    buffer: bool = False, trace: bool = False, fault: faults.Fault | None = None,
) -> Reduced | None:
    """Collective: the sum of the squares of 0..items-1 over the ranks of ``comm``, combined
    as ``mode`` says ("reduce", "allreduce" or "scan"), on rank 0; ``None`` elsewhere.
    ``buffer``: with the upper-case calls on numpy buffers."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    rank, size = comm.Get_rank(), comm.Get_size()
    part = unit.share(items, size, rank)
    faults.strike(fault, rank)
    partial = partial_sum(part)
    value = (combine_buffers if buffer else combine)(comm, partial, mode)
    held = None  # what every rank holds, gathered to rank 0 to be reported
    if mode != "reduce":
        held = gather_buffers(comm, value) if buffer else comm.gather(value)
    if trace:
        runtime.trace(comm, (part, partial, None if mode == "reduce" else value), reduce_trace)
    if rank != 0:
        return None
    assert value is not None
    if held is None:
        return Reduced(items, size, value)
    # allreduce: rank 0 holds the total too; scan: the last rank's prefix is the total.
    total = value if mode == "allreduce" else held[-1]
    return Reduced(items, size, total, held, scan=mode == "scan")


def main(argv: Sequence[str] | None = None) -> int:
    parser = runtime.parser("message_passing.reduce", __doc__)
    cli.add_items(parser, default=100)
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--all", dest="mode", action="store_const", const="allreduce",
                     help="every rank holds the total (allreduce)")
    how.add_argument("--scan", dest="mode", action="store_const", const="scan",
                     help="every rank holds the sum through its share (scan)")
    parser.set_defaults(mode="reduce")
    parser.add_argument("--buffer", action="store_true",
                        help="Reduce/Allreduce/Scan of numpy int64 buffers, nothing pickled")
    args = runtime.parse(parser, argv)
    refusal = reduce_refusal(args.items, args.mode, args.buffer)
    if refusal:
        parser.error(refusal)
    with runtime.abort_on_error():
        reduced = run(args.items, mode=args.mode, buffer=args.buffer, trace=args.trace,
                      fault=args.fault)
        if reduced is not None:
            print("\n".join(reduced.lines()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
