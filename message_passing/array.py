"""Square a numpy array on every rank: ``Scatterv`` the slices, square them, ``Gatherv`` them.

    mpiexec -n 4 python -m message_passing.array [--items 10] [--window] [--trace]

Rank 0 owns the input 0, 1, ..., N-1 (float64). ``Scatterv`` sends each rank its contiguous
slice (slices differ in size by at most one, so the counts differ: the ``v`` collectives take
a count and a displacement per rank; with more ranks than items some get nothing), every
rank squares its slice in place, and ``Gatherv`` puts the slices back into rank 0's array.
These are the upper-case, buffer calls: the bytes of the numpy arrays travel as they are,
nothing is pickled. Rank 0 passes ``MPI.IN_PLACE`` for its own slice, which stays where it is.
Still, every other slice is copied twice, there and back.

``--window``: the zero-copy answer of message passing, on one node. Ranks that share a node
can share memory: ``comm.Split_type(MPI.COMM_TYPE_SHARED)`` groups them, and
``MPI.Win.Allocate_shared`` on that group gives one segment that each of them maps. Rank 0
allocates the whole array (the others allocate 0 bytes) and writes the input; every rank
finds it with ``Shared_query(0)`` and squares its slice right there, as the processes of
``shared_memory.array`` do. Nothing is sent. Ranks on different nodes cannot map each other's
memory, so ``--window`` refuses a job that spans several nodes (one line, exit status 2):
there, leave it out.

Hazards: every call above is collective, so every rank makes it, even one with nothing to
square (``message_passing.runtime`` says what one failing rank would do to the others, and
how the job ends instead). In the window, loads and stores are not messages: nothing orders
them across ranks but the window's synchronization (see ``Team._square_in_window``).

The expert's way, and this module's: everything but the work is set up once (``Team``:
rank 0's input, the other ranks' buffers, the window), and squaring is then one
``square()``, as often as there is work (``python -m bench square`` times it against a
single process's in-place ``np.square``). The program squares once.

Bare example: examples/message_passing/array.py

The shared-state twin is ``shared_memory.array``; both print the same line.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np
from mpi4py import MPI

from contract import cli, faults, outputs, unit
from message_passing import runtime

T = TypeVar("T")

BLOCK = 1 << 20  # items written at a time when filling the input


class SpansNodes(ValueError):
    """``--window`` on ranks that are not all on one node: they cannot share one array."""


def fill(array: np.ndarray) -> None:
    """``array[i] = i``, a block at a time: ``np.arange(N)`` whole would be a second array."""
    for start in range(0, len(array), BLOCK):
        block = array[start:start + BLOCK]
        block[:] = np.arange(start, start + len(block), dtype=np.float64)


def node_of(comm: MPI.Intracomm) -> MPI.Intracomm:
    """Collective: the ranks of ``comm`` that share memory with this one (its node), in order."""
    return comm.Split_type(MPI.COMM_TYPE_SHARED, key=comm.Get_rank())


def nodes(comm: MPI.Intracomm) -> int:
    """Collective: how many nodes the ranks of ``comm`` are on."""
    node = node_of(comm)
    with runtime.freed(node):
        return comm.allreduce(int(node.Get_rank() == 0))


def run(
    items: int, comm: MPI.Intracomm = MPI.COMM_WORLD, *, window: bool = False,
    trace: bool = False, fault: faults.Fault | None = None,
) -> np.ndarray | None:
    """Collective: the squares of 0..items-1 as float64 on rank 0, ``None`` on the other ranks.

    A copy on rank 0: under ``--window`` the memory they were squared in is freed when this
    returns (without it, the copy is not needed but keeps the two ways alike).
    """
    return squared(items, comm, np.copy, window=window, trace=trace, fault=fault)


def squared(
    items: int, comm: MPI.Intracomm, use: Callable[[np.ndarray], T], *, window: bool = False,
    trace: bool = False, fault: faults.Fault | None = None,
) -> T | None:
    """Collective: square 0..items-1 on the ranks of ``comm``; ``use(array)`` on rank 0.

    ``use`` sees the squared array while its memory exists and must not keep it (under
    ``--window`` the memory is freed when this returns). ``None`` on the other ranks.
    """
    result = None
    with Team(items, comm, window=window, fault=fault) as team:
        if trace and window and team.rank == 0:
            itemsize = np.dtype(np.float64).itemsize
            print(
                f"window: {items * itemsize} bytes on {runtime.who(comm)}, "
                f"mapped by {comm.Get_size()} rank{'s' * (comm.Get_size() > 1)}",
                file=sys.stderr,
            )
        team.square()
        if team.array is not None:
            result = use(team.array)
    if trace:
        runtime.trace(comm, team.part, outputs.slice_trace)
    return result


def summary(array: np.ndarray) -> str:
    """The line to print: the size and the checksum, read where the squares are."""
    return outputs.array_line(len(array), float(np.sum(array)))


class Team:
    """Collective: the ranks of ``comm`` set up once to square 0..N-1 many times.

        with Team(items, comm, window=False) as team:  # rank 0 holds the input
            team.square()                              # collective: Scatterv, square, Gatherv
            use(team.array)                            # on rank 0: the squares
            team.refill()                              # on rank 0: 0..N-1 again

    What is set up once: rank 0's array (filled with the input), every other rank's
    buffer for its slice (written once, so the first receive does not meet fresh pages),
    the counts and displacements; under ``window=True`` the shared window that every
    rank of the node maps. ``square()`` is then only the work: ``Scatterv``, square,
    ``Gatherv`` (every other slice copied there and back), or under ``window=True``
    ``Fence``, square in place, ``Fence`` (nothing copied).

    ``team.array`` is rank 0's array (``None`` elsewhere); under ``window=True`` it is the
    window's memory, freed when the block ends: nothing may keep it past the block. The
    block frees the window and its communicator only when it ends normally, as
    ``runtime.freed`` does and for its reason.
    """

    def __init__(
        self, items: int, comm: MPI.Intracomm, *, window: bool = False,
        fault: faults.Fault | None = None,
    ) -> None:
        self.items, self.comm, self.window, self.fault = items, comm, window, fault
        size, self.rank = comm.Get_size(), comm.Get_rank()
        self.parts = [unit.share(items, size, r) for r in range(size)]
        self.part = self.parts[self.rank]
        self.layout: list | None = None
        self.array: np.ndarray | None = None
        self.mine: np.ndarray | None = None
        self._window: MPI.Win | None = None
        self._node: MPI.Intracomm | None = None

    def square(self) -> None:
        """Collective: every rank squares its slice; the squares end up in rank 0's array."""
        assert self.mine is not None
        if self._window is not None:
            self._square_in_window()
            return
        comm = self.comm
        if self.rank == 0:
            comm.Scatterv(self.layout, MPI.IN_PLACE, root=0)
            np.square(self.mine, out=self.mine)
            comm.Gatherv(MPI.IN_PLACE, self.layout, root=0)
        else:
            comm.Scatterv(None, self.mine, root=0)
            np.square(self.mine, out=self.mine)
            comm.Gatherv(self.mine, None, root=0)

    def _square_in_window(self) -> None:
        assert self._window is not None and self.mine is not None
        # The hazard: these are plain loads and stores, and nothing orders them between
        # processes. Without a synchronization here a rank could square its slice before
        # rank 0's input is in it (reading whatever the memory held), and after, rank 0
        # could read the array before the others' squares are in it. A Barrier alone
        # orders the ranks, not their memory: the MPI standard asks for window
        # synchronization, which also makes the stores visible (a memory barrier: x86
        # keeps stores in order, ARM and POWER need not). Fence is the simplest such call:
        # a collective over the window that completes every access made before it. (The
        # other idiom: Lock_all once, then Win.Sync(); node.Barrier(); Win.Sync() at each
        # step, Unlock_all at the end.)
        self._window.Fence()
        np.square(self.mine, out=self.mine)
        self._window.Fence()  # every rank's squares are in, and visible to rank 0

    def __enter__(self) -> Team:
        if self.window:
            self._in_window()
        else:
            self._buffers()
        faults.strike(self.fault, self.rank)  # set up, before the first unit of work
        return self

    def _buffers(self) -> None:
        if self.rank == 0:
            self.array = np.empty(self.items, dtype=np.float64)
            fill(self.array)
            counts = [len(p) for p in self.parts]
            displacements = [p.start for p in self.parts]
            self.layout = [self.array, counts, displacements, MPI.DOUBLE]
            # Rank 0's slice never leaves: it is squared where it is (MPI.IN_PLACE).
            self.mine = self.array[self.part.start:self.part.stop]
        else:
            self.mine = np.zeros(len(self.part), dtype=np.float64)

    def _in_window(self) -> None:
        comm = self.comm
        node = node_of(comm)
        if node.Get_size() != comm.Get_size():
            # Every rank gets here together: on several nodes, every node has fewer ranks
            # than comm. Nobody is left waiting in a collective of the window.
            count = comm.allreduce(int(node.Get_rank() == 0))
            node.Free()
            raise SpansNodes(
                f"--window needs every rank on one node; this job spans {count} nodes"
            )
        itemsize = np.dtype(np.float64).itemsize
        # Node rank 0 is comm's rank 0 (node_of keeps comm's order): it holds the whole
        # array, the others allocate nothing and map rank 0's part.
        self._node = node
        self._window = MPI.Win.Allocate_shared(
            self.items * itemsize if self.rank == 0 else 0, itemsize, comm=node
        )
        memory, _ = self._window.Shared_query(0)
        shared = np.frombuffer(memory, dtype=np.float64, count=self.items)
        self.mine = shared[self.part.start:self.part.stop]
        if self.rank == 0:
            self.array = shared
            fill(shared)

    def refill(self) -> None:
        """On rank 0: the input 0..N-1 again, for the next ``square()`` (which orders it)."""
        if self.array is not None:
            fill(self.array)

    def __exit__(self, kind: object, error: object, tb: object) -> None:
        # The views go first: once the window is freed their memory is gone, and numpy
        # would not know.
        self.array = self.mine = self.layout = None
        if kind is not None:
            return  # the rule of runtime.freed: Free is collective, on the normal path only
        if self._window is not None:
            self._window.Free()
        if self._node is not None:
            self._node.Free()


def main(argv: Sequence[str] | None = None) -> int:
    parser = runtime.parser("message_passing.array", __doc__)
    cli.add_items(parser, default=10, item_bytes=cli.ARRAY_ITEM_BYTES)
    parser.add_argument(
        "--window", action="store_true",
        help="square in place in an MPI-3 shared-memory window (all ranks on one node)",
    )
    args = runtime.parse(parser, argv)
    if args.window and (count := nodes(MPI.COMM_WORLD)) > 1:
        parser.error(f"--window needs every rank on one node; this job spans {count} nodes")
    with runtime.abort_on_error():
        line = squared(
            args.items, MPI.COMM_WORLD, summary, window=args.window, trace=args.trace,
            fault=args.fault,
        )
        if line is not None:
            print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
