"""What every ``shared_memory`` pattern shares: starting, watching and stopping its workers.

A parent that only ``join()``s its children one by one waits forever when one
of them dies while the others wait for it (at a barrier, on a queue, in a
pipe). :func:`supervise` waits on all of them at once and, as soon as one
ends badly, stops the rest and raises :class:`WorkerFailed` naming it: the
multiprocessing counterpart of the MPI side's abort on error. The rest is
built on it:

* :func:`worker` / :func:`become_worker`: what every worker process does first;
* :func:`started`, :func:`start_and_supervise`, :func:`start_and_collect`,
  :func:`collect`, :func:`gather`: start processes and read what they send while
  watching them, never after a ``join()``;
* :class:`Pool`: ``multiprocessing.Pool`` whose ``map`` reports a killed worker
  instead of waiting for it forever;
* :func:`Manager`: ``multiprocessing.Manager()`` whose server process is a worker too;
* :func:`report_failures`: a ``main``'s one-line error and exit status.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from multiprocessing import connection, current_process, parent_process
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from contract import faults, streams, tracing

if TYPE_CHECKING:
    from multiprocessing.managers import SyncManager
    from multiprocessing.pool import AsyncResult
    from multiprocessing.queues import Queue

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

POLL_SECONDS = 0.1  # how long a wait on something with no handle lasts between two looks


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
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's (report_failures)
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
    # No clean-up, the parent that would want it is gone, but for one thing nobody else
    # removes: multiprocessing's temporary directory (/tmp/pymp-*), which the process that
    # made it removes at its exit, and a Manager's server makes, for its socket. Killed
    # with the parent (SIGKILL, SIGTERM), the server leaves it behind otherwise.
    tempdir = current_process()._config.get("tempdir")  # type: ignore[attr-defined]
    if tempdir:
        import shutil  # here: only an orphan pays for importing it

        shutil.rmtree(tempdir, ignore_errors=True)
    os._exit(1)


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
            how = f"was killed by signal {-code} ({signal.Signals(-code).name})"
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
    """Terminate and reap processes that are still running; those never started are skipped.

    Each gets ``STOP_GRACE`` s to end after SIGTERM, then is killed: a child forked a moment
    before by a parent with a Python SIGTERM handler can lose the SIGTERM and would keep
    ``join()`` waiting for ever (one ``array --fault raise:1`` run in 88 here). Ours guards
    its forks (:func:`_block_sigterm`); a program that calls a pattern's ``run`` may not.
    """
    import time  # here: only a stop pays for it

    processes = [p for p in processes if p.pid is not None]
    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + STOP_GRACE
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.exitcode is None:
            process.kill()
            process.join()


STOP_GRACE = 5.0  # seconds; a worker that gets its SIGTERM ends within milliseconds


@contextmanager
def started(
    processes: Sequence[BaseProcess], *,
    pipes: Sequence[tuple[connection.Connection, connection.Connection]] = (),
    closing: Iterable[connection.Connection] = (),
) -> Iterator[None]:
    """Start every process for the block; on the way out, however it ends, stop the ones still
    running and close every end of ``pipes`` and the connections in ``closing``: no process
    outlives the block.

    ``pipes``: one-way ``(read end, write end)`` pairs whose write ends the children were
    given. Once they are started the parent closes its own copy of each write end: a reader
    sees EOF only when every copy of the write end is closed, so ours would keep the pipe of
    a child that died without a word silent for ever instead of reading as EOF.
    """
    try:
        for process in processes:
            process.start()
        for _, send in pipes:
            send.close()
        yield
    finally:
        stop(processes)
        for conn in [*closing, *(end for pipe in pipes for end in pipe)]:
            conn.close()


def start_and_supervise(processes: Sequence[BaseProcess]) -> None:
    """Start every process, then :func:`supervise` them; whatever happens none outlives us."""
    with started(processes):
        supervise(processes)


def collect(
    processes: Sequence[BaseProcess], conns: Sequence[connection.Connection]
) -> list[Any]:
    """One message from each connection, in order, each read while every process is watched:
    a bare ``recv()`` would wait for ever for a child that died before it sent."""
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
    blocks in ``send()`` until a message larger than the pipe's buffer is read, so a
    parent that joins before it reads waits for ever.
    """
    with started(processes, pipes=pipes):
        messages = collect(processes, [recv for recv, _ in pipes])
        supervise(processes)  # every worker has also ended well
    return messages


def gather(source: Queue, count: int, processes: Sequence[BaseProcess]) -> list[Any]:
    """``count`` messages from a ``multiprocessing.Queue``, in the order they come, while
    watching ``processes``: one that failed raises :class:`WorkerFailed` instead of leaving a
    bare ``get()`` waiting for ever for a message that will never come.

    Read them all *before* waiting for the processes to end (the programming guidelines'
    "joining processes that use queues"): ``put()`` hands the object to a feeder thread
    that writes it into a pipe, and a process does not exit before its feeder has written
    everything, so joining a process whose message still sits in its feeder deadlocks.
    A queue has no handle to wait on together with the sentinels: ``get()`` waits in steps
    and the processes are looked at between them.
    """
    from queue import Empty  # here: only a pattern with a queue pays for importing it

    messages = []
    while len(messages) < count:
        try:
            messages.append(source.get(timeout=POLL_SECONDS))
        except Empty:
            for process in processes:
                if process.exitcode not in (None, 0):
                    raise WorkerFailed(process) from None
    return messages


class Pool:
    """``multiprocessing.Pool(workers)`` whose :meth:`map` reports a killed worker.

        with runtime.Pool(workers) as pool:
            squares = pool.map(square, range(items))

    A worker that raises has its exception, with the worker's traceback as its cause,
    raised again by ``map`` in the parent, as with any ``Pool``. A worker that is killed is
    another matter: ``Pool`` quietly starts a new worker, but the chunk the dead one held
    is lost and a plain ``map`` waits for it for ever. So ``map`` waits while it watches
    the workers' sentinels, and the first one to die ends the run with
    :class:`WorkerFailed` (``concurrent.futures`` says the same with ``BrokenProcessPool``).
    Leaving the block terminates the workers, also after an error; after a death it
    first kills them all and frees the locks the dead one may hold (:meth:`_abandon`),
    without which ``terminate()`` itself could wait for ever.

    Every worker starts with :func:`become_worker`. ``trace``: one line on stderr a worker,
    the items it took. ``fault`` (``--fault raise:W`` or ``kill:W``) strikes whichever
    worker takes item W: pool workers are anonymous and take chunks as they come free, so
    this is how the fault always fires, and in one worker.
    """

    def __init__(
        self, workers: int, *, trace: bool = False, fault: faults.Fault | None = None
    ) -> None:
        self.workers, self.trace, self.fault = workers, trace, fault
        self._pool: Any = None
        self._context = _RecordingContext(multiprocessing.get_context())
        self._broken = False

    def __enter__(self) -> Pool:
        from multiprocessing.pool import Pool  # here: only a pattern with a pool pays for it

        self._pool = Pool(self.workers, initializer=become_worker, context=self._context)
        return self

    def __exit__(self, kind: object, error: BaseException | None, tb: object) -> None:
        if self._broken:
            self._abandon()
        self._pool.__exit__(kind, error, tb)  # terminate(): no worker outlives the block

    def map(self, func: Callable[[T], R], iterable: Iterable[T]) -> list[R]:
        """``[func(x) for x in iterable]``, in chunks across the workers, in the items' order."""
        if self.fault is None and not self.trace:
            return self._watch(self._pool.map_async(func, iterable))
        task = functools.partial(_pool_task, func, self.fault, self.trace)
        results = self._watch(self._pool.map_async(task, enumerate(iterable)))
        if not self.trace:
            return results
        tracing.trace_by_worker([name for _, name in results])
        return [result for result, _ in results]

    def _watch(self, result: AsyncResult[list[Any]]) -> list[Any]:
        """``result.get()``, unless one of the workers dies first: then :class:`WorkerFailed`.

        An ``AsyncResult`` has nothing to wait on together with the workers' sentinels,
        so we wait on it in short steps and look at the sentinels between them.
        """
        while not result.ready():
            result.wait(0.05)  # returns as soon as the map is done: a quick map pays no poll
            sentinels = {p.sentinel: p for p in self._context.started}
            for handle in connection.wait(list(sentinels), timeout=0):
                process = sentinels[handle]
                process.join()  # the pool's own thread may reap it first; either way it is over
                self._broken = True
                raise WorkerFailed(process)
        return result.get()

    def _abandon(self) -> None:
        """After a worker died: kill the others, and free the queue locks the dead one may hold.

        Leaving the block calls ``Pool.terminate()``, which takes the task queue's read lock
        (an idle worker holds it while it waits for a task) and writes to the result queue
        under its write lock (a worker holds that one while it sends a result). A worker
        killed holding either would make ``terminate()`` wait for ever. Once no worker is
        alive, nobody else takes those two locks (the parent reads and writes the pipes
        directly), so we free them. But the pool's own thread starts a worker in place of
        each dead one, which would take the read lock again, and read the task pipe while
        ``terminate()`` drains it (two readers: a run here waited for ever in that drain). So
        that thread is stopped first, as ``terminate()`` would stop it. This reaches into
        ``Pool``'s internals (``_worker_handler``, ``_change_notifier``, ``_inqueue``,
        ``_outqueue``), as little as it can; ``concurrent.futures.ProcessPoolExecutor``
        was built not to need it.
        """
        from multiprocessing.pool import TERMINATE

        replacer = self._pool._worker_handler
        replacer._state = TERMINATE
        self._pool._change_notifier.put(None)  # wakes it to see that it is to end
        replacer.join()
        for process in self._context.started:  # all there will be, now
            process.kill()
        for process in self._context.started:
            process.join()
        for lock in (self._pool._inqueue._rlock, self._pool._outqueue._wlock):
            if lock is not None:
                lock.acquire(False)  # held by a dead worker or, now, by us: either way, free it
                lock.release()


class _RecordingContext:
    """A multiprocessing context (what ``Pool(context=...)`` takes) that keeps every process it
    makes in ``started``: the pool's workers, and the ones it starts in place of dead ones.

    The pool's list of its workers is no record of who died: its own thread drops a dead
    worker from it, and starts another, within 0.1 s. A worker killed while the pool was still
    being set up was gone before anyone could look (``bench faults``, pool ``SIGTERM
    worker``: a run that went on as if nothing had happened, or that waited for ever for the
    dead worker's chunk, 3 runs in 500 here). Recorded as they are made, none is missed.
    """

    def __init__(self, base: Any) -> None:
        self._base = base
        self.started: list[BaseProcess] = []

    def Process(self, *args: Any, **kwargs: Any) -> BaseProcess:  # noqa: N802 (the context's API)
        process = self._base.Process(*args, **kwargs)
        self.started.append(process)  # one append, safe from the pool's thread
        return process

    def __getattr__(self, name: str) -> Any:  # SimpleQueue, Lock, ...: the base context's
        return getattr(self._base, name)


@contextmanager
def Manager() -> Iterator[SyncManager]:
    """``with multiprocessing.Manager() as manager:``, its server process a worker too.

    The server is a process of ours like any other: started with :func:`become_worker`, it
    ends if we are killed, and leaving the block shuts it down, also after an error.
    """
    from multiprocessing.managers import SyncManager  # here: only a manager pays for it

    manager = SyncManager()
    manager.start(become_worker)
    with manager:
        yield manager


def _pool_task(
    func: Callable[[T], R], fault: faults.Fault | None, trace: bool, numbered: tuple[int, T]
) -> R | tuple[R, str]:
    """In a pool worker: ``func(item)`` once the fault had its chance at the item's number;
    with ``trace``, also the name of the worker that took it."""
    index, item = numbered
    name = current_process().name
    faults.strike(fault, index, f"{name}, which took item {index},")
    result = func(item)
    return (result, name) if trace else result


class Terminated(KeyboardInterrupt):
    """SIGTERM in the parent, raised as Ctrl-C raises ``KeyboardInterrupt``.

    A subclass of it, so that every block that stops the workers on Ctrl-C (``started``,
    ``Pool.__exit__``, ``segment``'s unlink) does the same on SIGTERM: the signal
    ``kill``, ``timeout``, ``docker stop`` and Slurm's ``scancel`` send. Its default action
    would end the parent on the spot, leaving its workers to notice it gone
    (:func:`end_with_parent`) and its segments in ``/dev/shm``.
    """


@contextmanager
def report_failures(prog: str) -> Iterator[None]:
    """In a ``main``: a failed worker becomes one line on stderr and exit status 1; any other
    exception its traceback, then that one line; Ctrl-C, once the workers are stopped, one
    line and exit status 130 (128 + SIGINT, as a shell reports it), with no traceback;
    SIGTERM the same with 143 (128 + SIGTERM)."""
    previous = _raise_on_signals()
    try:
        yield
        streams.flush_stdout()  # a stdout closed early (| head): 141, quietly (contract.streams)
    except WorkerFailed as failure:
        print(f"{prog}: error: {failure}", file=sys.stderr)
        raise SystemExit(1) from None
    except Terminated:
        print(f"{prog}: terminated (SIGTERM)", file=sys.stderr)
        raise SystemExit(128 + signal.SIGTERM) from None
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    except Exception as exc:  # raised here, or by a worker and raised again here (a pool's)
        streams.end_if_stdout_closed(exc)
        import traceback  # here: only a run that fails pays for importing it

        traceback.print_exc()  # with a pool worker's own traceback as the cause
        print(f"{prog}: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _raise_on_signals() -> dict[int, Any]:
    """Make SIGTERM raise :class:`Terminated` in this process, and SIGINT KeyboardInterrupt as
    Python's own handler does, but never inside our fork hooks (below); the handlers they
    replace: none where Python allows no handler (a thread other than the main one), and not
    SIGINT's when it is ignored (a shell's background job)."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    global _forks_guarded
    if not _forks_guarded:
        os.register_at_fork(before=_block_sigterm, after_in_parent=_unblock_sigterm,
                            after_in_child=_forked_child_ends_on_sigterm)
        _forks_guarded = True
    previous = {signal.SIGTERM: signal.signal(signal.SIGTERM, _raise_for_signal)}
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        previous[signal.SIGINT] = signal.signal(signal.SIGINT, _raise_for_signal)
    return previous


def _raise_for_signal(signum: int, frame: Any) -> None:
    if _in_fork_hook(frame):
        # Where an exception is printed and dropped: send the signal again, from a thread, to
        # be handled once the fork is over.
        import _thread

        _thread.start_new_thread(os.kill, (os.getpid(), signum))  # not Thread: no waiting here
        return
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends us as it used to
    raise Terminated


# A forked child must not inherit our handlers, and must not lose a SIGTERM either. In the child
# Python clears the signals its handlers caught before the fork returned, so a SIGTERM that
# reaches a child between its fork and its first line is lost, and the child lives on. That is
# no rare moment: Pool.terminate() and stop() send SIGTERM to children that may have been
# forked a moment before (a Pool forks a worker in place of a dead one), and they then wait
# for ever; 25 children in 40 lived on here, given SIGTERM as soon as they were started. So
# SIGTERM is blocked in the forking thread across the fork: the child's waits in the kernel
# until the child has put back the default action, and then ends it. The parent's waits too,
# and reaches our handler inside our hook, where Python would print the exception and drop it
# (5 parents in 40 went on working, SIGTERM'd while forking): it sends the signal again
# instead. So does a SIGINT there, which our handler raises as Python's own would.
# tests/test_workers.py has these cases.
_forks_guarded = False
_fork = threading.local()  # in the forking thread: its signal mask before the fork


def _block_sigterm() -> None:
    _fork.mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})


def _unblock_sigterm() -> None:
    signal.pthread_sigmask(signal.SIG_SETMASK, _fork.mask)


def _forked_child_ends_on_sigterm() -> None:
    try:
        for signum, default in ((signal.SIGTERM, signal.SIG_DFL),
                                (signal.SIGINT, signal.default_int_handler)):
            if signal.getsignal(signum) is _raise_for_signal:
                signal.signal(signum, default)  # what a process of its own would have
    finally:
        _unblock_sigterm()


_FORK_HOOKS = {hook.__code__ for hook in (_block_sigterm, _unblock_sigterm,
                                          _forked_child_ends_on_sigterm)}


def _in_fork_hook(frame: Any) -> bool:
    """Whether the code a signal interrupted runs inside one of our fork hooks."""
    while frame is not None:
        if frame.f_code in _FORK_HOOKS:
            return True
        frame = frame.f_back
    return False


class Stuck(WorkerFailed):
    """Processes that made no progress within the patience they were given: a deadlock."""

    def __init__(self, message: str) -> None:
        RuntimeError.__init__(self, message)


def join_within(processes: Sequence[BaseProcess], patience: float, why: str) -> None:
    """``join()`` the processes one by one, each for ``patience`` seconds at most: the
    watchdog of a parent that joins before it has read what they send (which
    :func:`gather` explains is a deadlock), as ``shared_memory.deadlock --unsafe`` does on
    purpose.

    A process still running after its time is reported with every other one still running,
    ``why`` saying what they wait for, as :class:`Stuck`; the caller's :func:`started`
    block then terminates them all. Made for showing the hang: a program that reads first
    needs no watchdog.
    """
    for process in processes:
        process.join(patience)
        if process.exitcode is None:
            stuck = [p for p in processes if p.exitcode is None]
            names = ", ".join(f"{p.name} (pid {p.pid})" for p in stuck)
            raise Stuck(
                f"stuck for {patience:g} s: the parent (pid {os.getpid()}) in join() of "
                f"{process.name} (pid {process.pid}), {why}; still running: {names}"
            )
        if process.exitcode != 0:
            raise WorkerFailed(process)



def gather_within(
    source: Queue, count: int, processes: Sequence[BaseProcess], patience: float, why: str
) -> list[Any]:
    """:func:`gather`, with a watchdog: when no message has come for ``patience`` seconds,
    :class:`Stuck` names every process still running, ``why`` saying what they wait for.

    For workers that may deadlock among themselves, as ``shared_memory.deadlock --unsafe
    pipe``'s do on purpose: the parent is not part of their hang, so it sees that nothing
    moves and gives up (its :func:`started` block then stops them) instead of waiting with
    them for ever.
    """
    import time
    from queue import Empty  # here: only a pattern with a watchdog pays for importing them

    messages: list[Any] = []
    last = time.monotonic()
    while len(messages) < count:
        try:
            messages.append(source.get(timeout=POLL_SECONDS))
            last = time.monotonic()
        except Empty:
            for process in processes:
                if process.exitcode not in (None, 0):
                    raise WorkerFailed(process) from None
            if time.monotonic() - last >= patience:
                stuck = [p for p in processes if p.exitcode is None]
                names = ", ".join(f"{p.name} (pid {p.pid})" for p in stuck)
                raise Stuck(f"stuck for {patience:g} s: {names}, {why}") from None
    return messages
if TYPE_CHECKING:
    from multiprocessing.shared_memory import SharedMemory


@contextmanager
def segment(prefix: str, size: int) -> Iterator[SharedMemory]:
    """A new ``SharedMemory`` segment for the block, closed and unlinked however it ends.

        with runtime.segment("mpvsmpi-broadcast-", nbytes) as shm:
            ...  # workers attach with SharedMemory(name=shm.name); drop every view by the end

    The rules ``shared_memory.array`` (``Team``) keeps too: a segment outlives every process
    that maps it until it is unlinked, once, by one process: here the creator, in a
    ``finally``, so that neither a failed worker nor an error in the parent leaves it in
    ``/dev/shm``. Its name is ``prefix``, the creator's pid and a random part: a leftover
    can be traced to its creator, and two runs in one process, or a run and the leftover of
    a killed process that had the same pid, never meet. ``size`` 0 is made 1 (a segment of 0
    bytes is refused). The mapping is closed before the unlink, which refuses
    (``BufferError``) while a numpy view made with ``np.frombuffer`` still holds it: the
    caller drops its views before the block ends; after an error we clear the traceback's
    frames first, whose locals may hold one.
    """
    import secrets
    import traceback
    from multiprocessing.shared_memory import SharedMemory  # here: only a segment pays for it

    shm = SharedMemory(
        name=f"{prefix}{os.getpid()}-{secrets.token_hex(4)}", create=True, size=max(1, size)
    )
    try:
        yield shm
    except BaseException as error:
        traceback.clear_frames(error.__traceback__)
        raise
    finally:
        try:
            shm.close()
        finally:
            shm.unlink()  # once, here, whatever happened: the name leaves /dev/shm
