"""The standard streams every entry point writes: lines on stderr that never run together, and
a stdout whose reader went away (``| head``) ending the program quietly."""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing stays off every pattern's start-up (tests/test_startup.py)
if TYPE_CHECKING:
    from typing import NoReturn

# What a shell reports for a program that SIGPIPE ended (128 + 13): `seq 1e9 | head` gives it.
CLOSED_STDOUT_STATUS = 141


def say(line: str) -> None:
    """Write ``line`` and its newline to stderr in a single write.

    Why not ``print(line, file=sys.stderr)``: it writes the text and the newline apart (two
    ``write`` calls, stderr being unbuffered), and processes that report at the same moment
    (ranks whose watchdogs go off together, workers tracing) then run their lines together:
    under ``mpiexec``, which forwards each rank's stream as it comes, "rank 0 ... for 2 s" was
    followed by "rank 1 ..." on the same line. A single write of a line is never split by
    the pipe it goes to (``PIPE_BUF``, 4 KiB on Linux, is far above a line).
    """
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


# --- a closed stdout -------------------------------------------------------------------------
#
# `python -m shared_memory.pool | head -c 20`: head reads 20 bytes and exits, and our next
# write to the pipe fails. A C program is killed by SIGPIPE there, silently (status 141 in the
# shell). Python ignores SIGPIPE, so the write raises BrokenPipeError instead: a traceback and
# an error line, and when the text was still in stdout's buffer the flush at interpreter exit
# fails outside any try ("Exception ignored ... BrokenPipeError", status 120). Python's docs
# ("Note on SIGPIPE" in the signal module) say what to do: catch BrokenPipeError at the top,
# point stdout at /dev/null so that the exit flush has somewhere to go, and exit. We exit
# with the status a shell would show after SIGPIPE.
#
# Not `signal.signal(SIGPIPE, SIG_DFL)`, the other way the docs give: it applies to every
# write of the process, sockets included, and a Manager or MPI whose peer went away would kill
# the process without a word, where it must raise and be reported.
#
# The guard around every main (shared_memory.runtime.report_failures, message_passing.runtime.
# abort_on_error, bench's main) calls flush_stdout() at the end of its block and, on the way
# out of an error, end_if_stdout_closed() (abort_on_error: closed_stdout(), end_quietly()).


def flush_stdout() -> None:
    """Flush stdout now, inside the main's guard: the flush at interpreter exit, which writes
    whatever a short output left in the buffer, runs outside every ``try``, so a closed stdout
    found there could only be reported by Python itself ("Exception ignored")."""
    sys.stdout.flush()


def stdout_closed() -> bool:
    """Whether stdout is a pipe (or socket) whose reader has gone.

    Asked of the descriptor, not read from the error: a ``BrokenPipeError`` may as well come
    from a worker's pipe or the Manager's socket, and that one must be reported. ``poll``
    marks the write end of a pipe with no reader ``POLLERR`` (a socket whose peer left,
    ``POLLHUP`` or ``POLLERR``); a file or a terminal is never closed this way.
    """
    import select  # here: only a failing write pays for it

    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, OSError):  # no stdout, or one with no descriptor
        return False
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))


def closed_stdout(error: BaseException) -> bool:
    """Whether ``error`` is a write to a stdout nobody reads any more."""
    return isinstance(error, BrokenPipeError) and stdout_closed()


def end_quietly() -> NoReturn:
    """Point stdout at /dev/null (what is left in its buffer is dropped there, quietly, at
    exit) and raise ``SystemExit(141)``: the caller's clean-up and ``finally`` blocks still
    run, as after any other exit."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)
    raise SystemExit(CLOSED_STDOUT_STATUS) from None


def end_if_stdout_closed(error: BaseException) -> None:
    """:func:`end_quietly` when ``error`` is a write to a closed stdout; otherwise return, for
    the caller to report ``error`` as it reports every error."""
    if closed_stdout(error):
        end_quietly()
