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

from contract import tracing, unit

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
                tracing.trace(s.name, range(s.units))
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
            tracing.trace(name, range(w, items, self.workers))
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

    The same words as :func:`contract.trace`, which would walk all 10**8 items of a
    large slice to find its ends.
    """
    ends = (
        "nothing" if not part else str(part.start) if len(part) == 1
        else f"{part.start}-{part[-1]}"
    )
    print(f"{who} squared {ends}", file=sys.stderr)


# --- stencil -------------------------------------------------------------------------------

# The explicit scheme u[i] += r (u[i-1] - 2 u[i] + u[i+1]), with r = alpha dt / dx^2: stable
# (and, for r <= 1/2, every new value a weighted mean of old ones, so nothing leaves the range
# of the initial values) when r <= 1/2.
RATE = 0.25
HOT = 1.0  # the temperature of the hot points; every other point starts at 0.0


def stencil_hot(size: int) -> tuple[int, ...]:
    """The points that start at ``HOT``: the left end (held there: a hot wall) and the middle
    point, when it is not an end (a hot spike that spreads). Every other point starts at 0.0,
    the right end included; both ends are held."""
    middle = size // 2
    return (0, middle) if 0 < middle < size - 1 else (0,)


def stencil_samples(size: int) -> list[int]:
    """The points printed besides the checksum: both ends, the quarters and the middle."""
    return sorted({0, size // 4, size // 2, 3 * size // 4, size - 1})


def stencil_lines(grid: Sequence[float], steps: int, checksum: float) -> list[str]:
    """The two lines of stdout: the checksum of the final grid, then the sampled points.

    ``checksum`` is ``float(np.sum(grid))`` of the whole gathered grid: numpy's pairwise sum
    of the same values in the same order gives the same bits on both sides, so any bit of
    difference in any point shows (almost always) in the checksum. Floats are written with
    ``repr``, which gives each float64 its own shortest string: two grids print the same
    only if those values are bitwise equal. Checked first: the ends still hold their initial
    values and no printed value left the range [0, HOT] (see ``RATE``): a broken update
    (a halo never received, a buffer never written) fails the run instead of printing.
    """
    size = len(grid)
    points = stencil_samples(size)
    values = [float(grid[i]) for i in points]
    hot = stencil_hot(size)
    for end in (0, size - 1):
        held = HOT if end in hot else 0.0
        if float(grid[end]) != held:
            raise RuntimeError(f"the end u[{end}] = {float(grid[end])!r} moved from {held!r}")
    slack = 1e-9  # for rounding: the check is for a broken update, not for the last bits
    for i, value in zip(points, values, strict=True):
        if not -slack <= value <= HOT + slack:  # also rejects nan
            raise RuntimeError(f"u[{i}] = {value!r} left the range [0, {HOT!r}]")
    if not -slack <= checksum <= (HOT + slack) * size:
        raise RuntimeError(f"checksum {checksum!r} is outside [0, {HOT * size!r}]")
    return [
        f"heat equation on {size} point{'s' * (size != 1)} after {steps} "
        f"step{'s' * (steps != 1)} (r = {RATE!r}): "
        f"checksum {checksum!r}",
        ", ".join(f"u[{i}] = {value!r}" for i, value in zip(points, values, strict=True)),
    ]


def stencil_trace(
    who: str, part: range, steps: int, left: int | None, right: int | None
) -> None:
    """``rank 1 on node7 held points 16-31 for 100 steps; neighbours: 0, 2``: one worker's
    block and the workers whose blocks border it (``none`` at an end of the grid)."""
    if not part:
        print(f"{who} held no points", file=sys.stderr)
        return
    ends = str(part.start) if len(part) == 1 else f"{part.start}-{part[-1]}"
    around = ", ".join("none" if n is None else str(n) for n in (left, right))
    print(f"{who} held points {ends} for {steps} step{'s' * (steps != 1)}; neighbours: {around}",
          file=sys.stderr)
# --- deadlock ------------------------------------------------------------------------------

# The three ways out of the send/send deadlock, in the order both sides run them. Named by
# what they do, not by a call of one side: message_passing.deadlock does them with Send and
# Recv in parity order, Sendrecv, and Isend/Irecv + Waitall; shared_memory.deadlock with a
# Pipe's send and recv in parity order, a thread that sends while the worker receives, and
# both posted to threads, then waited for.
DEADLOCK_FIXES = ("order by parity", "send and receive at once", "post both, then wait")


def partner_of(worker: int, workers: int) -> int | None:
    """Who ``worker`` exchanges with: pairs (0, 1), (2, 3)...; ``None`` for the odd one out."""
    other = worker ^ 1
    return other if other < workers else None


def message_byte(worker: int) -> int:
    """The byte every message of ``worker`` is filled with: the receiver can tell who sent it."""
    return worker % 251


def deadlock_lines(size: int, received: Sequence[Sequence[bool] | None]) -> list[str]:
    """What both sides print: the message size, then each fix each pair completed, then the
    worker with no partner, if any.

    ``received[w]``: for each fix in order, whether worker ``w`` got its partner's whole
    message (``None`` for a worker with no partner). Checked before it is stated: a pair that
    did not complete a fix fails the run instead of being reported as completed.
    """
    workers = len(received)
    for worker, got in enumerate(received):
        partner = partner_of(worker, workers)
        if (got is None) != (partner is None):
            raise RuntimeError(f"worker {worker}: partner {partner}, but received {got!r}")
        if got is not None and list(got) != [True] * len(DEADLOCK_FIXES):
            failed = [f for f, ok in zip(DEADLOCK_FIXES, got, strict=False) if not ok]
            raise RuntimeError(
                f"worker {worker} did not receive worker {partner}'s message: "
                f"{', '.join(failed) or 'no fix ran'}"
            )
    pairs = [(w, w + 1) for w in range(0, workers - 1, 2)]
    lines = [f"message: {size} bytes each way between the two workers of a pair"]
    lines += [f"{fix}: pair {a}-{b} completed" for fix in DEADLOCK_FIXES for a, b in pairs]
    if workers % 2:
        lines.append(f"worker {workers - 1} had no partner")
    return lines


DEADLOCK_UNSAFE = "send first (unsafe)"


def deadlock_unsafe_lines(size: int, received: Sequence[Sequence[bool] | None]) -> list[str]:
    """What ``--unsafe`` prints when both workers of every pair sent first and it completed
    all the same (the message was small enough to be buffered); checked as
    :func:`deadlock_lines` checks."""
    workers = len(received)
    for worker, got in enumerate(received):
        partner = partner_of(worker, workers)
        if got != (None if partner is None else [True]):
            raise RuntimeError(f"worker {worker} did not receive worker {partner}'s message")
    pairs = [(w, w + 1) for w in range(0, workers - 1, 2)]
    lines = [f"message: {size} bytes each way between the two workers of a pair"]
    lines += [f"{DEADLOCK_UNSAFE}: pair {a}-{b} completed" for a, b in pairs]
    if workers % 2:
        lines.append(f"worker {workers - 1} had no partner")
    return lines


def deadlock_trace(who: str, partner: int | None, fixes: Sequence[str]) -> None:
    """``rank 1 on node7 exchanged with worker 0: order by parity, ...``: one worker's line."""
    if partner is None:
        print(f"{who} had no partner", file=sys.stderr)
    else:
        print(f"{who} exchanged with worker {partner}: {', '.join(fixes) or 'nothing'}",
              file=sys.stderr)


# --- alltoall ------------------------------------------------------------------------------


class Bucket(NamedTuple):
    """What one worker holds after the shuffle: how many squares, and their sum."""

    worker: int
    count: int
    total: int


def bucket_of(items: int, workers: int, worker: int) -> Bucket:
    """What worker ``worker`` must hold: the squares of the x in 0..items-1 with
    ``x % workers == worker``, counted and summed in closed form (no walk over the items).

    Those x are ``worker + k * workers`` for k < m, and the sum of their squares is
    ``m w² + w W m(m-1) + W² (m-1) m (2m-1) / 6`` (the last product is always divisible by 6).
    """
    m, w, n = len(range(worker, items, workers)), worker, workers
    total = m * w * w + w * n * m * (m - 1) + n * n * (m - 1) * m * (2 * m - 1) // 6
    return Bucket(worker, m, total)


def alltoall_lines(buckets: Sequence[Bucket], items: int) -> list[str]:
    """One line a worker, in worker order: ``worker 1 of 4 holds 3 squares, sum 107``.

    Checked before it is said: the buckets add up to the whole (``items`` squares, summing to
    the squares of 0..items-1: nothing lost, nothing twice), and each worker holds exactly
    its own bucket. A square sent to the wrong worker fails the run instead of being printed.
    """
    workers = len(buckets)
    if [b.worker for b in buckets] != list(range(workers)):
        raise RuntimeError(f"the buckets are not in worker order: {[b.worker for b in buckets]}")
    count, total = sum(b.count for b in buckets), sum(b.total for b in buckets)
    exact = (items - 1) * items * (2 * items - 1) // 6
    if (count, total) != (items, exact):
        raise RuntimeError(
            f"the buckets hold {count} squares summing to {total}, not the {items} squares "
            f"of 0..{items - 1} summing to {exact}"
        )
    for held in buckets:
        due = bucket_of(items, workers, held.worker)
        if held != due:
            raise RuntimeError(
                f"worker {held.worker} holds {held.count} squares summing to {held.total}, "
                f"not its bucket's {due.count} summing to {due.total}"
            )
    return [
        f"worker {b.worker} of {workers} holds {b.count} square{'s' * (b.count != 1)}, "
        f"sum {b.total}"
        for b in buckets
    ]


def alltoall_trace(who: str, done: tuple[Sequence[int], Sequence[int]]) -> None:
    """``rank 1 on node7 squared 3-5, sent [1, 1, 0, 1] squares to workers 0-3``: one
    worker's share, and how many of its squares went to each worker (itself included)."""
    share, sent = done
    print(
        f"{who} squared {tracing.spans(share)}, sent {list(sent)} squares to workers "
        f"{tracing.spans(range(len(sent)))}",
        file=sys.stderr,
    )
# --- reduce --------------------------------------------------------------------------------


def sum_of_squares(count: int) -> int:
    """``0² + 1² + ... + (count-1)²``, from the closed form: the sum a reduction must find."""
    return (count - 1) * count * (2 * count - 1) // 6 if count > 0 else 0


# The most items whose sum of squares fits in an int64: where a total is held in one (the
# multiprocessing side's shared ``Value("q")`` and numpy slots, the MPI side's numpy buffers).
INT64_MAX = 2**63 - 1
INT64_ITEMS = 3_024_617  # sum_of_squares(INT64_ITEMS) <= INT64_MAX < sum_of_squares(... + 1)


def reduce_refusal(items: int, mode: str, buffer: bool) -> str | None:
    """Why both sides refuse these arguments (one line for ``parser.error``), or None.

    ``--all`` and ``--buffer`` hold the total in an int64 on one side or the other, and an
    int64 that overflows wraps round without a word. Both sides refuse the same arguments,
    so that the same command line means the same thing either way.
    """
    if (mode == "allreduce" or buffer) and items > INT64_ITEMS:
        flag = "--buffer" if buffer else "--all"
        return (
            f"{flag}: the sum of squares of {items} items does not fit in an int64 "
            f"(at most {INT64_ITEMS} items)"
        )
    return None


@dataclass(frozen=True)
class Reduced:
    """What a reduction found: the total of every worker's partial sum and, with ``--all`` or
    ``--scan``, what each worker holds afterwards (in worker order; None for a plain reduce)."""

    items: int
    workers: int
    total: int
    held: list[int] | None = None
    scan: bool = False  # held[w]: the prefix sum through worker w's share, not the total

    def expected_held(self) -> list[int]:
        """What each worker must hold: the total (``--all``) or the sum through its share."""
        if not self.scan:
            return [self.total] * self.workers
        return [sum_of_squares(unit.share(self.items, self.workers, w).stop)
                for w in range(self.workers)]

    def lines(self) -> list[str]:
        """The total, then (``--all``, ``--scan``) one line a worker; each checked first.

        A partial sum lost or added twice, or a worker holding a value it should not, fails
        the run instead of being printed.
        """
        exact = sum_of_squares(self.items)
        if self.total != exact:
            raise RuntimeError(
                f"total {self.total} is not the sum of the squares of {self.items} items ({exact})"
            )
        noun = "item" if self.items == 1 else "items"
        lines = [f"sum of squares of {self.items} {noun}: {self.total}"]
        if self.held is None:
            return lines
        expected = self.expected_held()
        if len(self.held) != self.workers:
            raise RuntimeError(f"{len(self.held)} values held, by {self.workers} workers")
        for worker, (value, want) in enumerate(zip(self.held, expected, strict=True)):
            if value != want:
                raise RuntimeError(f"worker {worker} holds {value}, not {want}")
            line = f"worker {worker} of {self.workers} holds {value}"
            if self.scan:
                line += f": {_through(unit.share(self.items, self.workers, worker).stop)}"
            lines.append(line)
        return lines


def _through(stop: int) -> str:
    """``items 0-49``: the items a prefix sum covers, by their ends."""
    return "no items" if stop == 0 else "item 0" if stop == 1 else f"items 0-{stop - 1}"


def reduce_trace(who: str, done: tuple[range, int, int | None]) -> None:
    """``rank 1 on node7 squared 25-49, partial sum 44200, holds 328350``: one worker's line.

    ``done``: its share, the sum of its squares, and what it holds afterwards (None: nothing,
    as in a plain reduce, where only the root gets the total).
    """
    part, partial, held = done
    ends = (
        "nothing" if not part else str(part.start) if len(part) == 1
        else f"{part.start}-{part[-1]}"
    )
    line = f"{who} squared {ends}, partial sum {partial}"
    if held is not None:
        line += f", holds {held}"
    print(line, file=sys.stderr)
# --- broadcast -----------------------------------------------------------------------------

# The checksum is the sum of the values modulo 2**64: exact, what 64-bit unsigned addition
# gives (numpy: ``int(array.sum(dtype=np.uint64))``), so the Python list and the int64 array
# give the same number, and the sum of a long table cannot overflow into a wrong one.
CHECKSUM_MODULUS = 2**64
# --buffer's table is int64: the squares of 0..N-1 fit up to this N ((N-1)**2 < 2**63).
BUFFER_ITEMS = 3_037_000_500


def broadcast_table(items: int) -> list[int]:
    """The table rank 0 / the parent holds and every worker must receive whole: the squares
    of 0..items-1."""
    return [x * x for x in range(items)]


def checksum(values: Sequence[int]) -> int:
    """The sum of ``values`` modulo 2**64 (see ``CHECKSUM_MODULUS``)."""
    return sum(values) % CHECKSUM_MODULUS


def broadcast_lines(received: Sequence[tuple[int, int]], items: int) -> list[str]:
    """``worker 1 of 4 received 10 values, checksum 285``: one line a worker, in worker order.

    ``received[w]``: the (count, checksum) worker ``w`` found in the table it got. Each is
    checked against the table that was sent before it is stated: a worker that got a
    table short, long or changed fails the run instead of being printed. The expected
    checksum is the closed form of the sum of the squares, so a long table costs nothing.
    """
    expected = (items - 1) * items * (2 * items - 1) // 6 % CHECKSUM_MODULUS
    lines = []
    for worker, (count, total) in enumerate(received):
        if (count, total) != (items, expected):
            raise RuntimeError(
                f"worker {worker} received {count} values, checksum {total}; "
                f"the table sent has {items} values, checksum {expected}"
            )
        noun = "value" if count == 1 else "values"
        lines.append(f"worker {worker} of {len(received)} received {count} {noun}, "
                     f"checksum {total}")
    return lines


def broadcast_trace(who: str, count: int, how: str) -> None:
    """``rank 1 on node7 received 10 values by bcast (pickled)``: one worker's trace line."""
    print(f"{who} received {count} value{'s' * (count != 1)} {how}", file=sys.stderr)
