"""The 1-D heat equation on a line of ranks: ``Create_cart``, ``Shift``, halos by ``Sendrecv``.

    mpiexec -n 4 python -m message_passing.stencil [--size 64] [--steps 100] [--nonblocking]

A rod of ``--size`` points: its left end held hot (1.0), its right end held cold (0.0), a
hot spike in the middle (``contract.outputs.stencil_hot``), numpy float64. Each step every
interior point becomes ``u[i] + r (u[i-1] - 2 u[i] + u[i+1])`` (``update``). The grid is cut
into contiguous blocks, one a rank (``contract.unit.share``), and each rank keeps its block
in an array of its own with one extra point at each side, the *halo*: a copy of its
neighbour's edge point, which it needs to update its own edge point. Before each step the
ranks exchange halos.

The neighbours come from a virtual topology: ``comm.Create_cart([ranks], periods=[False],
reorder=False)`` lays the ranks out on a line, and ``Shift(0, 1)`` gives each rank the
one on its left and the one on its right. Not periodic, because the rod's ends are held:
the first and the last rank have no neighbour there, and ``Shift`` gives them
``MPI.PROC_NULL``, a rank to which a send goes nowhere and from which a receive completes at
once with nothing, so the same two ``Sendrecv`` calls serve every rank, ends included (a
ring, ``periods=[True]``, would hide that case). Not reordered, so that a rank's place in
the line is its rank in ``comm``, and the blocks are in rank order for the ``Gatherv``. The
cartesian communicator is a new communicator, so its messages never meet the caller's (what
``runtime.own_comm`` is for elsewhere); it is freed as ``runtime.freed`` frees. With more
ranks than points the line holds only the ranks that hold points: ``Create_cart`` gives the
others ``MPI.COMM_NULL``, and they sit out the steps.

``--nonblocking``: the textbook overlap. Each rank posts ``Irecv`` for its two halos and
``Isend`` of its two edge points, updates its interior (which needs no halo) while they
travel, waits for all four (``MPI.Request.Waitall``), then updates its two edge points.

Why 1-D: the halo is one point a side, so the pattern (topology, neighbours, exchange,
overlap) is all there is to see; 2-D adds only a derived datatype for a block's columns.

Bitwise the same for any number of ranks, ``--nonblocking`` too: each point is computed by
the same numpy expression from the same float64 values, whichever rank owns it and in
whichever order the block's points are done (IEEE operations, each rounded once, element by
element), so the final grid equals the serial run's (``-n 1``). Rank 0 gathers it
(``Gatherv``) to print.

Hazards: the exchange is point-to-point, so a rank that is not there (failed, or busy
elsewhere) leaves its neighbours waiting in ``Sendrecv`` (``message_passing.runtime`` says how
the job ends instead). A plain ``Send`` then ``Recv`` on every rank would work only while
the halo fits in the library's eager buffers; above that each ``Send`` waits for its
``Recv``, and the ranks wait in a chain: one after the other along an open line (the end
rank's send to ``PROC_NULL`` returns at once), for ever on a ring. ``Sendrecv`` lets MPI do
both halves at once. Under ``--nonblocking``, between the posts and the ``Waitall`` nothing
may write the edge points being sent nor read the halos being received: the interior
update writes only the other buffer and reads no halo.

Bare example: examples/message_passing/stencil.py

The shared-state twin is ``shared_memory.stencil``; both print the same two lines, made by
``contract.outputs.stencil_lines``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np
from mpi4py import MPI

from contract import cli, faults, outputs, unit
from contract.outputs import HOT, RATE
from message_passing import runtime


def update(old: np.ndarray, new: np.ndarray, lo: int, hi: int) -> None:
    """One explicit step for points ``lo..hi-1``: from ``old`` (and its points ``lo-1`` and
    ``hi``) into ``new``. The shared-state twin evaluates the same expression: bitwise the same."""
    new[lo:hi] = old[lo:hi] + RATE * (old[lo - 1:hi - 1] - 2.0 * old[lo:hi] + old[lo + 1:hi + 1])


def exchange(cart: MPI.Cartcomm, old: np.ndarray, left: int, right: int) -> None:
    """The blocking halo exchange: ``old[0]`` and ``old[-1]`` are the halos, ``old[1]`` and
    ``old[-2]`` this rank's edge points. ``PROC_NULL`` at an end makes its half a no-op."""
    n = len(old) - 2
    # Rightwards: my last point to the right, my left halo from the left; then leftwards.
    cart.Sendrecv(old[n:n + 1], dest=right, recvbuf=old[0:1], source=left)
    cart.Sendrecv(old[1:2], dest=left, recvbuf=old[n + 1:n + 2], source=right)


def step(
    cart: MPI.Cartcomm, old: np.ndarray, new: np.ndarray, lo: int, hi: int,
    neighbours: tuple[int, int], nonblocking: bool,
) -> None:
    """One step on this rank's block: halos in, then ``update`` of local points ``lo..hi-1``."""
    left, right = neighbours
    if not nonblocking:
        exchange(cart, old, left, right)
        update(old, new, lo, hi)
        return
    n = len(old) - 2
    requests = [
        cart.Irecv(old[0:1], source=left), cart.Irecv(old[n + 1:n + 2], source=right),
        cart.Isend(old[1:2], dest=left), cart.Isend(old[n:n + 1], dest=right),
    ]
    update(old, new, max(lo, 2), min(hi, n))  # the interior, while the halos travel
    MPI.Request.Waitall(requests)
    for edge in dict.fromkeys((1, n)):  # one edge point only, in a block of one
        if lo <= edge < hi:
            update(old, new, edge, edge + 1)


def initial(size: int, part: range) -> np.ndarray:
    """This rank's two buffers (old and new), its block with a halo at each side, set to the
    initial grid: the held ends must be in each."""
    grids = np.zeros((2, len(part) + 2), dtype=np.float64)
    for point in outputs.stencil_hot(size):
        if point in part:
            grids[:, point - part.start + 1] = HOT
    return grids


def run(
    size: int = 64, steps: int = 100, comm: MPI.Intracomm = MPI.COMM_WORLD, *,
    nonblocking: bool = False, trace: bool = False, fault: faults.Fault | None = None,
) -> np.ndarray | None:
    """Collective: the grid after ``steps`` steps on rank 0, ``None`` on the other ranks."""
    rank, ranks = comm.Get_rank(), comm.Get_size()
    parts = [unit.share(size, ranks, r) for r in range(ranks)]
    part = parts[rank]
    grids = initial(size, part)
    n = len(part)
    # Local indices: the block is 1..n; the held ends of the rod are never updated.
    lo, hi = 1 + (part.start == 0), n + 1 - (part.stop == size)
    neighbours = (MPI.PROC_NULL, MPI.PROC_NULL)
    # Before the first step, and before Create_cart, which every rank of comm must join: a
    # rank that fails here leaves nobody past it. (Later, a rank with no points would not be
    # waited for: the Gatherv need not wait for a part of nothing before rank 0 prints.)
    faults.strike(fault, rank)
    # The ranks that hold points, on a line with open ends; COMM_NULL for the others.
    cart = comm.Create_cart([min(size, ranks)], periods=[False], reorder=False)
    if cart != MPI.COMM_NULL:
        with runtime.freed(cart):
            neighbours = cart.Shift(0, 1)  # (left, right): PROC_NULL at an end
            for s in range(steps):
                step(cart, grids[s % 2], grids[(s + 1) % 2], lo, hi, neighbours, nonblocking)
    grid = np.empty(size, dtype=np.float64) if rank == 0 else None
    layout = [grid, [len(p) for p in parts], [p.start for p in parts], MPI.DOUBLE]
    comm.Gatherv(grids[steps % 2][1:n + 1], layout if rank == 0 else None, root=0)
    if trace:
        if rank == 0:
            how = "Isend/Irecv around the interior" if nonblocking else "Sendrecv"
            print(f"cart: {min(size, ranks)} of {ranks} ranks on a line, not periodic; "
                  f"halos by {how}", file=sys.stderr)
        named = tuple(None if r == MPI.PROC_NULL else r for r in neighbours)
        runtime.trace(comm, (part, steps, *named), lambda who, done: outputs.stencil_trace(
            who, *done))
    return grid


def main(argv: Sequence[str] | None = None) -> int:
    parser = runtime.parser("message_passing.stencil", __doc__)
    cli.add_grid(parser)
    parser.add_argument(
        "--nonblocking", action="store_true",
        help="Isend/Irecv the halos and update the interior while they travel",
    )
    args = runtime.parse(parser, argv)
    with runtime.abort_on_error():
        grid = run(args.size, args.steps, nonblocking=args.nonblocking, trace=args.trace,
                   fault=args.fault)
        if grid is not None:
            print("\n".join(outputs.stencil_lines(grid, args.steps, float(np.sum(grid)))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
