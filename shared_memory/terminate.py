"""Stop worker processes that loop forever: cooperatively with an ``Event``, or by force.

    python -m shared_memory.terminate [--workers 4] [--seconds 0] [--hard] [--trace]

Each worker squares 0, 1, 2, ... one unit of work at a time until it is told to
stop, and its ``finally:`` block is its cleanup: it hands back its tally (how
many units it did) through its own ``Pipe``. The parent waits until every
worker has done at least one unit (and ``--seconds`` have passed), then:

- by default sets a shared ``Event``. Workers look at it between two units, so
  each stops within one unit of being asked, leaves its loop normally, runs its
  cleanup and exits with status 0.
- with ``--hard`` calls ``Process.terminate()``: SIGTERM, whose default action
  ends the process on the spot. The exit code is -15 (-SIGTERM) and the
  ``finally:`` never runs, so no tally comes back: whatever a killed worker had
  not handed over is lost. Worse, a worker killed while holding a lock (a
  ``Queue``'s, or the ``Event``'s own) leaves it held forever for everybody.

Hazard: the parent must not block on a worker's pipe while that worker may be
dead: it reads through ``runtime.collect``, which watches every worker meanwhile.

The message-passing twin is ``message_passing.terminate`` (cooperative only:
MPI has no way to stop one process); both print the same lines, one a worker saying
how it stopped, made by ``contract.outputs.Outcome``.
Bare example: examples/shared_memory/terminate.py
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from multiprocessing import Event, Pipe, Process
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event as EventType

from contract import cli, faults
from contract.outputs import Outcome, Stopped
from shared_memory import runtime

UNIT = 0.01  # seconds one unit of work takes: also about the longest a stop request waits
WORKING = "working"  # what a worker says once it has done its first unit


@runtime.worker
def work(index: int, stop: EventType, out: Connection, fault: faults.Fault | None) -> None:
    """A worker: square successive numbers until ``stop`` is set, then clean up."""
    faults.strike(fault, index)
    units = total = 0
    try:
        while True:
            total += units * units  # one unit of work, made longer by a short sleep
            time.sleep(UNIT)
            units += 1
            if units == 1:
                out.send(WORKING)
            if stop.is_set():  # checked between units only: a unit is never cut in half
                break
    finally:
        # The cleanup. A normal exit, an exception or sys.exit() all pass through
        # here; the default action of SIGTERM (Process.terminate) does not.
        out.send((units, total, f"worker {index} (pid {os.getpid()})"))
        out.close()


def run(
    workers: int = 4, *, hard: bool = False, seconds: float = 0.0, trace: bool = False,
    fault: faults.Fault | None = None,
) -> Outcome:
    """Start ``workers`` looping workers, let each do a unit (and ``seconds`` pass), stop them."""
    stop = Event()
    pipes = [Pipe(duplex=False) for _ in range(workers)]
    processes = [
        Process(target=work, args=(i, stop, send, fault), name=str(i))
        for i, (_, send) in enumerate(pipes)
    ]
    readers = [recv for recv, _ in pipes]
    began = time.monotonic()
    with runtime.started(processes, pipes=pipes):
        runtime.collect(processes, readers)  # WORKING from each: every worker did a unit
        time.sleep(max(0.0, seconds - (time.monotonic() - began)))
        asked = time.monotonic()
        if hard:
            for process in processes:
                process.terminate()
            for process in processes:
                process.join()
            tallies = [_leftover(reader) for reader in readers]
        else:
            stop.set()
            tallies = runtime.collect(processes, readers)
            runtime.supervise(processes)  # each exits right after handing its tally over
        took = time.monotonic() - asked
    outcome = Outcome(
        [
            _stopped(i, process, tally)  # type: ignore[arg-type]
            for i, (process, tally) in enumerate(zip(processes, tallies, strict=True))
        ],
        took,
    )
    if trace:
        outcome.trace(asked - began)
    return outcome


def _leftover(conn: Connection) -> object | None:
    """What is left to read on a dead worker's pipe: its tally if its cleanup ran, else None."""
    try:
        return conn.recv() if conn.poll() else None
    except EOFError:
        return None


def _stopped(index: int, process: Process, tally: tuple[int, int, str] | None) -> Stopped:
    if tally is None:  # no cleanup: the tally was lost with the worker
        return Stopped(index, None, None, f"worker {index} (pid {process.pid})", process.exitcode)
    units, total, name = tally
    return Stopped(index, units, total, name, process.exitcode)


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.make_parser("shared_memory.terminate", __doc__)
    cli.add_workers(parser)
    parser.add_argument(
        "--seconds", type=cli.duration, default=0.0, metavar="S",
        help="ask to stop once every worker did a unit and S seconds passed (default 0)",
    )
    parser.add_argument(
        "--hard", action="store_true",
        help="Process.terminate() instead of the cooperative Event: no cleanup",
    )
    args = cli.parse(parser, argv)
    with runtime.report_failures(parser.prog):
        outcome = run(
            args.workers, hard=args.hard, seconds=args.seconds, trace=args.trace,
            fault=args.fault,
        )
        print("\n".join(outcome.lines()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
