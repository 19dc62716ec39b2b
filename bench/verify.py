"""``python -m bench verify``: run every pattern both ways and check the outputs are equal.

Each side is its own program, started the way a user starts it
(``python -m shared_memory.X --workers N`` and ``mpiexec -n N python -m
message_passing.X``), so what is compared is exactly what users see.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bench import _tables, launch, results
from bench.patterns import MODULES, PAIRS, Pair, pattern_name
from contract import cli


@dataclass(frozen=True)
class Outcome:
    pair: Pair
    workers: int
    shared: launch.Finished
    mpi: launch.Finished

    @property
    def equal(self) -> bool:
        return self.shared.stdout == self.mpi.stdout

    @property
    def ok(self) -> bool:
        return self.shared.returncode == 0 and self.mpi.returncode == 0 and self.equal


def commands(pair: Pair, workers: int) -> tuple[list[str], list[str]]:
    """The two command lines of a pair at a worker count."""
    shared = launch.python(
        f"shared_memory.{pair.module}", "--workers", str(workers), *pair.shared_args
    )
    module = f"message_passing.{pair.module}"
    if pair.mpi_spawns:
        mpi = launch.mpiexec(1, *launch.python(module, *pair.mpi_args, "--workers", str(workers)))
    else:
        mpi = launch.mpiexec(workers, *launch.python(module, *pair.mpi_args))
    return shared, mpi


def compare(pair: Pair, workers: int, timeout: float = 60.0) -> Outcome:
    shared, mpi = commands(pair, workers)
    return Outcome(
        pair, workers, launch.run(shared, timeout=timeout), launch.run(mpi, timeout=timeout)
    )


def status(run: launch.Finished) -> str:
    if run.timed_out:
        return "timed out"
    return "ok" if run.returncode == 0 else f"exit {run.returncode}"


def first_difference(a: str, b: str) -> str:
    """``yes``, or the first line where the outputs part, shown from both sides."""
    if a == b:
        return "yes"
    left, right = a.splitlines(), b.splitlines()
    for line, (x, y) in enumerate(zip(left, right, strict=False), 1):
        if x != y:
            return f"no, line {line}: {shorten(x)!r} vs {shorten(y)!r}"
    return f"no, {len(left)} lines vs {len(right)} lines"


def shorten(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def table(outcomes: Iterable[Outcome]) -> str:
    """A plain-text table: one row a pair and worker count."""
    header = ("pattern", "N", "multiprocessing", "mpi4py", "equal", "mp s", "mpi s")
    rows = [
        (
            o.pair.label, str(o.workers), status(o.shared), status(o.mpi),
            first_difference(o.shared.stdout, o.mpi.stdout),
            f"{o.shared.seconds:.2f}", f"{o.mpi.seconds:.2f}",
        )
        for o in outcomes
    ]
    return _tables.render(header, rows)


def verify(
    modules: Sequence[str], workers: Sequence[int], quiet: bool = True
) -> list[Outcome]:
    pairs = [pair for pair in PAIRS if not modules or pair.module in modules]
    outcomes = []
    with _tables.progress(len(pairs) * len(workers), quiet) as bar:
        for n in workers:
            for pair in pairs:
                bar.set_description(f"{pair.label} N={n}")
                outcomes.append(compare(pair, n))
                bar.update()
    return outcomes


def mpi_line() -> str:
    """Which MPI the mpi4py side ran on: the library's first line, and the mpiexec used."""
    library = results.mpi_versions()["mpi_library"] or "MPI library unknown"
    return f"MPI: {library.splitlines()[0]} (mpiexec: {launch.mpiexec_path()})"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = "Run every pattern both ways and compare the outputs byte for byte."
    parser.add_argument(
        "patterns", nargs="*", type=pattern_name, metavar="PATTERN",
        help=f"patterns to check (default: all of {', '.join(MODULES)})",
    )
    parser.add_argument(
        "--workers", nargs="+", type=cli.positive, default=[4], metavar="N",
        help="worker counts: processes on one side, ranks on the other (default 4)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def main(args: argparse.Namespace) -> int:
    return check(args.patterns, args.workers, args.quiet)


def check(modules: Sequence[str], workers: Sequence[int], quiet: bool = False) -> int:
    """Compare ``modules`` (none: all) at each worker count; print the table; 0 if all agree."""
    outcomes = verify(modules, workers, quiet)
    print(mpi_line())
    print(table(outcomes))
    failed = [o for o in outcomes if not o.ok]
    for o in failed:
        for side in (o.shared, o.mpi):
            if side.returncode != 0 and side.stderr.strip():
                print(f"--- {' '.join(side.argv[-4:])}: {side.stderr.strip().splitlines()[-1]}")
    print(f"{len(outcomes) - len(failed)} of {len(outcomes)} pairs agree")
    return 1 if failed else 0
