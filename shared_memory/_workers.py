"""What every ``shared_memory`` pattern shares: watching its worker processes.

A parent that only ``join()``s its children one by one waits forever when one
of them dies while the others wait for it (at a barrier, on a queue, in a
pipe). :func:`supervise` waits on all of them at once and, as soon as one
ends badly, stops the rest and raises :class:`WorkerFailed` naming it: the
multiprocessing counterpart of the MPI side's abort on error.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from multiprocessing import connection, parent_process
from multiprocessing.process import BaseProcess
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def become_worker() -> None:
    """What every worker process does first (``@worker`` targets, a pool's initializer).

    * Ignore SIGINT. Ctrl-C in a terminal sends it to every process of the foreground
      group, the workers included, and each would print a KeyboardInterrupt traceback of
      its own. The parent alone decides: it stops the workers (``started``,
      ``Pool.__exit__``) and exits with 130 (``report_failures``).
    * End at once if the parent dies. A parent killed with SIGKILL cannot stop anybody,
      and a worker blocked on a queue or a pipe its parent fed would wait for ever: a
      thread watches the parent's sentinel, which becomes ready when the parent is gone.

    Done here, in the worker, because it holds under every start method: a spawned or
    forkserver child starts from a fresh interpreter, or from handlers reset after the fork.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    end_with_parent()


def end_with_parent() -> None:
    """In a child process: exit at once when the parent is gone (a thread waits on its
    sentinel). Nothing to do in a process that multiprocessing did not start."""
    parent = parent_process()
    if parent is not None and parent.sentinel is not None:
        threading.Thread(target=_exit_with, args=(parent.sentinel,), name="orphan-guard",
                         daemon=True).start()


def _exit_with(sentinel: int) -> None:
    connection.wait([sentinel])
    os._exit(1)  # no clean-up: the parent that would want it is gone


def worker(target: Callable[P, R]) -> Callable[P, R]:
    """Mark a function that runs as a worker process's target: :func:`become_worker` first."""

    @functools.wraps(target)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        become_worker()
        return target(*args, **kwargs)

    return run


class WorkerFailed(RuntimeError):
    """A worker process ended with a non-zero exit code (it raised, or was killed)."""

    def __init__(self, process: BaseProcess) -> None:
        code = process.exitcode
        if code is not None and code < 0:
            how = f"was killed by signal {-code}"
        elif code == 1:  # what a Process whose run() raised exits with, traceback printed
            how = "exited with status 1 (as after an uncaught exception: see its traceback above)"
        else:
            how = f"exited with status {code}"
        super().__init__(f"worker {process.name} {how}")
        self.name = process.name
        self.exitcode = code


def supervise(
    processes: Sequence[BaseProcess], *, also: Sequence[connection.Connection] = ()
) -> None:
    """Wait until every process has ended; on the first failure stop the others and raise.

    ``also``: connections the caller will read next; we return as soon as one
    is readable, so the caller can take its data without a dead child making
    it wait forever. Call again to go on watching.
    """
    pending = {p.sentinel: p for p in processes if p.exitcode != 0}  # None: still running
    while pending:
        ready = connection.wait([*pending, *also])
        for handle in ready:
            process = pending.pop(handle, None)  # type: ignore[call-overload]
            if process is None:
                continue
            process.join()
            if process.exitcode != 0:
                stop(pending.values())
                raise WorkerFailed(process)
        if any(handle in also for handle in ready):
            return


def stop(processes: Iterable[BaseProcess]) -> None:
    """Terminate and reap processes that are still running; those never started are skipped."""
    processes = [p for p in processes if p.pid is not None]
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join()


@contextmanager
def started(
    processes: Sequence[BaseProcess], *, closing: Iterable[connection.Connection] = ()
) -> Iterator[None]:
    """Start every process for the block; on the way out, however it ends, stop the ones still
    running and close the connections in ``closing``: no process outlives the block."""
    try:
        for process in processes:
            process.start()
        yield
    finally:
        stop(processes)
        for conn in closing:
            conn.close()


def start_and_supervise(processes: Sequence[BaseProcess]) -> None:
    """Start every process, then :func:`supervise` them; whatever happens none outlives us."""
    with started(processes):
        supervise(processes)


def collect(
    processes: Sequence[BaseProcess], conns: Sequence[connection.Connection]
) -> list[Any]:
    """One message from each connection, in order, each read while every process is watched."""
    messages = []
    for conn in conns:
        supervise(processes, also=[conn])
        try:
            messages.append(conn.recv())
        except EOFError:
            # Its writer closed without a message: the process is ending badly, and the
            # end of its pipe can be seen a moment before its sentinel. Wait for the
            # sentinel, so that the failure names the process rather than the pipe.
            supervise(processes)
            raise
    return messages


def start_and_collect(
    processes: Sequence[BaseProcess],
    pipes: Sequence[tuple[connection.Connection, connection.Connection]],
) -> list[Any]:
    """Start every process, read one message from each pipe in order, see every process end well.

    ``pipes[i]``: the (read end, write end) of a one-way ``Pipe`` the i-th process writes
    its message into. The parent reads while it watches, never ``join()`` first: a child
    blocks in ``send()`` until a message larger than the pipe's buffer is read.
    """
    with started(processes, closing=[end for pipe in pipes for end in pipe]):
        for _, send in pipes:
            send.close()  # the child has its own copy; ours would keep EOF from ever coming
        messages = collect(processes, [recv for recv, _ in pipes])
        supervise(processes)  # every worker has also ended well
    return messages


@contextmanager
def report_failures(prog: str) -> Iterator[None]:
    """In a ``main``: a failed worker becomes one line on stderr and exit status 1; any other
    exception its traceback, then that one line; Ctrl-C, once the workers are stopped, one
    line and exit status 130 (128 + SIGINT, as a shell reports it), with no traceback."""
    try:
        yield
    except WorkerFailed as failure:
        print(f"{prog}: error: {failure}", file=sys.stderr)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    except Exception as exc:  # raised here, or by a worker and raised again here (a pool's)
        import traceback  # here: every pattern's start-up would pay 2 ms for it

        traceback.print_exc()  # with a pool worker's own traceback as the cause
        print(f"{prog}: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
