"""Stop ranks that loop forever: rank 0 sends each a STOP-tagged message they poll for.

    mpiexec -n 4 python -m message_passing.terminate [--seconds 0] [--trace]

Every rank is a worker: it squares 0, 1, 2, ... one unit of work at a time.
After its first unit a rank tells rank 0 so with a WORKING-tagged message.
Rank 0 works too, and between its units it collects those messages; once
every rank has done a unit (and ``--seconds`` have passed) it sends a
STOP-tagged message to every other rank and stops itself. A worker looks for
STOP between two units with ``comm.Iprobe(source=0, tag=STOP)``, which never
blocks, receives it (every message sent must be received), leaves its loop and
runs its cleanup: it hands back its tally (how many units it did) in a
``gather`` to rank 0. With one rank, rank 0 is the only worker and stops itself.

Why only a cooperative stop: MPI has no way to stop one process. The one hard
stop is ``comm.Abort()``, and it ends the whole job -- every rank of every
communicator, rank 0 included, with no cleanup anywhere -- so it is a way to
fail, not a way to stop a worker (``_cli.abort_on_error`` uses it for exactly
that). A rank can only stop because it decided to, after reading a message.

Hazards: a worker that never polls never stops, so a unit of work must be
short; and each message must be matched by a receive -- exactly one WORKING
per worker and one STOP per worker -- or one would be left in flight when the
next pattern on the communicator starts.

The shared-state twin is ``shared_memory.terminate``; both print the same lines,
one a worker saying how it stopped, made by ``bench.outputs.Outcome``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from mpi4py import MPI

from bench import contract
from bench.outputs import Outcome, Stopped
from message_passing import _cli

UNIT = 0.01  # seconds one unit of work takes: also about the longest a stop request waits
WORKING, STOP = 1, 2  # tags: "I have done a unit" (to rank 0), "stop" (from rank 0)


def run(
    comm: MPI.Intracomm = MPI.COMM_WORLD, *, seconds: float = 0.0, trace: bool = False,
    fault: contract.Fault | None = None,
) -> Outcome | None:
    """Collective: every rank works until rank 0 stops it; the outcome on rank 0, else ``None``."""
    # Our messages travel on a communicator of our own, so that no receive of this
    # run can match a message of the caller's, or of the next run of ours.
    own = comm.Dup()
    outcome = _run(own, seconds, trace, fault)
    own.Free()  # collective: on the normal path only; an exception aborts instead
    return outcome


def _run(
    comm: MPI.Intracomm, seconds: float, trace: bool, fault: contract.Fault | None
) -> Outcome | None:
    rank, size = comm.Get_rank(), comm.Get_size()
    began = MPI.Wtime()
    contract.strike(fault, rank)
    units = total = 0
    heard, asked = 0, 0.0  # rank 0: how many other ranks said WORKING; when it asked to stop
    while True:
        total += units * units  # one unit of work, made longer by a short sleep
        time.sleep(UNIT)
        units += 1
        if rank == 0:
            while heard < size - 1 and comm.Iprobe(source=MPI.ANY_SOURCE, tag=WORKING):
                comm.recv(source=MPI.ANY_SOURCE, tag=WORKING)
                heard += 1
            if heard == size - 1 and MPI.Wtime() - began >= seconds:
                asked = MPI.Wtime()
                # Nonblocking sends, completed together: no order among the workers.
                MPI.Request.waitall([comm.isend(None, dest, STOP) for dest in range(1, size)])
                break  # rank 0 is a worker too: it stops itself here, between two units
        else:
            if units == 1:
                comm.send(None, dest=0, tag=WORKING)  # rank 0 receives it between its units
            if comm.Iprobe(source=0, tag=STOP):  # checked between units only
                comm.recv(source=0, tag=STOP)
                break
    # The cleanup: hand the tally back. It is only reached by leaving the loop;
    # an exception goes past it to the abort instead.
    tallies = comm.gather((units, total, _cli.who(comm)))
    if rank != 0:
        return None
    outcome = Outcome(
        [Stopped(r, n, t, name) for r, (n, t, name) in enumerate(tallies)],
        MPI.Wtime() - asked,
    )
    if trace:
        outcome.trace(asked - began)
    return outcome


def main(argv: Sequence[str] | None = None) -> int:
    parser = _cli.parser("message_passing.terminate", __doc__)
    parser.add_argument(
        "--seconds", type=contract.duration, default=0.0, metavar="S",
        help="ask to stop once every rank did a unit and S seconds passed (default 0)",
    )
    parser.add_argument(
        "--hard", action="store_true",
        help="not available under MPI: Comm.Abort would end the whole job",
    )
    contract.add_trace(parser)
    contract.add_fault(parser)
    args = parser.parse_args(argv)
    if args.hard:
        parser.error(
            "--hard: MPI cannot stop one rank; Comm.Abort, its only hard stop, ends the whole job"
        )
    contract.check_fault(parser, args.fault, MPI.COMM_WORLD.Get_size())
    with _cli.abort_on_error():
        outcome = run(seconds=args.seconds, trace=args.trace, fault=args.fault)
        if outcome is not None:
            print("\n".join(outcome.lines()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
