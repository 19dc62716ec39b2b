"""What the two latency workers share: arguments, the schedule, the timing loop, pinning, JSON.

``bench.latency.mp`` (parent + one child process) and ``bench.latency.mpi``
(two ranks) each measure ONE channel in ONE mode in a fresh process or job and
print one JSON document on stdout; ``python -m bench latency`` runs them and
does the statistics. The method is the OSU micro-benchmarks' (osu_latency,
osu_bw) with pyperf's habits:

* sizes 1 B .. 16 MiB in powers of 4; for each size ``warmup`` repetitions,
  reported apart, then ``repeat`` repetitions;
* a repetition times one batch of ``iterations`` messages, after the two sides
  synchronized, and its value is seconds per message: latency mode is a
  ping-pong and the value the one-way time, half the round trip; bandwidth
  mode streams windows of messages, each window acknowledged by one tiny
  message, and the value is the batch time over the messages sent;
* every buffer is allocated and written before timing: an untouched
  ``np.empty`` reads the kernel's shared zero page and flatters copies.

The document::

    {"channel": str, "mode": "latency"|"bandwidth", "window": int|null,
     "placement": {"pinned": bool, "cpus": [[...], [...]]},
     "sizes": [{"size": int, "iterations": int, "window": int|null,
                "warmup": [float...], "values": [float...]}]}

``iterations`` counts messages a batch (latency: round trips); in bandwidth
mode a size's ``window`` may be smaller than the top-level one (memory in
flight is capped) and ``iterations`` is a whole number of windows. The
shared-memory channels add ``slots``, the ring size, to each bandwidth size.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import numpy as np

from contract import cli, faults, tracing

MODES = ("latency", "bandwidth")
KiB, MiB = 1 << 10, 1 << 20
DEFAULT_SIZES = tuple(4**k for k in range(13))  # 1 B, 4 B, ... 16 MiB
LARGEST = 1 << 30  # one message; more is refused (each side holds several buffers)
DEFAULT_WINDOW = 64  # osu_bw's
SEGMENT_PREFIX = "mpvsmpi-lat-"  # + creator pid: lets a harness find the orphans of a kill
WINDOW_BYTES = 32 * MiB  # cap on the bytes of one window: fewer messages for large sizes
RING_BYTES = 16 * MiB  # cap on a shared-memory ring (at least 2 slots whatever the size)

# The schedule: messages a batch. Small messages cost their latency, large ones their bytes:
# the count is flat up to SMALL, then falls as 1/size (a batch moves about BATCH_BYTES) down
# to a handful.
SMALL_ITERATIONS = 1000
BATCH_BYTES = 4 * MiB
SMALL = BATCH_BYTES // SMALL_ITERATIONS
FEWEST = 2


def iterations(size: int, scale: float = 1.0) -> int:
    """Messages in one timed batch for this size (before rounding up to whole windows)."""
    base = SMALL_ITERATIONS if size <= SMALL else BATCH_BYTES // size
    return max(1, round(max(FEWEST, min(SMALL_ITERATIONS, base)) * scale))


def window(size: int, nominal: int) -> int:
    """Messages in flight before an acknowledgement: ``nominal``, fewer for large messages."""
    return max(1, min(nominal, WINDOW_BYTES // size))


def slots(size: int, window: int) -> int:
    """Slots of a shared-memory ring: up to a window's worth, at least two, within RING_BYTES."""
    return max(1, min(window, max(2, RING_BYTES // size)))


@dataclass(frozen=True)
class Step:
    """One size's batch: what each of the warm-up and timed repetitions does."""

    size: int
    mode: str
    iterations: int  # messages a batch; latency: round trips
    window: int | None  # bandwidth: messages per acknowledgement

    @property
    def windows(self) -> int:
        """Bandwidth: acknowledged windows a batch."""
        assert self.window is not None
        return self.iterations // self.window

    def per_message(self, elapsed: float) -> float:
        """A batch's seconds -> seconds per message (latency: one way, half a round trip)."""
        return elapsed / (2 * self.iterations if self.mode == "latency" else self.iterations)


@dataclass(frozen=True)
class Plan:
    """Everything both sides need to run the same schedule, from the command line."""

    mode: str
    sizes: tuple[int, ...]
    warmup: int
    repeat: int
    scale: float
    window: int

    def step(self, size: int) -> Step:
        count = iterations(size, self.scale)
        if self.mode == "latency":
            return Step(size, self.mode, count, None)
        per = window(size, self.window)
        return Step(size, self.mode, per * max(1, math.ceil(count / per)), per)

    def steps(self) -> list[Step]:
        return [self.step(size) for size in self.sizes]


# --- the command line, the same for both programs -----------------------------------------

def size(text: str) -> int:
    """argparse type: a message size in bytes, 1 .. 1 GiB."""
    value = cli.positive(text)
    if value > LARGEST:
        raise argparse.ArgumentTypeError(f"{value} is more than {LARGEST} bytes (1 GiB)")
    return value


def scale(text: str) -> float:
    """argparse type: a positive, finite multiplier."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


def add_arguments(parser: argparse.ArgumentParser, channels: Sequence[str]) -> None:
    parser.add_argument("channel", choices=channels, metavar="CHANNEL",
                        help=f"what to measure: {', '.join(channels)}")
    parser.add_argument("--mode", choices=MODES, default="latency",
                        help="latency: ping-pong, one-way time; bandwidth: windows of messages "
                        "streamed, time per message (default latency)")
    parser.add_argument("--sizes", nargs="+", type=size, default=list(DEFAULT_SIZES),
                        metavar="BYTES", help="message sizes (default 1 4 16 ... 16777216)")
    parser.add_argument("--warmup", type=cli.count, default=2, metavar="N",
                        help="untimed-for-the-record repetitions per size (default 2)")
    parser.add_argument("--repeat", type=cli.positive, default=10, metavar="N",
                        help="timed repetitions per size (default 10)")
    parser.add_argument("--scale", type=scale, default=1.0, metavar="F",
                        help="multiply every size's message count by F (default 1)")
    parser.add_argument("--window", type=cli.positive, default=DEFAULT_WINDOW, metavar="W",
                        help=f"bandwidth: messages in flight per acknowledgement (default "
                        f"{DEFAULT_WINDOW}, fewer above {WINDOW_BYTES // DEFAULT_WINDOW} B)")
    parser.add_argument("--pin", nargs=2, type=cli.count, metavar=("A", "B"),
                        help="put the two processes on CPUs A and B (they may be equal)")
    cli.add_fault(parser)


def plan_from(args: argparse.Namespace) -> Plan:
    return Plan(args.mode, tuple(args.sizes), args.warmup, args.repeat, args.scale, args.window)


def check_pin(
    parser: argparse.ArgumentParser, pin: Sequence[int] | None, allowed: Collection[int]
) -> None:
    """Reject ``--pin`` naming a CPU outside ``allowed`` (exit 2)."""
    for cpu in pin or ():
        if cpu not in allowed:
            parser.error(f"--pin: CPU {cpu} is not available here (available: "
                         f"{tracing.spans(allowed)})")


# --- placement ------------------------------------------------------------------------------

def pin(cpu: int | None) -> None:
    """Bind the calling process to one CPU (nothing when ``cpu`` is None)."""
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})


def affinity() -> list[int]:
    """The CPUs the calling process may run on, as the kernel says now."""
    return sorted(os.sched_getaffinity(0))


# --- buffers --------------------------------------------------------------------------------

def message(size: int, fill: int = 0xA5) -> np.ndarray:
    """A private buffer of ``size`` bytes, every byte written (non-zero) so its pages exist."""
    return np.full(size, fill, dtype=np.uint8)


def stream_buffers(size: int, leader: bool) -> tuple[np.ndarray, np.ndarray]:
    """Bandwidth mode's (what to send, where to receive): a side needs only one of them."""
    if leader:
        return message(size), message(0)
    return message(0), message(size, 0x5A)


def payload(size: int) -> bytes:
    """The bytes object the pickle-based channels send: written, like :func:`message`."""
    return message(size).tobytes()


# --- the timing loop --------------------------------------------------------------------------

Batch = Callable[[], None]


def sweep(
    plan: Plan, prepare: Callable[[Step], Batch], sync: Callable[[], None],
    clock: Callable[[], float], *, worker: int, fault: faults.Fault | None = None,
) -> list[dict[str, object]]:
    """Both sides run this, in step: for each size, warm-up then timed repetitions.

    ``prepare(step)`` allocates and writes this side's buffers for the size and
    returns the batch (this side's half of ``step.iterations`` messages);
    ``sync()`` brings the two sides together before every batch (a barrier),
    so the leader's clock starts when the follower is already waiting. Only
    the leader's numbers mean anything (it sends first and receives last);
    the follower's list is thrown away.
    """
    results: list[dict[str, object]] = []
    first = True
    for step in plan.steps():
        batch = prepare(step)
        times: list[float] = []
        for _ in range(plan.warmup + plan.repeat):
            sync()
            if first:  # --fault: fail with the peer already waiting in the batch
                faults.strike(fault, worker)
                first = False
            start = clock()
            batch()
            times.append(step.per_message(clock() - start))
        del batch  # drop its views of shared buffers before the next size's
        results.append({
            "size": step.size, "iterations": step.iterations, "window": step.window,
            "warmup": times[:plan.warmup], "values": times[plan.warmup:],
        })
    return results


def document(
    channel: str, plan: Plan, cpus: Sequence[Sequence[int]], pinned: bool,
    sizes: list[dict[str, object]],
) -> dict[str, object]:
    return {
        "channel": channel, "mode": plan.mode,
        "window": plan.window if plan.mode == "bandwidth" else None,
        "placement": {"pinned": pinned, "cpus": [list(c) for c in cpus]},
        "sizes": sizes,
    }


def emit(doc: dict[str, object]) -> None:
    """The one thing a worker writes on stdout."""
    sys.stdout.write(json.dumps(doc) + "\n")
    sys.stdout.flush()
