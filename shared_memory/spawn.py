"""Start N worker processes by hand and hear from each: ``multiprocessing.Process``.

    python -m shared_memory.spawn [--workers 4] [--daemon] [--trace] [--fault raise:W]

The parent creates one ``Process(target, args, name)`` per worker, starts them
all, then waits for all of them. Each worker sends its line back over a ``Pipe``
of its own and the parent prints the lines in worker order: children printing
for themselves would interleave in whatever order the OS runs them.

Hazards: the parent reads while it waits, never ``join()`` first, and a child that
dies before sending must read as EOF, not as silence: ``runtime.start_and_collect``
does both and says why.

``--daemon``: the workers become daemon children of an intermediate parent.
Each tries to start a child of its own, which the standard library refuses
("daemonic processes are not allowed to have children"); the refusal is caught
and reported back. The parent then exits while its daemons are still busy, and
they are ended with it. That is multiprocessing's exit handler at work (it
``terminate()``s daemon children), not the kernel: a parent killed by a signal
skips the handler and leaves its daemons running (so ours turns SIGTERM into an
ordinary exit). The proof that they ended: a pipe that only the daemons hold
open reads EOF.

The message-passing twin is ``message_passing.spawn``; without ``--daemon``
both print the same lines, one a worker in worker order, made by ``contract.outputs``.
Bare example: examples/shared_memory/spawn.py
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Sequence
from multiprocessing import Pipe, Process, current_process
from multiprocessing.connection import Connection, wait
from types import FrameType
from typing import NamedTuple

from contract import cli, faults
from contract.outputs import spawn_line, spawn_trace
from shared_memory import runtime

# A daemon would stay busy this long if nothing ended it; we wait far less for it to be gone.
DAEMON_BUSY_SECONDS = 30.0
DAEMON_END_TIMEOUT = 10.0


class Report(NamedTuple):
    """What a worker sends its parent: its line, who it is, and (daemons) what refused it."""

    line: str
    name: str
    pid: int
    refusal: str | None = None

    @property
    def who(self) -> str:
        return who(self.name, self.pid)


def who(name: str, pid: int) -> str:
    """``Spawned-2, pid 4242``: the trace's name for a process."""
    return f"{name}, pid {pid}"


def reporting(index: int, workers: int, refusal: str | None = None) -> Report:
    me = current_process()
    return Report(spawn_line(index, workers), me.name, os.getpid(), refusal)


@runtime.worker
def report_in(index: int, workers: int, conn: Connection, fault: faults.Fault | None) -> None:
    """A worker: its report back to the parent."""
    faults.strike(fault, index)
    conn.send(reporting(index, workers))
    conn.close()


def run(
    workers: int = 4, *, trace: bool = False, fault: faults.Fault | None = None
) -> list[str]:
    """Start ``workers`` processes; their report lines, in worker order."""
    pipes = [Pipe(duplex=False) for _ in range(workers)]
    processes = [
        Process(target=report_in, args=(index, workers, send, fault), name=f"Spawned-{index}")
        for index, (_, send) in enumerate(pipes)
    ]
    reports: list[Report] = runtime.start_and_collect(processes, pipes)
    if trace:
        spawn_trace([report.who for report in reports])
    return [report.line for report in reports]


def try_to_have_a_child() -> str | None:
    """Why ``Process.start()`` was refused to us, or None if it was allowed.

    The refusal is an ``assert`` in the standard library, so ``python -O`` lifts it.
    """
    child = Process(target=time.sleep, args=(0,))
    try:
        child.start()
    except AssertionError as refusal:
        return str(refusal)
    child.join()
    return None


@runtime.worker
def daemon_worker(
    index: int, workers: int, conn: Connection, lifeline: Connection,
    fault: faults.Fault | None,
) -> None:
    """A daemon: reports, then stays busy; only its parent's exit ends it.

    ``lifeline`` is never used: holding its write end open is the point, as its
    reader sees EOF only once every holder is gone.
    """
    faults.strike(fault, index)
    conn.send(reporting(index, workers, try_to_have_a_child()))
    conn.close()
    time.sleep(DAEMON_BUSY_SECONDS)


def _exit_normally(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


@runtime.worker
def daemon_parent(
    workers: int, conn: Connection, lifeline: Connection, fault: faults.Fault | None
) -> None:
    """Start the daemons, pass their reports on, and exit while they still run."""
    pipes = [Pipe(duplex=False) for _ in range(workers)]
    daemons = [
        Process(
            target=daemon_worker, args=(index, workers, send, lifeline, fault),
            name=f"Daemon-{index}", daemon=True,
        )
        for index, (_, send) in enumerate(pipes)
    ]
    for daemon in daemons:
        daemon.start()
    # Installed after the daemons were forked, so they keep the default. terminate()
    # sends SIGTERM, whose default ends a process at once, skipping the exit handler
    # that ends daemons: as an ordinary exit, the daemons go with us even then.
    signal.signal(signal.SIGTERM, _exit_normally)
    lifeline.close()
    for _, send in pipes:
        send.close()
    try:
        reports = runtime.collect(daemons, [recv for recv, _ in pipes])
    except runtime.WorkerFailed as failure:
        raise SystemExit(str(failure)) from None
    conn.send((reports, who(current_process().name, os.getpid())))
    # Returning runs multiprocessing's exit handler: it terminate()s and joins every
    # daemon child still running, i.e. all of them.


def run_daemon(
    workers: int = 4, *, trace: bool = False, fault: faults.Fault | None = None
) -> list[str]:
    """The ``--daemon`` demonstration; what it showed, as lines."""
    reports_recv, reports_send = Pipe(duplex=False)
    lifeline_recv, lifeline_send = Pipe(duplex=False)
    parent = Process(
        target=daemon_parent, args=(workers, reports_send, lifeline_send, fault),
        name="DaemonParent",
    )
    pipes = [(reports_recv, reports_send), (lifeline_recv, lifeline_send)]
    with runtime.started([parent], pipes=pipes):
        runtime.supervise([parent], also=[reports_recv])
        reports, parent_identity = reports_recv.recv()
        # The daemons first: they inherited the pipe behind the parent's sentinel,
        # which therefore signals only once they are gone too.
        if not wait([lifeline_recv], timeout=DAEMON_END_TIMEOUT):
            for report in reports:
                _kill(report.pid)
            raise RuntimeError(f"daemons outlived their parent by {DAEMON_END_TIMEOUT} s")
        runtime.supervise([parent])  # it has exited, well
    if trace:
        print(f"the daemons' parent is {parent_identity}", file=sys.stderr)
        spawn_trace([report.who for report in reports])
    refusals = [report.refusal for report in reports if report.refusal is not None]
    refused = f"{len(refusals)} of {workers} daemons tried to start a child and were refused"
    if refusals:
        refused += ": " + "; ".join(sorted(set(refusals)))
    return [
        *(report.line for report in reports),
        refused,
        f"their parent exited, and all {workers} daemons ended with it",
    ]


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.make_parser("shared_memory.spawn", __doc__)
    cli.add_workers(parser)
    parser.add_argument(
        "--daemon", action="store_true",
        help="daemon workers: they may not have children, and end with their parent",
    )
    args = cli.parse(parser, argv)
    with runtime.report_failures(parser.prog):
        start = run_daemon if args.daemon else run
        lines = start(args.workers, trace=args.trace, fault=args.fault)
        for line in lines:
            print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
