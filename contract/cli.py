"""The command line every pattern shares.

Both packages build their command lines from these pieces, so the same bad argument is
rejected the same way (one line on stderr, exit status 2), whichever model runs it.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from contract import streams
from contract.faults import Fault

# Every pattern imports this, so it imports only what starting a pattern needs (no numpy,
# no dataclasses, no typing at run time): tests/test_startup.py keeps it so.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import NoReturn


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are a single line, not usage + error.

    ``quiet=True`` keeps the message to itself but still exits with 2: under
    ``mpiexec`` every rank parses the same arguments and fails the same way,
    and only rank 0 should say so.
    """

    def __init__(self, *args: object, quiet: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.quiet = quiet

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, None if self.quiet else f"{self.prog}: error: {message}\n")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:  # type: ignore[override]
        """Flush what ``--help`` printed here, where a closed stdout still ends quietly
        (``contract.streams``), not at interpreter exit."""
        try:
            streams.flush_stdout()
        except BrokenPipeError as error:
            streams.end_if_stdout_closed(error)
            raise
        super().exit(status, message)


def make_parser(module: str, doc: str | None, *, quiet: bool = False) -> OneLineParser:
    """A parser named after ``python -m module``, described by the module's first doc line."""
    description = (doc or "").strip().splitlines()[0] if doc else None
    return OneLineParser(prog=f"python -m {module}", description=description, quiet=quiet)


def _integer(text: str, low: int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"{value} is not {what}")
    return value


def count(text: str) -> int:
    """argparse type: an integer >= 0 (item counts)."""
    return _integer(text, 0, "a count (0 or more)")


def positive(text: str) -> int:
    """argparse type: an integer >= 1 (worker counts)."""
    return _integer(text, 1, "a positive number (1 or more)")


def duration(text: str) -> float:
    """argparse type: a number of seconds, 0 or more."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0:  # also rejects nan
        raise argparse.ArgumentTypeError(f"{text} is not a duration (0 or more)")
    return value


# What one item costs in memory at most, for the check below: a Python int in a list, its
# square in another, and their pickles in flight (about 100 bytes); an array item is one
# float64 in the input and one in the output.
PYTHON_ITEM_BYTES = 100
ARRAY_ITEM_BYTES = 16


# A container's memory limit (cgroup v2, then v1): the OOM killer acts at that, not at the
# machine's size.
CGROUP_LIMITS = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")


def memory_bytes() -> int:
    """The memory we may use: the machine's, or our container's limit when that is smaller
    (0 where the system will not say)."""
    try:
        found = [os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")]
    except (ValueError, OSError, AttributeError):
        found = []
    for path in CGROUP_LIMITS:
        try:
            with open(path) as limit:
                found.append(int(limit.read()))  # "max" (no limit) is not a number
        except (OSError, ValueError):
            continue
    return min(found, default=0)


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024:
            return f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"


def fitting_count(item_bytes: int) -> Callable[[str], int]:
    """argparse type: a count whose items fit in this machine's memory, refused before
    anything is allocated (a MemoryError, or the OOM killer, would come much later)."""

    def fitting(text: str) -> int:
        value = count(text)
        memory = memory_bytes()
        if memory and value * item_bytes > memory:
            raise argparse.ArgumentTypeError(
                f"{value} items need about {_size(value * item_bytes)}, more than the "
                f"{_size(memory)} of memory here"
            )
        return value

    return fitting


def add_items(
    parser: argparse.ArgumentParser, default: int, item_bytes: int = PYTHON_ITEM_BYTES
) -> None:
    parser.add_argument(
        "--items", type=fitting_count(item_bytes), default=default, metavar="N",
        help=f"how many items, 0..N-1 (default {default})",
    )


def add_trace(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--trace", action="store_true", help="say on stderr which worker did what",
    )


def add_workers(parser: argparse.ArgumentParser, default: int = 4) -> None:
    parser.add_argument(
        "--workers", type=positive, default=default, metavar="W",
        help=f"how many worker processes (default {default})",
    )


FAULT_KINDS = ("raise", "kill")


def fault(text: str) -> Fault:
    """argparse type for ``--fault KIND:W``."""
    kind, _, worker = text.partition(":")
    if kind not in FAULT_KINDS:
        raise argparse.ArgumentTypeError(
            f"{text!r}: the kind must be one of {', '.join(FAULT_KINDS)} (as in raise:1)"
        )
    return Fault(kind, _integer(worker, 0, "a worker number (0 or more)"))


def add_fault(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fault", type=fault, metavar="KIND:W",
        help="inject a fault at worker W's first unit of work: raise:W makes it raise, "
        "kill:W kills it with SIGKILL",
    )


def check_fault(parser: argparse.ArgumentParser, fault: Fault | None, workers: int) -> None:
    """Reject ``--fault`` naming a worker that will not exist (exit 2, like any bad argument)."""
    if fault is not None and fault.worker >= workers:
        parser.error(f"--fault {fault.kind}:{fault.worker} names no worker (there are {workers})")


def parse(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None, workers: int | None = None
) -> argparse.Namespace:
    """How every ``main`` ends its command line: ``--trace`` and ``--fault`` added last, the
    arguments parsed, and a ``--fault`` naming a worker that will not exist rejected.

    ``workers``: how many there will be (under MPI, the ranks); by default ``--workers``.
    """
    add_trace(parser)
    add_fault(parser)
    args = parser.parse_args(argv)
    check_fault(parser, args.fault, args.workers if workers is None else workers)
    return args


# What one grid point of the stencil costs at most: its two float64 buffers (old and new),
# rank 0's gathered copy (or the parent's), and the temporaries of one update.
GRID_POINT_BYTES = 40


def add_grid(parser: argparse.ArgumentParser, size: int = 64, steps: int = 100) -> None:
    """``--size N`` and ``--steps S``: the stencil's grid points and how many steps it runs.

    Added here, not in each stencil, so that both sides refuse the same bad grid the same
    way. ``--items`` is the same option as ``--size``: a grid point is the stencil's item,
    and every pattern that carries items takes ``--items`` (and refuses, before allocating,
    more than this machine's memory holds).
    """
    fitting = fitting_count(GRID_POINT_BYTES)

    def points(text: str) -> int:
        value = fitting(text)
        if value < 1:
            raise argparse.ArgumentTypeError(f"{value} is not a grid size (1 point or more)")
        return value

    parser.add_argument(
        "--size", "--items", dest="size", type=points, default=size, metavar="N",
        help=f"grid points (default {size}; --items is the same)",
    )
    parser.add_argument(
        "--steps", type=count, default=steps, metavar="S",
        help=f"time steps (default {steps})",
    )
def check_copies(
    parser: argparse.ArgumentParser, items: int, copies: int, item_bytes: int = PYTHON_ITEM_BYTES
) -> None:
    """Reject ``--items`` (exit 2, as any bad argument) when ``copies`` copies of the items
    would not fit in memory.

    Added for ``broadcast``, where every worker holds a whole copy of the table: how many
    copies there will be is known only once ``--workers`` is parsed (or the ranks counted),
    after :func:`add_items` checked room for one.
    """
    try:
        fitting_count(item_bytes * copies)(str(items))
    except argparse.ArgumentTypeError as error:
        parser.error(f"argument --items: {error} ({copies} copies of the table)")
