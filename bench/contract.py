"""What every pattern promises on both sides, in one place.

Both packages build their command lines from these pieces, so the same bad
argument is rejected the same way (one line on stderr, exit status 2) and the
same trace is written in the same words, whichever model runs it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterable, Sequence

# Every pattern imports this module, so it imports only what starting a pattern needs:
# no numpy, no dataclasses (with inspect, ast and dis behind it) and no typing at run
# time, which together cost about a third of a pattern's own import time (measured with
# `python -X importtime`; tests/test_startup.py keeps numpy and mpi4py out).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    T = TypeVar("T")


COST_VARIABLE = "MPVSMPI_COST_US"


def _cost_from_environment() -> float:
    text = os.environ.get(COST_VARIABLE, "") or "0"
    try:
        value = float(text)
    except ValueError:
        raise SystemExit(f"{COST_VARIABLE}={text!r} is not a number of microseconds") from None
    if not value >= 0:
        raise SystemExit(f"{COST_VARIABLE}={text!r} is not a number of microseconds (0 or more)")
    return value


# The synthetic cost of one unit of work, for the benchmarks' grain-size sweep
# (``python -m bench square --cost-us``). Read from the environment because every
# process must see it: pool workers under any start method and every MPI rank
# inherit their environment, not the parent's variables.
COST_US = _cost_from_environment()


def burn(cost_us: float = COST_US) -> None:
    """Spend ``cost_us`` microseconds of CPU (a busy loop, not a sleep: real computation)."""
    if cost_us > 0:
        end = time.perf_counter() + cost_us * 1e-6
        while time.perf_counter() < end:
            pass


def square(x: int) -> int:
    """The unit of work of every pattern that carries items: ``x * x``, plus ``COST_US``."""
    if COST_US:
        burn()
    return x * x


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


def spans(items: Iterable[int]) -> str:
    """``[0, 1, 2, 5, 7, 8]`` -> ``"0-2, 5, 7-8"``: a trace line stays short."""
    runs: list[list[int]] = []
    for item in sorted(items):
        if runs and item == runs[-1][1] + 1:
            runs[-1][1] = item
        else:
            runs.append([item, item])
    if not runs:
        return "nothing"
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def share(items: int, workers: int, worker: int) -> range:
    """Worker ``worker``'s contiguous part of 0..items-1; the parts differ in size by at most one.

    The first ``items % workers`` workers get one more; with more workers than
    items the last ones get nothing.
    """
    size, extra = divmod(items, workers)
    begin = worker * size + min(worker, extra)
    return range(begin, begin + size + (worker < extra))


def blocks(items: Sequence[T], parts: int) -> list[Sequence[T]]:
    """``items`` cut into ``parts`` contiguous blocks, as :func:`share` cuts a count."""
    return [items[r.start:r.stop] for r in (share(len(items), parts, i) for i in range(parts))]


def trace(worker: str, items: Iterable[int], verb: str = "squared") -> None:
    """One trace line on stderr: who did what."""
    print(f"{worker} {verb} {spans(items)}", file=sys.stderr)


def trace_by_worker(workers: Sequence[str], verb: str = "squared") -> None:
    """Given the worker of each item (item i done by ``workers[i]``), one trace line a worker."""
    done: dict[str, list[int]] = {}
    for item, worker in enumerate(workers):
        done.setdefault(worker, []).append(item)
    for worker in sorted(done):
        trace(worker, done[worker], verb)


class InjectedFault(RuntimeError):
    """The exception a worker raises on purpose under ``--fault raise:W``."""


class Fault:
    """``--fault raise:W``: worker W raises at its first unit of work;
    ``--fault kill:W``: worker W is killed there with SIGKILL (it can neither clean up nor
    say goodbye: whoever waits for it must notice on its own).

    Worker numbers are 0..W-1 on both sides: the rank under MPI, the index a
    pattern gives its processes under multiprocessing.

    Immutable, compared and hashed by value, and picklable (it travels to pool
    workers and ranks): what ``@dataclass(frozen=True)`` would give, written out
    so that importing this module does not import ``dataclasses``.
    """

    __slots__ = ("kind", "worker")
    kind: str
    worker: int

    def __init__(self, kind: str, worker: int) -> None:
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "worker", worker)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: a Fault is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: a Fault is immutable")

    def __reduce__(self) -> tuple[type[Fault], tuple[str, int]]:
        # Rebuilt through __init__: the default protocol would restore the slots
        # with setattr, which an immutable object refuses.
        return Fault, (self.kind, self.worker)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.kind, self.worker) == (other.kind, other.worker)  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((self.kind, self.worker))

    def __repr__(self) -> str:
        return f"Fault(kind={self.kind!r}, worker={self.worker!r})"

    def strike(self, worker: int, who: str | None = None) -> None:
        """Called by every worker before its first unit of work; fails in the chosen one.

        ``who`` names the failing process in the message when "worker W" alone
        would not (a pool's anonymous workers).
        """
        if worker != self.worker:
            return
        name = who or f"worker {worker}"
        if self.kind == "kill":
            # Said first, because nobody else can say who died: an MPI rank's peers never
            # learn it (mpiexec does, and MPICH's says so on stdout). Buffered output of
            # this process is lost with it, as after a real SIGKILL.
            print(f"{name} kills itself with SIGKILL (--fault kill:{worker})", file=sys.stderr,
                  flush=True)
            import signal  # here: starting a pattern imports as little as it can

            os.kill(os.getpid(), signal.SIGKILL)
        raise InjectedFault(f"{name} fails on purpose (--fault raise:{worker})")


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


def strike(fault: Fault | None, worker: int, who: str | None = None) -> None:
    if fault is not None:
        fault.strike(worker, who)
