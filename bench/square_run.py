"""One measurement of ``python -m bench square``, in a fresh process (or ``mpiexec`` job).

    python -m bench.square_run serial ints --items N ...
    python -m bench.square_run multiprocessing pool --workers 2 --items N ...
    mpiexec -n 2 python -m bench.square_run mpi4py pool --variant --executor --items N ...

Runs the pattern's ``run()`` ``--warmup`` + ``--repeat`` times, checks every
result against the serial answer (a wrong result is an error, never a data
point), and prints one JSON document: the seconds of each run, and the time
from the parent's launch (``--launched-at``, a ``time.time()``) to the end of
the first run: interpreter start, imports, ``mpiexec`` or ``Pool`` start and
the first run, what a user waits for.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from bench import contract

SIDES = ("serial", "multiprocessing", "mpi4py")
# Variant flags of the command line, as keyword arguments of run().
VARIANTS: dict[str, dict[str, Any]] = {
    "": {}, "executor": {"executor": True}, "rma": {"rma": True},
    "window": {"window": True}, "joinable": {"joinable": True},
}


def expected(pattern: str, items: int) -> Callable[[Any], bool]:
    """A check of ``run()``'s result against the serial answer, computed once, untimed."""
    if pattern in ("pool", "pipe", "ints"):
        squares = [x * x for x in range(items)]
        return lambda result: result == squares
    if pattern == "queue":
        total = sum(x * x for x in range(items))
        return lambda result: (result.count, result.total) == (items, total)
    if pattern == "manager":
        doubles = {x: 2 * x for x in range(items)}
        return lambda result: result == doubles
    if pattern == "array":
        import numpy as np

        squares = np.square(np.arange(items, dtype=np.float64))
        return lambda result: bool(np.array_equal(result, squares))
    raise ValueError(f"no serial answer for {pattern!r}")


def serial(pattern: str, items: int) -> Callable[[], Any]:
    """The floors: a list comprehension (ints), an in-place ``np.square`` on a warm array."""
    if pattern == "ints":
        return lambda: [contract.square(x) for x in range(items)]
    import numpy as np

    source = np.arange(items, dtype=np.float64)
    work = source.copy()  # written now: the timed square never meets a fresh page

    def square_in_place() -> Any:
        np.copyto(work, source)  # not squared twice: the same work every repetition
        start = time.perf_counter()
        np.square(work, out=work)
        square_in_place.seconds = time.perf_counter() - start  # type: ignore[attr-defined]
        return work

    return square_in_place


def measure(args: argparse.Namespace) -> dict[str, Any] | None:
    check = expected(args.pattern, args.items)
    kwargs = VARIANTS[args.variant]
    comm = None
    if args.side == "serial":
        job = serial(args.pattern, args.items)
    elif args.side == "multiprocessing":
        module = importlib.import_module(f"shared_memory.{args.pattern}")
        job = lambda: module.run(args.items, args.workers, **kwargs)  # noqa: E731
    else:
        from mpi4py import MPI

        comm = MPI.COMM_WORLD
        module = importlib.import_module(f"message_passing.{args.pattern}")
        job = lambda: module.run(args.items, comm, **kwargs)  # noqa: E731
    times, first = [], None
    for _ in range(args.warmup + args.repeat):
        if comm is not None:
            comm.Barrier()  # every rank starts the collective at about the same time
        start = time.perf_counter()
        result = job()
        end = time.perf_counter()
        if comm is not None:
            # The run lasts from the first rank's start to the last rank's end: a rank may
            # leave the barrier, and start sending, before rank 0 does. perf_counter is
            # CLOCK_MONOTONIC, one clock for every process of a host (not across hosts).
            starts, ends = comm.gather(start), comm.gather(end)
            if starts is not None:
                start, end = min(starts), max(ends)
        seconds = getattr(job, "seconds", end - start)  # the array floor times its square alone
        if first is None:
            first = time.time() - args.launched_at
        if comm is None or comm.Get_rank() == 0:
            if not check(result):
                raise SystemExit(
                    f"bench.square_run: {args.side} {args.pattern} {args.variant} gave a wrong "
                    f"result for {args.items} items"
                )
        times.append(seconds)
    if comm is not None and comm.Get_rank() != 0:
        return None
    return {
        "first_result": first, "warmup": times[: args.warmup], "values": times[args.warmup:],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = contract.make_parser("bench.square_run", __doc__)
    parser.add_argument("side", choices=SIDES)
    parser.add_argument("pattern")
    parser.add_argument("--variant", choices=list(VARIANTS), default="")
    contract.add_workers(parser, default=1)
    contract.add_items(parser, default=1000)
    parser.add_argument("--repeat", type=contract.positive, default=3)
    parser.add_argument("--warmup", type=contract.count, default=1)
    parser.add_argument("--launched-at", type=float, default=time.time())
    args = parser.parse_args(argv)
    if args.side == "mpi4py":
        from message_passing import _cli  # here only: importing it starts MPI

        with _cli.abort_on_error():
            report = measure(args)
    else:
        report = measure(args)
    if report is not None:
        print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
