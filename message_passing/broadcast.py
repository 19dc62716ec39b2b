"""Broadcast: every rank receives rank 0's whole table and says what it got.

    mpiexec -n 4 python -m message_passing.broadcast [--items 10] [--buffer] [--trace]
                                                     [--fault raise:W]

Rank 0 holds a table, the squares of 0..N-1, that every rank must receive whole: one
collective call, ``bcast``, made by every rank, the root passing the table and the others
``None``. mpi4py pickles the Python list once on rank 0, MPI carries the bytes to every rank
(along a tree, in the usual libraries, so the root does not send W times), and every rank,
rank 0 included, unpickles a copy of its own: ``bcast`` returns that copy, not the object
the root passed in.

``--buffer``: the upper-case ``Bcast`` of a numpy int64 array. Its bytes travel as they
are, nothing is pickled; but a receiver must hold an array of the right size and type
before the call, so every rank must know the table's shape beforehand (here it does: the
length is ``--items``, which every rank parses; otherwise ``bcast`` the shape first).

Each rank counts the values it got and sums them (the checksum, see
``contract.outputs.CHECKSUM_MODULUS``), and ``gather`` brings the reports to rank 0, in rank
order, which checks each against the table it sent before printing it.

Hazards: both are collective, so every rank makes them, or the others wait for ever
(``message_passing.runtime`` says what one failing rank would do, and how the job ends
instead). Every rank ends up with a copy of its own: W copies of the table in all, and
rank 0's original besides (``--buffer``: W, the root's array is sent from where it is).

Bare example: examples/message_passing/broadcast.py

The shared-state twin is ``shared_memory.broadcast``; both print the same lines, made by
``contract.outputs.broadcast_lines``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from mpi4py import MPI

from contract import cli, faults, outputs
from message_passing import runtime

INT64 = np.dtype(np.int64).itemsize


def table_array(items: int) -> np.ndarray:
    """On rank 0 under --buffer: the squares of 0..items-1 as int64."""
    table = np.arange(items, dtype=np.int64)
    return np.square(table, out=table)


def run(
    items: int = 10, comm: MPI.Intracomm = MPI.COMM_WORLD, *, buffer: bool = False,
    trace: bool = False, fault: faults.Fault | None = None,
) -> list[tuple[int, int]] | None:
    """Collective: what each rank received, its (count, checksum) of the table, in rank
    order, on rank 0; ``None`` elsewhere.

    ``buffer``: ``Bcast`` of a numpy int64 array instead of ``bcast`` of the list.
    """
    root = comm.Get_rank() == 0
    if buffer:
        table = table_array(items) if root else np.empty(items, dtype=np.int64)
        comm.Bcast(table, root=0)
        got = (len(table), int(table.sum(dtype=np.uint64)))  # unsigned: wraps, never overflows
        how = "by Bcast (an int64 buffer, not pickled)"
    else:
        table = comm.bcast(outputs.broadcast_table(items) if root else None, root=0)
        got = (len(table), outputs.checksum(table))
        how = "by bcast (pickled)"
    faults.strike(fault, comm.Get_rank())
    if trace:
        runtime.trace(comm, got[0], lambda who, count: outputs.broadcast_trace(who, count, how))
    return comm.gather(got, root=0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = runtime.parser("message_passing.broadcast", __doc__)
    cli.add_items(parser, default=10, item_bytes=INT64)
    parser.add_argument(
        "--buffer", action="store_true",
        help="Bcast of a numpy int64 array (no pickles) instead of bcast of a list",
    )
    args = runtime.parse(parser, argv)
    ranks = MPI.COMM_WORLD.Get_size()  # every rank holds a copy
    if args.buffer:  # one a rank: the root's array is sent from where it is
        if args.items > outputs.BUFFER_ITEMS:
            parser.error(f"--buffer: the squares of more than {outputs.BUFFER_ITEMS} items "
                         "do not fit in int64")
        cli.check_copies(parser, args.items, ranks, INT64)
    else:  # one a rank, and rank 0's original
        cli.check_copies(parser, args.items, ranks + 1)
    with runtime.abort_on_error():
        received = run(args.items, buffer=args.buffer, trace=args.trace, fault=args.fault)
        if received is not None:
            print(*outputs.broadcast_lines(received, args.items), sep="\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
