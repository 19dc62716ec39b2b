"""One measurement of ``python -m bench square``, in a fresh process (or ``mpiexec`` job).

    python -m bench.square.worker serial ints --items N ...
    python -m bench.square.worker multiprocessing pool --workers 2 --items N ...
    mpiexec -n 2 python -m bench.square.worker mpi4py pool --variant executor --items N ...
    mpiexec -n 2 python -m bench.square.worker mpi4py array --variant window --items N ...

Sets up what the measurement keeps (for the arrays: the data, and the workers or the
window), then runs the repeated part ``--warmup`` + ``--repeat`` times, checks every
result against the serial answer (a wrong result is an error, never a data point), and
prints one JSON document: the seconds of each run, the seconds of the set-up, and the
time from the parent's launch (``--launched-at``, a ``time.time()``) to the end of the
first run: interpreter start, imports, ``mpiexec`` or ``Pool`` start, the set-up and
the first run, what a user waits for.

What a run is. For the patterns that carry items, one call of the pattern's ``run()``
(a ``Pool`` is started inside it, MPI ranks are already up). For the arrays, the
steady state, with the input written again before each run, untimed, so that every run
does the same work:

- ``serial array``, the floor: ``np.square(a, out=a)`` on a warm array in one process.
- ``array`` (both sides), the expert's way: the pattern's ``Team`` stands (segment and
  workers attached; or Scatterv buffers; or, ``--variant window``, the shared window),
  and a run is one ``team.square()``.
- ``--variant naive``, the way that first comes to mind: ``Pool.map(np.square, chunks)``
  over pickled chunks (a started ``Pool``), or lower-case ``scatter``/``gather`` of
  numpy chunks (pickled); the squares are copied back into the input array.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from contract import cli, unit

SIDES = ("serial", "multiprocessing", "mpi4py")
# Variant flags of the command line, as keyword arguments of run(). "naive" is the
# harness's own (array only): no pattern has that flag.
VARIANTS: dict[str, dict[str, Any]] = {
    "": {}, "executor": {"executor": True}, "rma": {"rma": True},
    "window": {"window": True}, "joinable": {"joinable": True},
    "producer-works": {"producer_works": True}, "batch=10": {"batch": 10}, "naive": {},
}
BLOCK = 1 << 20  # items checked at a time: the answer is never held whole

Check = Callable[[Any], bool]
Prepare = Callable[[], None]
Job = Callable[[], Any]


def expected(pattern: str, items: int) -> Check:
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
        return lambda result: array_is_squared(result, items)
    raise ValueError(f"no serial answer for {pattern!r}")


def array_is_squared(result: Any, items: int) -> bool:
    """``result`` equals ``np.square(np.arange(items))``, compared a block at a time: at
    10**8 items a whole answer would be one more 800 MB array."""
    import numpy as np

    if not isinstance(result, np.ndarray) or result.dtype != np.float64:
        return False
    if result.shape != (items,):
        return False
    for start in range(0, items, BLOCK):
        stop = min(start + BLOCK, items)
        answer = np.square(np.arange(start, stop, dtype=np.float64))
        if not np.array_equal(result[start:stop], answer):
            return False
    return True


def nothing() -> None:
    pass


@contextmanager
def session(args: argparse.Namespace, comm: Any) -> Iterator[tuple[Prepare, Job]]:
    """What the measurement sets up once, torn down after: ``(prepare, job)``, where
    ``prepare()`` (untimed) readies the next run and ``job()`` (timed) is the run,
    returning the result to check (on rank 0 under MPI)."""
    kwargs = VARIANTS[args.variant]
    if args.pattern != "array":
        if args.side == "serial":
            yield nothing, lambda: [unit.square(x) for x in range(args.items)]
        elif args.side == "multiprocessing":
            module = importlib.import_module(f"shared_memory.{args.pattern}")
            yield nothing, lambda: module.run(args.items, args.workers, **kwargs)
        else:
            module = importlib.import_module(f"message_passing.{args.pattern}")
            yield nothing, lambda: module.run(args.items, comm, **kwargs)
        return
    import numpy as np

    if args.side == "serial":
        from shared_memory.array import fill

        work = np.empty(args.items, dtype=np.float64)
        fill(work)  # written now: no run meets a fresh page
        yield lambda: fill(work), lambda: np.square(work, out=work)
    elif args.side == "multiprocessing":
        if args.variant == "naive":
            with _naive_pool(args.items, args.workers) as pair:
                yield pair
        else:
            from shared_memory.array import Team

            with Team(args.items, args.workers) as team:
                yield team.refill, lambda: (team.square(), team.array)[1]
    else:
        if args.variant == "naive":
            yield _naive_scatter(args.items, comm)
        else:
            from message_passing import array

            with array.Team(args.items, comm, **kwargs) as team:
                yield team.refill, lambda: (team.square(), team.array)[1]


@contextmanager
def _naive_pool(items: int, workers: int) -> Iterator[tuple[Prepare, Job]]:
    """``Pool.map(np.square, chunks)``: every chunk pickled to a worker, squared there into
    a new array, pickled back, and copied into place. The pool is started before timing."""
    from multiprocessing import Pool

    import numpy as np

    from shared_memory.array import fill

    data = np.empty(items, dtype=np.float64)

    def job() -> np.ndarray:
        chunks = np.array_split(data, 4 * workers)  # views; about what Pool.map would cut
        np.concatenate(pool.map(np.square, chunks, chunksize=1), out=data)
        return data

    fill(data)  # written now: no run meets a fresh page
    with Pool(workers) as pool:
        yield lambda: fill(data), job


def _naive_scatter(items: int, comm: Any) -> tuple[Prepare, Job]:
    """Lower-case ``scatter``/``gather`` of numpy chunks: each is pickled, sent, unpickled
    into a new array, squared into another, and the same way back to rank 0."""
    import numpy as np

    from message_passing.array import fill

    rank = comm.Get_rank()
    data = np.empty(items, dtype=np.float64) if rank == 0 else None

    def prepare() -> None:
        if data is not None:
            fill(data)

    prepare()  # written now: no run meets a fresh page

    def job() -> np.ndarray | None:
        mine = comm.scatter(np.array_split(data, comm.Get_size()) if rank == 0 else None)
        squares = np.square(mine)
        del mine  # what a careful naive writer does: one copy less at the peak
        gathered = comm.gather(squares)
        del squares
        if gathered is None:
            return None
        np.concatenate(gathered, out=data)
        return data

    return prepare, job


def measure(args: argparse.Namespace) -> dict[str, Any] | None:
    check = expected(args.pattern, args.items)
    comm = None
    if args.side == "mpi4py":
        from mpi4py import MPI

        comm = MPI.COMM_WORLD
    # Imports are start-up, not set-up: done before the set-up's clock starts.
    if args.pattern == "array":
        import numpy  # noqa: F401
    if args.side != "serial" or args.pattern == "array":
        package = "message_passing" if args.side == "mpi4py" else "shared_memory"
        importlib.import_module(f"{package}.array" if args.side == "serial" else
                                f"{package}.{args.pattern}")
    times, first = [], None
    began = time.perf_counter()
    with session(args, comm) as (prepare, job):
        setup = time.perf_counter() - began
        if comm is not None:
            setup = comm.allreduce(setup, op=MPI.MAX)  # ready when the last rank is
        for _ in range(args.warmup + args.repeat):
            prepare()  # untimed: the same input, the same work, every run
            if comm is not None:
                comm.Barrier()  # every rank starts the collective at about the same time
            start = time.perf_counter()
            result = job()
            end = time.perf_counter()
            if comm is not None:
                # The run lasts from the first rank's start to the last rank's end: a rank
                # may leave the barrier, and start sending, before rank 0 does. perf_counter
                # is CLOCK_MONOTONIC, one clock for every process of a host (not across
                # hosts).
                starts, ends = comm.gather(start), comm.gather(end)
                if starts is not None:
                    start, end = min(starts), max(ends)
            if first is None:
                first = time.time() - args.launched_at
            right = (comm is not None and comm.Get_rank() != 0) or check(result)
            result = None  # no view of a team's memory may outlive its block
            if not right:
                raise SystemExit(
                    f"bench.square.worker: {args.side} {args.pattern} {args.variant} gave a "
                    f"wrong result for {args.items} items"
                )
            times.append(end - start)
    if comm is not None and comm.Get_rank() != 0:
        return None
    return {
        "first_result": first, "setup": setup, "warmup": times[: args.warmup],
        "values": times[args.warmup:],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.make_parser("bench.square.worker", __doc__)
    parser.add_argument("side", choices=SIDES)
    parser.add_argument("pattern")
    parser.add_argument("--variant", choices=list(VARIANTS), default="")
    cli.add_workers(parser, default=1)
    cli.add_items(parser, default=1000)
    parser.add_argument("--repeat", type=cli.positive, default=3)
    parser.add_argument("--warmup", type=cli.count, default=1)
    parser.add_argument("--launched-at", type=float, default=time.time())
    args = parser.parse_args(argv)
    if args.variant == "naive" and args.pattern != "array":
        parser.error("--variant naive is for the array only")
    if args.side == "mpi4py":
        from message_passing import runtime  # here only: importing it starts MPI

        with runtime.abort_on_error():
            report = measure(args)
    else:
        report = measure(args)
    if report is not None:
        print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
