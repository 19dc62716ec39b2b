"""The unit of work every pattern carries: ``square(x)``, and how items are cut into parts."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

# Every pattern imports this, so it imports only what starting a pattern needs (no numpy,
# no dataclasses, no typing at run time): tests/test_startup.py keeps it so.
TYPE_CHECKING = False
if TYPE_CHECKING:
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
