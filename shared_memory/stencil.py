"""The 1-D heat equation on one grid in shared memory: two buffers, a ``Barrier`` each step.

    python -m shared_memory.stencil [--workers 4] [--size 64] [--steps 100] [--trace]

A rod of ``--size`` points: its left end held hot (1.0), its right end held cold (0.0), a
hot spike in the middle (``contract.outputs.stencil_hot``), numpy float64. Each step every
interior point becomes ``u[i] + r (u[i-1] - 2 u[i] + u[i+1])`` (``update``). The parent puts
the grid in one ``SharedMemory`` segment as *two* buffers, the old and the new, and cuts it
into contiguous blocks, one a worker (``contract.unit.share``). At step ``s`` every worker
reads buffer ``s % 2`` and writes its own block of the other one, then waits at a
``Barrier``. A worker's neighbours' edge points, the halo that the MPI twin has to send,
are simply read from the shared grid: nothing is copied, nothing is sent.

Why one barrier a step is enough, with two buffers. During a step everybody only reads the
old buffer and only writes the new one, each worker its own points, so nobody's reads meet
anybody's writes. The barrier at the end of step ``s`` orders both hazards at once: nobody
reads step ``s``'s values (as the old buffer of step ``s + 1``) before all are written, and
nobody writes into buffer ``s % 2`` again (step ``s + 1``'s new buffer) before every worker
has finished reading it. One buffer updated in place would need two barriers a step: each
worker copies its block and its two halo points aside, a barrier (all have read before
anyone writes), then it writes its block, and a second barrier (all have written before
anyone reads). The barrier also orders the memory: it is built on semaphores, whose post
and wait are full memory barriers, so a value stored before ``wait()`` is seen by a load
after it in any process.

Why 1-D: the halo is one point a side, so the pattern (blocks, neighbours, halos, a
synchronization a step) is all there is to see; 2-D adds only the bookkeeping of a block's
four sides. Why fixed ends and not periodic ones: a rod held at both ends has a first and a
last worker with no neighbour outside the grid, the case the MPI twin meets with
``PROC_NULL``; a ring would hide it.

Bitwise the same for any worker count: each point is computed by the same numpy expression
from the same float64 values whoever owns it (IEEE operations, each rounded once, element
by element), so the final grid does not depend on the cut, and equals the serial run's
(``--workers 1``). With more workers than points the last workers hold nothing: they do no
step and are left out of the barrier.

Hazards. A worker that dies leaves the others waiting at the barrier for ever: the parent
watches them all (``runtime.start_and_supervise``) and stops the rest when one fails. The
segment outlives every process that maps it until it is unlinked: the parent unlinks it
however the run ends, and each process drops its numpy views before it closes its mapping
(``grid_segment``, and ``shared_memory.array.view`` says why).

The message-passing twin is ``message_passing.stencil``; both print the same two lines,
made by ``contract.outputs.stencil_lines``.
Bare example: examples/shared_memory/stencil.py
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Sequence
from contextlib import AbstractContextManager
from multiprocessing.shared_memory import SharedMemory
from multiprocessing.synchronize import Barrier

import numpy as np

from contract import cli, faults, outputs, unit
from contract.outputs import HOT, RATE
from shared_memory import runtime

PREFIX = "mpvsmpi-stencil-"  # + the creator's pid: find leftovers with ls /dev/shm/mpvsmpi-st*
ITEMSIZE = np.dtype(np.float64).itemsize


def update(old: np.ndarray, new: np.ndarray, lo: int, hi: int) -> None:
    """One explicit step for points ``lo..hi-1``: from ``old`` (and its points ``lo-1`` and
    ``hi``) into ``new``. The MPI twin evaluates the same expression: bitwise the same."""
    new[lo:hi] = old[lo:hi] + RATE * (old[lo - 1:hi - 1] - 2.0 * old[lo:hi] + old[lo + 1:hi + 1])


def buffers(segment: SharedMemory, size: int) -> np.ndarray:
    """The segment as two float64 grids, ``[0]`` and ``[1]``, holding the mapping open while
    the array (or a view of it) lives (``shared_memory.array.view`` says why that matters)."""
    return np.frombuffer(segment.buf, dtype=np.float64, count=2 * size).reshape(2, size)


def grid_segment(size: int) -> AbstractContextManager[SharedMemory]:
    """A new segment for two grids of ``size`` points, unlinked however the block ends
    (``runtime.segment`` says how); the block must hold no numpy view of it at its end."""
    return runtime.segment(PREFIX, 2 * size * ITEMSIZE)


def initial(segment: SharedMemory, size: int) -> None:
    """The initial grid in both buffers: the held ends must be in each, and the old one is
    read whole at the first step."""
    grids = buffers(segment, size)
    grids[:] = 0.0
    grids[:, outputs.stencil_hot(size)] = HOT


@runtime.worker
def relax(
    name: str, size: int, steps: int, worker: int, part: range, barrier: Barrier | None,
    fault: faults.Fault | None,
) -> None:
    """One worker: attach to the grid, then ``steps`` times update its block from one buffer
    into the other and wait at ``barrier`` for everybody's (None: it holds no points)."""
    # Attaching registers the name with the resource tracker the parent handed us, a
    # duplicate of the parent's registration (shared_memory.array.serve says why that is
    # harmless and unregistering is not).
    segment = SharedMemory(name=name)
    grids = None
    try:
        grids = buffers(segment, size)
        lo, hi = max(part.start, 1), min(part.stop, size - 1)  # the ends are held: never updated
        faults.strike(fault, worker)
        if barrier is None:
            return
        for step in range(steps):
            update(grids[step % 2], grids[(step + 1) % 2], lo, hi)
            barrier.wait()
    finally:
        grids = None  # the views go first
        segment.close()


def run(
    size: int = 64, steps: int = 100, workers: int = 4, *, trace: bool = False,
    fault: faults.Fault | None = None, start_method: str | None = None,
) -> np.ndarray:
    """The grid after ``steps`` steps, computed by ``workers`` processes in shared memory.

    A copy: the segment it was computed in is gone when this returns. ``start_method``:
    ``"fork"``, ``"spawn"`` or ``"forkserver"``; None: the platform's default.
    """
    context = multiprocessing.get_context(start_method)
    parts = [unit.share(size, workers, w) for w in range(workers)]
    barrier = context.Barrier(min(size, workers))  # the workers that hold points
    with grid_segment(size) as segment:
        initial(segment, size)
        processes = [
            context.Process(
                target=relax, name=f"stencil-{w}",
                args=(segment.name, size, steps, w, parts[w], barrier if parts[w] else None,
                      fault),
            )
            for w in range(workers)
        ]
        runtime.start_and_supervise(processes)  # every step of every worker, or WorkerFailed
        grid = np.copy(buffers(segment, size)[steps % 2])
        if trace:
            print(f"segment /{segment.name}: two grids of {size} float64", file=sys.stderr)
    if trace:
        active = min(size, workers)
        for w, (process, part) in enumerate(zip(processes, parts, strict=True)):
            outputs.stencil_trace(
                f"{process.name} (pid {process.pid})", part, steps,
                w - 1 if 0 < w < active else None, w + 1 if w + 1 < active else None,
            )
    return grid


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.make_parser("shared_memory.stencil", __doc__)
    cli.add_workers(parser)
    cli.add_grid(parser)
    args = cli.parse(parser, argv)
    with runtime.report_failures(parser.prog):
        grid = run(args.size, args.steps, args.workers, trace=args.trace, fault=args.fault)
        lines = outputs.stencil_lines(grid, args.steps, float(np.sum(grid)))
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
