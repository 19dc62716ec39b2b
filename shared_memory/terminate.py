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

Hazards: the parent must not block on a worker's pipe while that worker may
be dead, so every read goes through ``_workers.supervise``, which notices a
dead worker instead of waiting for it.

The message-passing twin is ``message_passing.terminate`` (cooperative only:
MPI has no way to stop one process); both print the same lines, one a worker saying
how it stopped, made by ``bench.outputs.Outcome``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from multiprocessing import Event, Pipe, Process
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event as EventType

from bench import contract
from bench.outputs import Outcome, Stopped
from shared_memory import _workers

UNIT = 0.01  # seconds one unit of work takes: also about the longest a stop request waits
WORKING = "working"  # what a worker says once it has done its first unit


@_workers.worker
def work(index: int, stop: EventType, out: Connection, fault: contract.Fault | None) -> None:
    """A worker: square successive numbers until ``stop`` is set, then clean up."""
    contract.strike(fault, index)
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


def _receive(processes: Sequence[Process], index: int, conn: Connection) -> object:
    """``conn.recv()`` from worker ``index``, but a worker that dies meanwhile raises, not hangs."""
    while not conn.poll():
        # Returns once conn is readable; raises as soon as any worker fails.
        _workers.supervise(processes, also=[conn])
    try:
        return conn.recv()
    except EOFError:  # its process ended without a word: say how
        processes[index].join()
        raise _workers.WorkerFailed(processes[index]) from None


def _leftover(conn: Connection) -> object | None:
    """What is left to read on a dead worker's pipe: its tally if its cleanup ran, else None."""
    try:
        return conn.recv() if conn.poll() else None
    except EOFError:
        return None


def run(
    workers: int = 4, *, hard: bool = False, seconds: float = 0.0, trace: bool = False,
    fault: contract.Fault | None = None,
) -> Outcome:
    """Start ``workers`` looping workers, let each do a unit (and ``seconds`` pass), stop them."""
    stop = Event()
    pipes = [Pipe(duplex=False) for _ in range(workers)]
    processes = [
        Process(target=work, args=(i, stop, pipes[i][1], fault), name=str(i))
        for i in range(workers)
    ]
    began = time.monotonic()
    with _workers.started(processes, closing=[reader for reader, _ in pipes]):
        for _, writer in pipes:
            writer.close()  # the parent only reads; the children hold the write ends
        for i, (reader, _) in enumerate(pipes):
            _receive(processes, i, reader)  # WORKING: worker i has done a unit
        time.sleep(max(0.0, seconds - (time.monotonic() - began)))
        asked = time.monotonic()
        if hard:
            for process in processes:
                process.terminate()
            for process in processes:
                process.join()
            tallies = [_leftover(reader) for reader, _ in pipes]
        else:
            stop.set()
            tallies = [_receive(processes, i, reader) for i, (reader, _) in enumerate(pipes)]
            _workers.supervise(processes)  # each exits right after handing its tally over
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


def _stopped(index: int, process: Process, tally: tuple[int, int, str] | None) -> Stopped:
    if tally is None:  # no cleanup: the tally was lost with the worker
        return Stopped(index, None, None, f"worker {index} (pid {process.pid})", process.exitcode)
    units, total, name = tally
    return Stopped(index, units, total, name, process.exitcode)


def main(argv: Sequence[str] | None = None) -> int:
    parser = contract.make_parser("shared_memory.terminate", __doc__)
    contract.add_workers(parser)
    parser.add_argument(
        "--seconds", type=contract.duration, default=0.0, metavar="S",
        help="ask to stop once every worker did a unit and S seconds passed (default 0)",
    )
    parser.add_argument(
        "--hard", action="store_true",
        help="Process.terminate() instead of the cooperative Event: no cleanup",
    )
    args = contract.parse(parser, argv)
    with _workers.report_failures(parser.prog):
        outcome = run(
            args.workers, hard=args.hard, seconds=args.seconds, trace=args.trace,
            fault=args.fault,
        )
    print("\n".join(outcome.lines()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
