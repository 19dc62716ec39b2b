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
fail, not a way to stop a worker (``runtime.abort_on_error`` uses it for exactly
that). A rank can only stop because it decided to, after reading a message.

Hazards: a worker that never polls never stops, so a unit of work must be
short; and each message must be matched by a receive -- exactly one WORKING
per worker and one STOP per worker -- or one would be left in flight.

Bare example: examples/message_passing/terminate.py

The shared-state twin is ``shared_memory.terminate``; both print the same lines,
one a worker saying how it stopped, made by ``contract.outputs.Outcome``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from mpi4py import MPI

from contract import cli, faults
from contract.outputs import Outcome, Stopped
from message_passing import runtime

UNIT = 0.01  # seconds one unit of work takes: so also how long a stop request may wait
WORKING, STOP = 1, 2  # tags: "I have done a unit" (to rank 0), "stop" (from rank 0)


def unit_of_work(n: int) -> int:
    """The n-th unit: a square, made longer by a short sleep."""
    time.sleep(UNIT)
    return n * n


def run(
    comm: MPI.Intracomm = MPI.COMM_WORLD, *, seconds: float = 0.0, trace: bool = False,
    fault: faults.Fault | None = None,
) -> Outcome | None:
    """Collective: every rank works until rank 0 stops it; the outcome on rank 0, else ``None``."""
    with runtime.own_comm(comm) as own:
        began = MPI.Wtime()
        faults.strike(fault, own.Get_rank())
        if own.Get_rank() == 0:
            units, total, asked = work_then_stop_the_others(own, began, seconds)
        else:
            units, total = work_until_stopped(own)
        # The cleanup: hand the tally back. It is only reached by leaving the loop;
        # an exception goes past it to the abort instead.
        tallies = own.gather((units, total, runtime.who(own)))
    if tallies is None:
        return None
    outcome = Outcome(
        [Stopped(r, n, t, name) for r, (n, t, name) in enumerate(tallies)],
        MPI.Wtime() - asked,
    )
    if trace:
        outcome.trace(asked - began)
    return outcome


def work_until_stopped(comm: MPI.Intracomm) -> tuple[int, int]:
    """A rank other than 0: units of work until rank 0 says STOP; how many, and their sum."""
    units = total = 0
    while True:
        total += unit_of_work(units)
        units += 1
        if units == 1:
            comm.send(None, dest=0, tag=WORKING)  # rank 0 receives it between its units
        if comm.Iprobe(source=0, tag=STOP):  # checked between units only
            comm.recv(source=0, tag=STOP)
            return units, total


def work_then_stop_the_others(
    comm: MPI.Intracomm, began: float, seconds: float
) -> tuple[int, int, float]:
    """Rank 0: units of work until every rank has done one and ``seconds`` have passed; then
    STOP to every other rank. How many units, their sum, and when it asked to stop."""
    others = comm.Get_size() - 1
    units = total = heard = 0  # heard: how many other ranks said WORKING
    while True:
        total += unit_of_work(units)
        units += 1
        while heard < others and comm.Iprobe(source=MPI.ANY_SOURCE, tag=WORKING):
            comm.recv(source=MPI.ANY_SOURCE, tag=WORKING)
            heard += 1
        if heard == others and MPI.Wtime() - began >= seconds:
            asked = MPI.Wtime()
            # Nonblocking sends, completed together: no order among the workers.
            MPI.Request.waitall([comm.isend(None, dest, STOP) for dest in range(1, others + 1)])
            return units, total, asked  # rank 0 is a worker too: it stops itself, between units


def main(argv: Sequence[str] | None = None) -> int:
    parser = runtime.parser("message_passing.terminate", __doc__)
    parser.add_argument(
        "--seconds", type=cli.duration, default=0.0, metavar="S",
        help="ask to stop once every rank did a unit and S seconds passed (default 0)",
    )
    parser.add_argument(
        "--hard", action="store_true",
        help="not available under MPI: Comm.Abort would end the whole job",
    )
    cli.add_trace(parser)
    cli.add_fault(parser)
    args = parser.parse_args(argv)
    if args.hard:
        parser.error(
            "--hard: MPI cannot stop one rank; Comm.Abort, its only hard stop, ends the whole job"
        )
    cli.check_fault(parser, args.fault, MPI.COMM_WORLD.Get_size())
    with runtime.abort_on_error():
        outcome = run(seconds=args.seconds, trace=args.trace, fault=args.fault)
        if outcome is not None:
            print("\n".join(outcome.lines()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
