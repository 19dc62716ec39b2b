"""The ``--trace`` lines: who did what, on stderr, in the same words on both sides."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from contract import streams


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


def trace(worker: str, items: Iterable[int], verb: str = "squared") -> None:
    """One trace line on stderr: who did what."""
    streams.say(f"{worker} {verb} {spans(items)}")


def trace_by_worker(workers: Sequence[str], verb: str = "squared") -> None:
    """Given the worker of each item (item i done by ``workers[i]``), one trace line a worker."""
    done: dict[str, list[int]] = {}
    for item, worker in enumerate(workers):
        done.setdefault(worker, []).append(item)
    for worker in sorted(done):
        trace(worker, done[worker], verb)
