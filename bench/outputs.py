"""What each pattern prints: one section per pattern, used by both packages.

The two stdouts of a pattern are built by the same code here, and the checks
a report makes before it states something are made once, so ``python -m bench
verify`` checks that the values inside agree, not that two copies of a format
string stayed in step. The ``--trace`` lines both sides write the same way
live beside them. ``pool`` and ``manager`` have no section: each side prints
the list, or the dict sorted by key, as Python writes it.

Light on purpose: no mpi4py, no numpy. A ``shared_memory`` program imports this
and must not start MPI.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from bench import contract

# --- spawn ---------------------------------------------------------------------------------


def spawn_line(index: int, workers: int) -> str:
    """``worker 1 of 4 reporting``: one worker's line of output."""
    return f"worker {index} of {workers} reporting"


def spawn_trace(identities: Sequence[str]) -> None:
    """One trace line a worker, in worker order: which process it was."""
    for index, who in enumerate(identities):
        print(f"worker {index} is {who}", file=sys.stderr)


# --- terminate -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Stopped:
    """How one worker (a process, or a rank) ended."""

    worker: int
    units: int | None  # how many units it did; None when the tally was lost with it
    total: int | None  # the sum of its squares, 0² + 1² + ... (units-1)²; None when lost
    name: str  # who it was, for --trace
    exitcode: int | None = None  # multiprocessing only: a rank's exit is not seen from rank 0

    @property
    def cleaned_up(self) -> bool:
        """Its cleanup ran: handing its tally back is the cleanup, so the tally is the proof."""
        return self.units is not None


@dataclass(frozen=True)
class Outcome:
    stopped: list[Stopped]  # in worker order
    seconds: float  # from the request to stop until every worker had stopped

    def lines(self) -> list[str]:
        """The deterministic report: one line per worker, in worker order."""
        return [
            f"worker {s.worker} stopped on request, cleaned up" if s.cleaned_up
            else f"worker {s.worker} terminated: exit code {s.exitcode}, cleanup did not run"
            for s in self.stopped
        ]

    def trace(self, after: float) -> None:
        """Who did how many units, and how long the stop took; ``after``: when it was asked."""
        for s in self.stopped:
            if s.units is None:
                print(f"{s.name}: its tally was lost with it", file=sys.stderr)
            else:
                contract.trace(s.name, range(s.units))
        print(
            f"asked to stop after {after:.3f} s; all stopped {self.seconds:.3f} s later",
            file=sys.stderr,
        )


# --- worker_class --------------------------------------------------------------------------


def describe(index: int, workers: int, squares: Sequence[int]) -> str:
    """``worker 1 of 4 squared 3 items: [9, 16, 25]``: one worker's line of output."""
    noun = "item" if len(squares) == 1 else "items"
    return f"worker {index} of {workers} squared {len(squares)} {noun}: {list(squares)}"


# --- queue ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Consumed:
    """What the consumers did: consumer c took the items ``taken[c]``, their squares sum to
    ``sums[c]``; ``names[c]`` says which process it was (for ``--trace``)."""

    taken: list[list[int]]
    sums: list[int]
    names: list[str]

    @property
    def count(self) -> int:
        return sum(len(items) for items in self.taken)

    @property
    def total(self) -> int:
        return sum(self.sums)

    def __str__(self) -> str:
        return f"consumed {self.count} items, sum of squares {self.total}"


# --- pipe ----------------------------------------------------------------------------------


def pipe_lines(squares: Sequence[int]) -> list[str]:
    """The squares in the order they came out of the pipeline, then ``end``."""
    return [*map(str, squares), "end"]


# --- barrier -------------------------------------------------------------------------------


class Passage(NamedTuple):
    """What one worker reports: its turn past the barrier (None: it ran free) and its times."""

    worker: int
    turn: int | None
    arrived: float
    left: float


def barrier_report(passages: Sequence[Passage]) -> str:
    """The two lines of stdout: who met at the barrier, who ran free, in worker order."""
    met = [str(p.worker) for p in passages if p.turn is not None]
    free = [str(p.worker) for p in passages if p.turn is None]
    return f"met at the barrier: {', '.join(met) or 'none'}\nran free: {', '.join(free) or 'none'}"


def barrier_trace(who: str, arrived: float, left: float, turn: int | None, start: float) -> None:
    """One worker's trace line, its times from ``start``, written at once (the caller orders)."""
    how = "ran free" if turn is None else f"took turn {turn} after the barrier"
    print(
        f"{who} arrived +{arrived - start:.3f} s, left +{left - start:.3f} s, {how}",
        file=sys.stderr, flush=True,
    )


# --- sync ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Observed:
    """What the workers saw, one entry per worker (in worker order) unless said otherwise."""

    workers: int
    bound: int
    ready: list[int]  # how many workers were ready when the start signal let this one through
    peaks: list[int]  # the most workers this one saw inside the section at once, itself included
    order: list[int]  # order[t]: the worker that held the token at turn t
    token: int  # the token's final value: every worker's sum of squares added in

    @property
    def peak(self) -> int:
        """The largest number of workers ever inside the section together."""
        return max(self.peaks, default=0)

    def lines(self) -> list[str]:
        """Statements about the observations, checked before they are made.

        How many workers actually overlap inside the section depends on timing
        (the scheduler, the core count, one worker alone never overlaps), so the
        observed maximum is not printed on stdout -- it goes to --trace -- but the
        statement that it never went above the bound is, and it is checked here:
        a broken bound or start signal fails the run instead of printing a falsehood.
        """
        early = [w for w, ready in enumerate(self.ready) if ready != self.workers]
        if early:
            raise RuntimeError(
                f"start signal broken: worker {early[0]} began with only "
                f"{self.ready[early[0]]} of {self.workers} ready"
            )
        if self.peak > self.bound:
            raise RuntimeError(f"bound {self.bound} exceeded: {self.peak} workers inside at once")
        return [
            f"start: {self.workers}/{self.workers} ready before any worker began",
            f"bound {self.bound}: never exceeded",
            f"token: {' -> '.join(map(str, self.order))}, sum of squares {self.token}",
        ]

    def trace(self, names: Sequence[str], items: int) -> None:
        """Who squared which items (worker w: w, w+W, ...), then the largest number inside."""
        for w, name in enumerate(names):
            contract.trace(name, range(w, items, self.workers))
        print(f"largest number inside at once: {self.peak} (bound {self.bound})", file=sys.stderr)


# --- array ---------------------------------------------------------------------------------


def array_line(count: int, total: float) -> str:
    """``squared 10 float64 values, sum 285.0``: the size and the checksum, checked first.

    ``total`` is ``float(np.sum(squares))``: numpy's pairwise sum of the same values in the
    same order gives the same bits on both sides. It must be close to the exact sum of the
    squares of 0..count-1 (the float squares above 2**53 are rounded, so not equal): a slice
    no worker squared fails the run instead of being printed as a checksum.
    """
    exact = (count - 1) * count * (2 * count - 1) // 6
    if not abs(total - exact) <= 1e-12 * exact:  # also rejects nan
        raise RuntimeError(
            f"checksum {total!r} is not the sum of the squares of 0..{count - 1} ({exact})"
        )
    return f"squared {count} float64 values, sum {total!r}"


def slice_trace(who: str, part: range) -> None:
    """``rank 1 on node7 squared 3-5``: one worker's contiguous slice, named by its ends.

    The same words as :func:`bench.contract.trace`, which would walk all 10**8 items of a
    large slice to find its ends.
    """
    ends = (
        "nothing" if not part else str(part.start) if len(part) == 1
        else f"{part.start}-{part[-1]}"
    )
    print(f"{who} squared {ends}", file=sys.stderr)
