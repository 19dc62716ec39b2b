"""What every ``message_passing`` pattern shares, so that its file shows only the pattern.

- :func:`parser`, :func:`parse`: the command line, whose errors only rank 0 prints.
- :func:`abort_on_error`: around a ``main``'s work: one failing rank ends the whole job.
- :func:`own_comm`, :func:`freed`: a run's own communicator, and when MPI handles are freed.
- :func:`trace`: ``--trace`` lines gathered to rank 0 and written there.
- :func:`who`: this process's name in those lines.

Why abort: a collective (``gather``, ``Barrier``, ``Fence``, ``Free``...) returns only
once every rank of the communicator has called it, and a receive only once its message
is sent. If one rank raises while the others wait in one, the others wait forever and so
does ``mpiexec``. ``python -m mpi4py`` avoids that by asking MPI to call ``MPI_Abort`` at
exit when an exception escaped; :func:`abort_on_error` does the same for our ``main``s,
so one failing rank ends the whole job, non-zero, within moments.
"""

from __future__ import annotations

import ctypes  # mpi4py.MPI imports it anyway
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress

from mpi4py import MPI
from mpi4py.run import set_abort_status

from contract import cli, streams, tracing

# Every pattern imports this module: typing stays off their start-up (tests/test_startup.py).
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Protocol, TypeVar

    T = TypeVar("T")

    class Freeable(Protocol):
        def free(self) -> None: ...


def parser(module: str, doc: str | None) -> cli.OneLineParser:
    """A parser whose errors only rank 0 prints; every rank still exits with status 2.

    All ranks parse the same argv and so fail together: nobody is left waiting,
    and no abort is needed (an abort would add MPI's own lines to the message).
    """
    return cli.make_parser(module, doc, quiet=MPI.COMM_WORLD.Get_rank() != 0)


def parse(parser: cli.OneLineParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """``--trace`` and ``--fault`` added, ``argv`` parsed; a fault must name an existing rank."""
    return cli.parse(parser, argv, MPI.COMM_WORLD.Get_size())


@contextmanager
def abort_on_error() -> Iterator[None]:
    """Turn an exception escaping this block into ``MPI_Abort`` of the whole job at exit.

    The traceback is printed, then one line naming this rank and the exception: under
    ``mpiexec`` the streams of all ranks are interleaved, and that line says who failed.
    ``SystemExit(0)`` and normal returns finalize MPI as usual.

    Ctrl-C: ``mpiexec`` forwards SIGINT to every rank. Each one that sees it exits with
    status 130 and no traceback; it still aborts, because a rank blocked in a receive
    runs no Python code, so never sees the signal, and only the abort ends it.
    """
    end_with_launcher()
    try:
        # Inside the try: a Ctrl-C that comes during unlink_node_files' barrier is a Ctrl-C
        # like any other. In this order: a rank catches SIGTERM once past that barrier, which
        # is how bench faults sees it at its work.
        unlink_node_files()
        abort_on_sigterm()
        yield
        streams.flush_stdout()  # a stdout closed early (| head): 141, quietly (contract.streams)
    except KeyboardInterrupt:
        set_abort_status(130)
        signal.alarm(ABORT_PATIENCE)  # as below: the abort at exit must not hang this rank
        raise SystemExit(130) from None
    except SystemExit as exc:
        set_abort_status(exc)
        raise
    except BaseException as exc:
        if streams.closed_stdout(exc):  # `| head` went away (rank 0, the only one that prints)
            # No abort, which would add MPI's lines: rank 0 prints after its last collective,
            # so the other ranks are done, and MPI_Finalize ends the job as after any run. A
            # rank still waiting for this one would keep it in MPI_Finalize: the alarm ends it.
            if MPI.COMM_WORLD.Get_size() > 1:
                signal.alarm(ABORT_PATIENCE)
            streams.end_quietly()
        set_abort_status(1)
        signal.alarm(ABORT_PATIENCE)  # if the abort itself hangs, the kernel ends this rank
        import traceback  # here, not at the top: only a failing rank needs it

        traceback.print_exc()
        streams.say(f"{who()}: error: {type(exc).__name__}: {exc}")
        raise SystemExit(1) from None


# Seconds a failing rank gives MPI_Abort before SIGALRM (left at its default action) ends
# it. Open MPI 5.0.11's launcher now and then deadlocks while it handles an abort, and the
# rank's MPI_Abort then waits for it for ever (bench.launch.LauncherWatch has the details). A
# rank ended by the alarm is still a failed rank: the launcher, or the harness's watch, ends
# the rest of the job. A healthy abort ends the rank well within this.
ABORT_PATIENCE = 3

# Variables a launcher sets in each process it starts (MPICH's hydra, PMIx: Open MPI, Slurm).
LAUNCHED = ("PMI_RANK", "PMIX_RANK", "OMPI_COMM_WORLD_RANK")
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def launched() -> bool:
    """Whether a launcher started this process (``mpiexec``, ``srun``), not a plain shell."""
    return any(name in os.environ for name in LAUNCHED)


def end_with_launcher() -> None:
    """Under ``mpiexec``, on Linux: be killed when the launcher's process that started us dies.

    MPICH's proxies end their ranks when ``mpiexec`` is killed, but Open MPI's ``mpiexec``
    (prterun) is the ranks' parent itself, and killed with SIGKILL it can tell nobody: its
    ranks would go on alone until they next need it. The kernel can tell them instead
    (``prctl(PR_SET_PDEATHSIG)``). Not for a process started without a launcher: its
    parent is a shell, which may well end before it.
    """
    if not sys.platform.startswith("linux") or not launched():
        return
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        return  # not allowed here: we keep the launcher's own clean-up
    if os.getppid() != parent:  # it died before we asked
        os._exit(1)


def abort_on_sigterm() -> None:
    """On SIGTERM, say so on stderr and abort the whole job with status 143 (128 + SIGTERM).

    SIGTERM is what ``kill``, ``timeout``, ``docker stop`` and Slurm's ``scancel`` send, to
    ``mpiexec`` (MPICH's passes it on to every rank) or to one rank. Its default action ends
    the rank on the spot, without a word, and MPICH's ``mpiexec`` then exits with 15. A
    Python handler alone would not do: Python runs handlers in the main thread, between two
    bytecodes, and a rank blocked in ``Recv`` or a collective runs none, so SIGTERM would no
    longer end it. But the C-level handler behind any Python handler, in whichever thread
    the signal lands (MPI libraries start threads of their own), writes the signal's number
    to the wakeup fd at once: a thread of ours waits on it and calls ``MPI_Abort``, which
    mpi4py allows while the main thread is blocked (``MPI_THREAD_MULTIPLE``, as
    :class:`Watchdog` uses). Only in the main thread, where Python lets us set handlers.
    """
    import _thread  # built in, unlike threading: no import cost at start-up

    if _thread.get_ident() != _MAIN_THREAD:
        return
    read, write = os.pipe()
    os.set_blocking(write, False)  # the C handler must never block on a full pipe
    signal.signal(signal.SIGTERM, lambda signum, frame: None)  # the thread below acts
    signal.set_wakeup_fd(write, warn_on_full_buffer=False)
    _thread.start_new_thread(_abort_when_terminated, (read,))


_MAIN_THREAD = __import__("_thread").get_ident()  # this module is imported by the main thread


def _abort_when_terminated(wakeup: int) -> None:
    # Every signal Python handles is written here (SIGINT too, which KeyboardInterrupt handles).
    while os.read(wakeup, 1) != bytes([signal.SIGTERM]):
        pass
    set_abort_status(128 + signal.SIGTERM)
    streams.say(f"{who()}: terminated (SIGTERM)")
    signal.alarm(ABORT_PATIENCE)
    MPI.COMM_WORLD.Abort(128 + signal.SIGTERM)


# What MPICH leaves behind when a job is aborted (its ranks are killed before MPI_Finalize,
# its launcher's proxies before their own clean-up): the node's shared-memory segment, named
# in /dev/shm, and the hwloc topology file hydra's proxy writes in /tmp for its ranks to read.
MPICH_SEGMENT = "/dev/shm/mpich_shm_"
HYDRA_TOPOLOGY = "/hydra_hwloc_xmlfile_"
_node_files_unlinked = False


def unlink_node_files() -> None:
    """Collective (``MPI.COMM_WORLD``), MPICH only, once a process: unlink the names of the
    files MPICH needs only while a job starts, so that no end of the job can leave them.

    A hand-typed ``mpiexec`` run of MPICH that ends abnormally (an uncaught exception, hence
    ``MPI_Abort``; a rank killed; Ctrl-C; SIGTERM to ``mpiexec`` or to a rank) leaves a 3 MB
    ``/dev/shm/mpich_shm_*`` file in RAM and a ``/tmp/hydra_hwloc_xmlfile_*`` each time:
    nobody is left to remove them. Every rank maps the segment in ``MPI_Init`` and reads the
    topology file there; once every rank has returned from it (the barrier), the names are
    used no more, and each rank unlinks the ones it maps or its proxy (its parent process)
    holds open. The segment stays mapped, and the kernel frees it with its last mapping,
    however the ranks end. MPICH's later segments (windows, ``Allocate_shared``: the
    ``mpich_shar_tmp*`` files) it unlinks itself once attached. Spawned children have a
    segment of their own, and their ``main`` comes here too; started by the same proxy, they
    find its topology file gone and MPICH discovers the topology itself, without a word.
    Open MPI needs none of this: its launcher removes its job's files however the job ends
    (docs/openmpi.md), so it is skipped, with its barrier.

    Checked on MPICH 5.0.2 (the ``mpich`` wheel, ch4:ucx) with mpi4py 4.1.2: messages
    through shared memory, windows and ``spawn --dynamic`` work after the unlink, a normal
    end finalizes without a word, and tests/test_hand_typed.py sees nothing left after
    any of those ends. A rank killed inside ``MPI_Init`` itself, before this runs, still
    leaves them.
    """
    global _node_files_unlinked
    if _node_files_unlinked or MPI.get_vendor()[0] == "Open MPI":
        return
    _node_files_unlinked = True
    if MPI.COMM_WORLD.Get_size() > 1:
        MPI.COMM_WORLD.Barrier()
    names: set[str] = set()
    try:
        with open("/proc/self/maps") as maps:
            names.update(line.split(None, 5)[-1].strip() for line in maps if MPICH_SEGMENT in line)
        proxy = f"/proc/{os.getppid()}/fd"
        for fd in os.listdir(proxy):
            with suppress(OSError):  # closed meanwhile
                target = os.readlink(f"{proxy}/{fd}")
                if HYDRA_TOPOLOGY in target:
                    names.add(target)
    except OSError:  # not Linux, or the parent is not ours to look into
        pass
    for name in names:
        if not name.endswith(" (deleted)"):  # a rank beside us was first
            with suppress(OSError):  # ... or is unlinking it right now
                os.unlink(name)


@contextmanager
def freed(*handles: Freeable) -> Iterator[None]:
    """Free MPI handles (communicators, windows, ``mpi4py.util.sync`` objects) in the order
    given, when the block ends normally; not when it raises.

    ``Free`` is collective: the MPI standard lets it wait for every rank of the handle's
    group, and a window's does (it must know that no rank still accesses it). A rank that
    raised and freed in a ``finally`` would wait there for ranks blocked in a receive or a
    collective it will never join, instead of reaching :func:`abort_on_error`, whose
    abort ends them all. So a handle is freed on the normal path only. When every rank
    raises together in-process (a test expecting the error), the handle is left for
    ``MPI_Finalize`` to reclaim: a small leak, never a hang.
    """
    yield
    for handle in handles:
        handle.free()


@contextmanager
def own_comm(comm: MPI.Intracomm) -> Iterator[MPI.Intracomm]:
    """A duplicate of ``comm`` for one run, freed as :func:`freed` frees, when it ends normally.

    Why a pattern talks on a communicator of its own, as a library does: collectives
    return early on some ranks (a ``gather`` once this rank's part is sent), so a rank
    may start the caller's next run while its neighbours still finish this one. On
    ``comm``, a receive from ``ANY_SOURCE`` of this run could then take a message of the
    next, and leave one of its own unmatched. The messages of a ``Dup`` can be received
    on that duplicate only.
    """
    own = comm.Dup()
    with freed(own):
        yield own


def trace(
    comm: MPI.Intracomm, done: T, write: Callable[[str, T], None] = tracing.trace
) -> None:
    """Collective: ``write(who, done)`` for every rank, in rank order, on rank 0 only.

    Gathered, not written by each rank: ``mpiexec`` forwards each rank's stream as it
    comes, and lines of several ranks interleave.
    """
    for name, theirs in comm.gather((who(comm), done)) or ():
        write(name, theirs)


def host() -> str:
    return MPI.Get_processor_name()


def who(comm: MPI.Comm = MPI.COMM_WORLD) -> str:
    """``rank 2 on node17``: the trace's name for this process."""
    return f"rank {comm.Get_rank()} on {host()}"


class Watchdog:
    """Abort the job when a blocking call of this rank makes no progress within ``patience`` s.

        watchdog = runtime.Watchdog(comm, patience=5)
        with watchdog.watching(f"Send to rank {partner}"):
            comm.Send(buffer, partner)

    Why: a rank stuck in ``Send`` or ``Recv`` runs no Python code, sees no signal, and has no
    time-out to give (MPI's blocking calls have none), so it cannot notice on its own that its
    partner will never match it. A thread can: mpi4py releases the GIL inside a blocking MPI
    call, and initializes MPI with ``MPI_THREAD_MULTIPLE``, so a timer thread may call
    ``MPI_Abort`` while the main thread is still blocked. It first says on stderr which rank
    is stuck in which call (``rank 1 on node7: stuck in Send to rank 0 for 5 s``), then waits
    ``grace`` s so that the other stuck ranks, whose timers go off at about the same time, can
    say so too, then aborts every rank of ``MPI.COMM_WORLD`` (the launcher ends them all).
    Made for ``message_passing.deadlock``, which hangs on purpose under ``--unsafe``.
    """

    def __init__(self, comm: MPI.Comm, patience: float, grace: float = 0.5) -> None:
        self.comm, self.patience, self.grace = comm, patience, grace

    @contextmanager
    def watching(self, call: str) -> Iterator[None]:
        """Watch the blocking call made inside the block; ``call`` names it in the report."""
        import threading  # here: only a pattern with a watchdog pays for importing it

        timer = threading.Timer(self.patience, self._stuck, args=(call,))
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            timer.cancel()

    def _stuck(self, call: str) -> None:
        streams.say(f"{who(self.comm)}: stuck in {call} for {self.patience:g} s")
        import time

        time.sleep(self.grace)
        MPI.COMM_WORLD.Abort(1)
