"""Pairs of processes exchange a large message over a ``Pipe``, and report it on a ``Queue``.

    python -m shared_memory.deadlock [--workers 4] [--size 1048576] [--trace] [--fault raise:W]
                                     [--unsafe [queue|pipe] [--patience 5]]

Worker processes pair up, (0, 1), (2, 3)...; with an odd number the last one has no
partner and says so. The two workers of a pair share a ``Pipe()`` (duplex: each holds one
end, and both send and receive on it). Each sends its partner ``--size`` bytes and
receives as many from it, three ways in turn, then puts what it received on a ``Queue``,
for the parent to check.

Two hazards, both from a buffer that fills up. A pipe, or the socket pair behind a duplex
``Pipe()``, holds only so many bytes: ``send_bytes()`` of more returns only once the other
end has read the rest. The buffer's size depends on the system and its settings, so it is
found, not written down: ``fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ)`` on Linux for a one-way
``Pipe(duplex=False)`` (a pipe; a ``Queue`` is one), and ``socket.getsockopt(SOL_SOCKET,
SO_SNDBUF)`` plus ``SO_RCVBUF`` of the other end for a duplex one (the kernel also counts
its bookkeeping in those); or try ``--unsafe`` with a smaller ``--size``.

* Both ends send first (``--unsafe pipe``): each waits in ``send_bytes()`` for the other
  to read, and neither reads. The parent is not part of this hang: its watchdog
  (``runtime.gather_within``) sees no report come for ``--patience`` seconds, says who is
  stuck, stops the workers and exits non-zero. The fixes, run in turn by default: *order
  by parity* (the even worker sends then receives, the odd one receives then sends), *send
  and receive at once* (a thread sends while the worker receives), *post both, then wait*
  (both handed to threads, whose futures are then waited for together). They are the
  three fixes of ``message_passing.deadlock``, where the buffer is the MPI library's eager
  limit.
* Joining processes that use queues: ``put()`` returns at once, because a feeder thread
  writes the item into the queue's pipe, but a process does not exit before its feeder has
  written everything. A parent that ``join()``s a worker before it ``get()``s that
  worker's large report waits for ever for a worker that waits for it. The default
  drains first (``runtime.gather`` says why); ``--unsafe`` (or ``--unsafe queue``) joins
  first, and its watchdog (``runtime.join_within``) gives up after ``--patience`` seconds,
  says who is stuck where, stops the workers and exits non-zero.

Either way a message that fits in the buffer "works": the unsafe order completes, which is
why a small test passes and the program hangs the day its messages grow.

Bare example: examples/shared_memory/deadlock.py

The message-passing twin is ``message_passing.deadlock``; both print the same lines,
made by ``contract.outputs.deadlock_lines``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from multiprocessing import Pipe, Process, Queue, current_process, queues
from multiprocessing.connection import Connection
from threading import Thread

from contract import cli, faults, outputs
from contract.outputs import DEADLOCK_FIXES, message_byte, partner_of
from shared_memory import runtime

SIZE = 1 << 20  # bytes: far above the buffer of a pipe or a socket pair we know of
PATIENCE = 5.0  # seconds


def in_parity_order(conn: Connection, message: bytes, index: int) -> bytes:
    """The even worker sends first, the odd one receives first: each send meets a reader."""
    if index % 2 == 0:
        conn.send_bytes(message)
        return conn.recv_bytes()
    got = conn.recv_bytes()
    conn.send_bytes(message)
    return got


def at_once(conn: Connection, message: bytes, index: int) -> bytes:
    """A thread sends while this one receives (what ``Sendrecv`` does inside MPI)."""
    sender = Thread(target=conn.send_bytes, args=(message,))
    sender.start()
    got = conn.recv_bytes()
    sender.join()
    return got


def posted_then_waited(conn: Connection, message: bytes, index: int) -> bytes:
    """Both handed to threads (the futures are MPI's requests), then both waited for."""
    with ThreadPoolExecutor(2) as threads:
        sent = threads.submit(conn.send_bytes, message)
        got = threads.submit(conn.recv_bytes)
        wait([sent, got])
    sent.result()  # raises what the send raised, if anything
    return got.result()


FIXES: dict[str, Callable[[Connection, bytes, int], bytes]] = dict(
    zip(DEADLOCK_FIXES, (in_parity_order, at_once, posted_then_waited), strict=True)
)


def send_first(conn: Connection, message: bytes, index: int) -> bytes:
    """--unsafe pipe: both ends send first. Above what the pipe holds neither send returns."""
    conn.send_bytes(message)
    return conn.recv_bytes()


HAZARDS = ("queue", "pipe")  # what --unsafe may show: join before get, both ends sending


@runtime.worker
def exchange(
    index: int, conn: Connection | None, reports: queues.Queue, size: int,
    unsafe: str | None, fault: faults.Fault | None,
) -> None:
    """In worker ``index``: each fix with its partner over ``conn`` (``None``: no partner),
    or the unsafe send-first under ``--unsafe pipe``; then what it received, a large item,
    on ``reports``."""
    faults.strike(fault, index)
    received = []
    if conn is not None:
        message = bytes([message_byte(index)]) * size
        ways = [send_first] if unsafe == "pipe" else FIXES.values()
        received = [way(conn, message, index) for way in ways]
    reports.put((index, f"{current_process().name}, pid {os.getpid()}", received))


def run(
    size: int = SIZE, workers: int = 4, *, unsafe: str | None = None,
    patience: float = PATIENCE, trace: bool = False, fault: faults.Fault | None = None,
) -> list[list[bool] | None]:
    """For each worker in order, whether it got its partner's whole message by each fix
    (by the unsafe send-first alone under ``unsafe="pipe"``), ``None`` for a worker with no
    partner.

    ``unsafe="queue"``: the parent joins the workers before it reads their reports;
    ``unsafe="pipe"``: both workers of a pair send first. Either raises ``runtime.Stuck``
    when nothing has moved for ``patience`` s.
    """
    pipes = [Pipe() for _ in range(workers // 2)]
    ends = [pipes[w // 2][w % 2] if partner_of(w, workers) is not None else None
            for w in range(workers)]
    reports = Queue()
    processes = [
        Process(target=exchange, name=f"deadlock-{w}",
                args=(w, ends[w], reports, size, unsafe, fault))
        for w in range(workers)
    ]
    with runtime.started(processes, closing=[end for pipe in pipes for end in pipe]):
        if unsafe == "queue":  # join before get: the hazard
            runtime.join_within(processes, patience, joined(size))
        if unsafe == "pipe":
            got = runtime.gather_within(reports, workers, processes, patience, sending(size))
        else:
            got = runtime.gather(reports, workers, processes)  # get before join: the fix
        runtime.supervise(processes)
    got.sort()
    if trace:
        for index, who, received in got:
            done = [outputs.DEADLOCK_UNSAFE] if unsafe == "pipe" else list(FIXES)
            outputs.deadlock_trace(who, partner_of(index, workers), done[:len(received)])
    return [
        None if partner_of(index, workers) is None
        else [r == bytes([message_byte(partner_of(index, workers))]) * size for r in received]
        for index, _, received in got
    ]


def joined(size: int) -> str:
    """--unsafe queue: what the worker the parent joins is waiting for."""
    return (f"which cannot exit before its queue's feeder thread has written its report "
            f"({len(DEADLOCK_FIXES)} x {size} bytes) into a pipe that nobody reads")


def sending(size: int) -> str:
    """--unsafe pipe: what the workers still running are waiting for."""
    return (f"each in send_bytes() of {size} bytes to its partner, which is sending too "
            "and reads nothing")


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.make_parser("shared_memory.deadlock", __doc__)
    cli.add_workers(parser)
    parser.add_argument(
        "--size", "--items", type=cli.fitting_count(2), default=SIZE, metavar="BYTES",
        help=f"the message's size in bytes (default {SIZE}); --items is the same",
    )
    parser.add_argument(
        "--unsafe", nargs="?", const="queue", choices=HAZARDS, metavar="HAZARD",
        help="queue (the default): the parent joins the workers before it reads their "
        "reports; pipe: both workers of a pair send first. Each deadlocks when the message "
        "does not fit in the pipe",
    )
    parser.add_argument(
        "--patience", type=cli.duration, default=PATIENCE, metavar="S",
        help=f"--unsafe: seconds without progress before the run is stopped "
        f"(default {PATIENCE:g})",
    )
    args = cli.parse(parser, argv)
    with runtime.report_failures(parser.prog):
        received = run(args.size, args.workers, unsafe=args.unsafe, patience=args.patience,
                       trace=args.trace, fault=args.fault)
        lines = (outputs.deadlock_unsafe_lines if args.unsafe == "pipe" else outputs.deadlock_lines)
        print("\n".join(lines(args.size, received)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
