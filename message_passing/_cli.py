"""What every ``message_passing`` entry point shares: quiet-but-one parsing and abort on error.

Why abort: if one rank raises while the others wait in a receive or a
collective, the others wait forever and so does ``mpiexec``. ``python -m
mpi4py`` avoids that by asking MPI to call ``MPI_Abort`` at exit when an
exception escaped; :func:`abort_on_error` does the same for our ``main``s,
so one failing rank ends the whole job, non-zero, within moments.
"""

from __future__ import annotations

import ctypes  # mpi4py.MPI imports it anyway
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from mpi4py import MPI
from mpi4py.run import set_abort_status

from bench.contract import OneLineParser, make_parser


def parser(module: str, doc: str | None) -> OneLineParser:
    """A parser whose errors only rank 0 prints; every rank still exits with status 2.

    All ranks parse the same argv and so fail together: nobody is left waiting,
    and no abort is needed (an abort would add MPI's own lines to the message).
    """
    return make_parser(module, doc, quiet=MPI.COMM_WORLD.Get_rank() != 0)


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
        yield
    except KeyboardInterrupt:
        set_abort_status(130)
        raise SystemExit(130) from None
    except SystemExit as exc:
        set_abort_status(exc)
        raise
    except BaseException as exc:
        set_abort_status(1)
        import traceback  # here: every rank's start-up would pay 2 ms for it

        traceback.print_exc()
        print(f"{who()}: error: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None


# Variables a launcher sets in each process it starts (MPICH's hydra, PMIx: Open MPI, Slurm).
LAUNCHED = ("PMI_RANK", "PMIX_RANK", "OMPI_COMM_WORLD_RANK")
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def end_with_launcher() -> None:
    """Under ``mpiexec``, on Linux: be killed when the launcher's process that started us dies.

    MPICH's proxies end their ranks when ``mpiexec`` is killed, but Open MPI's ``mpiexec``
    (prterun) is the ranks' parent itself, and killed with SIGKILL it can tell nobody: its
    ranks would go on alone until they next need it. The kernel can tell them instead
    (``prctl(PR_SET_PDEATHSIG)``). Not for a process started without a launcher: its
    parent is a shell, which may well end before it.
    """
    if not sys.platform.startswith("linux") or not any(v in os.environ for v in LAUNCHED):
        return
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        return  # not allowed here: we keep the launcher's own clean-up
    if os.getppid() != parent:  # it died before we asked
        os._exit(1)


def host() -> str:
    return MPI.Get_processor_name()


def who(comm: MPI.Comm = MPI.COMM_WORLD) -> str:
    """``rank 2 on node17``: the trace's name for this process."""
    return f"rank {comm.Get_rank()} on {host()}"
