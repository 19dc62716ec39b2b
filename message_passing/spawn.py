"""Hear from every worker process: the ranks ``mpiexec`` started, or workers spawned at run time.

    mpiexec -n 4 python -m message_passing.spawn [--trace] [--fault raise:W]
    python -m message_passing.spawn --dynamic [--workers 4] [--trace] [--fault raise:W]

Under MPI the workers usually exist before the program does: ``mpiexec -n 4``
starts four copies, each learns its rank, and there is nothing left to start.
Each rank makes its line and ``gather`` brings the lines to rank 0 in rank
order, which prints them: like every pattern's output, written by rank 0 alone.

``--dynamic``: one process starts its workers itself with
``MPI.COMM_SELF.Spawn(sys.executable, args=[...], maxprocs=W)``, the
counterpart of starting ``Process`` objects. The children run this same module,
find their parent with ``MPI.Comm.Get_parent()``, and talk to it over the
intercommunicator ``Spawn`` returned: the parent broadcasts the settings with
``root=MPI.ROOT``, the children's reports come back with ``gather``, and both
sides ``Disconnect``. Run the parent as one process: under ``mpiexec -n 1``, or
alone; alone (an MPI "singleton"), MPICH spawns by starting ``mpiexec`` from
``PATH`` behind the scenes (Open MPI 5: its ``prte`` daemon), so the MPI's bin
directory must be on ``PATH`` (an activated virtualenv does it); without it we
say so and exit 1, where MPICH itself would fail an assertion and hang.

Hazards: ``Spawn`` returns only when every child has called ``MPI_Init``; with
MPICH a child that dies before that (a wrong path, an import error) leaves the
parent waiting forever. A child that raises later aborts, and MPI ends the
parent with it (under a singleton, the process manager kills the parent's whole
process group). MPI cannot refuse a spawned process children of its own the
way multiprocessing refuses a daemon: there is no ``--daemon`` here.

Bare example: examples/message_passing/spawn.py

The shared-state twin is ``shared_memory.spawn``; both print the same lines,
one a worker in worker order, made by ``contract.outputs``.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence

from mpi4py import MPI

from contract import cli, faults
from contract.outputs import spawn_line, spawn_trace
from message_passing import runtime

DEFAULT_WORKERS = 4


def run(
    comm: MPI.Intracomm = MPI.COMM_WORLD, *, trace: bool = False,
    fault: faults.Fault | None = None,
) -> list[str] | None:
    """Collective: every rank's report line, in rank order, on rank 0; ``None`` elsewhere."""
    rank = comm.Get_rank()
    faults.strike(fault, rank)
    reports = comm.gather((spawn_line(rank, comm.Get_size()), runtime.who(comm)))
    if rank != 0:
        return None
    if trace:
        spawn_trace([who for _, who in reports])
    return [line for line, _ in reports]


# --- --dynamic: workers spawned at run time -------------------------------------------------------


class CannotSpawn(RuntimeError):
    """This MPI cannot start processes from here."""


def spawn_helper() -> str | None:
    """The program a singleton starts, from PATH, to spawn: MPICH runs ``mpiexec``, Open MPI 5
    its ``prte`` daemon (without it Open MPI fails the Spawn with MPI_ERR_UNKNOWN)."""
    version = MPI.Get_library_version()
    return "mpiexec" if "MPICH" in version else "prte" if "Open MPI" in version else None


def spawn_problem() -> str | None:
    """Why spawning cannot work from here, when that is known before trying."""
    helper = spawn_helper()
    if runtime.launched() or helper is None or shutil.which(helper):
        return None
    return (
        f"a process not started by mpiexec spawns through the {helper} found on PATH, and "
        "there is none: run under 'mpiexec -n 1', or put the MPI's bin directory on PATH"
    )


def run_dynamic(
    workers: int = DEFAULT_WORKERS, *, trace: bool = False, fault: faults.Fault | None = None
) -> list[str]:
    """Spawn ``workers`` processes from this one; their report lines, in worker order."""
    problem = spawn_problem()
    if problem is not None:
        raise CannotSpawn(problem)
    try:
        children = MPI.COMM_SELF.Spawn(
            sys.executable, args=["-m", "message_passing.spawn"], maxprocs=workers
        )
    except MPI.Exception as error:
        raise CannotSpawn(error.Get_error_string()) from None
    # On an intercommunicator the parent's side is the root (MPI.ROOT) of the
    # collectives and the children's side names it as their rank 0.
    children.bcast(fault, root=MPI.ROOT)
    reports = children.gather(None, root=MPI.ROOT)
    children.Disconnect()
    if trace:
        spawn_trace([who for _, who in reports])
    return [line for line, _ in reports]


def serve_parent(parent: MPI.Intercomm) -> None:
    """A spawned worker: its report to the parent that started it."""
    fault = parent.bcast(None, root=0)
    rank = parent.Get_rank()
    faults.strike(fault, rank)
    parent.gather((spawn_line(rank, parent.Get_size()), f"{runtime.who()}, spawned"), root=0)
    parent.Disconnect()


def main(argv: Sequence[str] | None = None) -> int:
    parent = MPI.Comm.Get_parent()
    if parent != MPI.COMM_NULL:
        with runtime.abort_on_error():
            serve_parent(parent)
        return 0
    parser = runtime.parser("message_passing.spawn", __doc__)
    parser.add_argument(
        "--dynamic", action="store_true",
        help="one process spawns the workers at run time (MPI.COMM_SELF.Spawn)",
    )
    parser.add_argument(
        "--workers", type=cli.positive, metavar="W",
        help=f"with --dynamic: how many workers to spawn (default {DEFAULT_WORKERS})",
    )
    cli.add_trace(parser)
    cli.add_fault(parser)
    args = parser.parse_args(argv)
    size = MPI.COMM_WORLD.Get_size()
    if args.workers is not None and not args.dynamic:
        parser.error("--workers needs --dynamic: otherwise the workers are the ranks (mpiexec -n)")
    if args.dynamic and size != 1:
        parser.error(f"--dynamic spawns from one process, not {size}: run it with mpiexec -n 1")
    workers = (args.workers or DEFAULT_WORKERS) if args.dynamic else size
    cli.check_fault(parser, args.fault, workers)
    with runtime.abort_on_error():
        if args.dynamic:
            try:
                lines = run_dynamic(workers, trace=args.trace, fault=args.fault)
            except CannotSpawn as error:
                print(f"{parser.prog}: error: cannot spawn workers: {error}", file=sys.stderr)
                return 1
        else:
            lines = run(trace=args.trace, fault=args.fault)
        if lines is not None:
            print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
