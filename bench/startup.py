"""``python -m bench startup``: what our pool programs cost to start, against bare equivalents.

Two pairs, each a program of ours against the least a program doing the same
job could do:

- ``mpi-pool``: ``mpiexec -n 4 python -m message_passing.pool`` (100 items)
  against ``mpiexec -n 4 python -c "from mpi4py import MPI"``: MPI start-up
  and shut-down alone;
- ``mp-pool``: ``python -m shared_memory.pool`` (4 workers, 100 items) against
  a tiny script that starts ``Pool(4)`` in a ``with`` block and maps a
  module-level function over ``range(100)``.

The target: ours within 1.3x of its baseline (ratio of the medians of the wall
times). Each command is run ``--runs`` times, the two commands of a pair
alternating (ABAB...) so that drift in the machine's load hits both alike,
after ``--warmup`` alternating runs that are kept apart (they fill the file
cache). Wall time is taken by this process, which only launches each command
and waits for it. Whether ours and the baseline differ at all, and whether
ours differs from 1.3x the baseline (is the verdict beyond the noise), are
decided with the Mann-Whitney U test.

Python's bytecode cache is on for the runs, as it is by default: the warm-up
runs write (or refresh) ``__pycache__`` for our modules, as the installed
mpi4py already has its own. A ``PYTHONDONTWRITEBYTECODE`` in the environment
would otherwise make every run of ours compile our sources again, a cost the
baselines, written in a line or two, do not share.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import _stats, _tables, launch, results
from contract import cli

TARGET = 1.3
ALPHA = 0.05
RANKS = 4
ITEMS = 100  # the pool programs' default, which both pairs run

# The multiprocessing baseline, written as a fair twin of shared_memory.pool: a
# module-level function (picklable under any start method) and a `with` block (the
# pool is terminated on the way out, as ours is). It is a file, not `python -c`: a
# function defined in `-c` code cannot be found by spawn or forkserver children.
POOL_BASELINE = f"""\
from multiprocessing import Pool


def square(x):
    return x * x


if __name__ == "__main__":
    with Pool({RANKS}) as pool:
        pool.map(square, range({ITEMS}))
"""
POOL_BASELINE_NAME = "pool_baseline.py"
MPI_BASELINE = "from mpi4py import MPI"


@dataclass(frozen=True)
class Pair:
    name: str
    ours: str  # the text of the command, for the table
    baseline: str


PAIRS = (
    Pair("mpi-pool", f"mpiexec -n {RANKS} python -m message_passing.pool",
         f'mpiexec -n {RANKS} python -c "{MPI_BASELINE}"'),
    Pair("mp-pool", "python -m shared_memory.pool",
         f"python {POOL_BASELINE_NAME}: with Pool({RANKS}) as p: p.map(square, range({ITEMS}))"),
)
PAIR_NAMES = tuple(p.name for p in PAIRS)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (__doc__ or "").partition("\n")[0] or None
    parser.add_argument("--pairs", nargs="+", choices=PAIR_NAMES, default=list(PAIR_NAMES),
                        help=f"pairs to measure (default: all of {', '.join(PAIR_NAMES)})")
    parser.add_argument("--runs", type=cli.positive, default=20, metavar="R",
                        help="timed runs of each command (default 20)")
    parser.add_argument("--warmup", type=cli.count, default=3, metavar="K",
                        help="warm-up runs of each command, kept apart (default 3)")
    results.add_output_arguments(parser)


EXPECTED = f"{[i * i for i in range(ITEMS)]}\n"


def commands(pair: str, scratch: Path) -> tuple[list[str], list[str]]:
    """(ours, baseline) as argv lists."""
    if pair == "mpi-pool":
        return (launch.mpiexec(RANKS, *launch.python("message_passing.pool")),
                launch.mpiexec(RANKS, sys.executable, "-c", MPI_BASELINE))
    script = scratch / POOL_BASELINE_NAME
    if not script.exists():
        script.write_text(POOL_BASELINE)
    return launch.python("shared_memory.pool"), [sys.executable, str(script)]


# An empty value is "not set" to Python; mpiexec passes it on to every rank.
ENVIRONMENT = {"PYTHONDONTWRITEBYTECODE": ""}


def timed(argv: list[str], expected: str | None) -> float:
    """One run's wall time in seconds; a failed run, or one that printed the wrong thing, fails."""
    done = launch.run(argv, timeout=120, env=ENVIRONMENT)
    if done.returncode != 0 or (expected is not None and done.stdout != expected):
        why = ("timed out" if done.timed_out
               else f"exit {done.returncode}" if done.returncode else "wrong output")
        last = (done.stderr.strip().splitlines() or [""])[-1]
        raise results.MeasurementFailed(f"{' '.join(argv)}: {why}: {last}")
    return done.seconds


def measure(pair: Pair, scratch: Path, runs: int, warmup: int, bar: Any) -> list[dict[str, Any]]:
    """ABAB...: warm-up rounds, then timed rounds, each round one run of ours then the baseline."""
    ours, baseline = commands(pair.name, scratch)
    timings: dict[str, dict[str, list[float]]] = {
        role: {"warmup": [], "values": []} for role in ("ours", "baseline")
    }
    for phase, count in (("warmup", warmup), ("values", runs)):
        for _ in range(count):
            timings["ours"][phase].append(timed(ours, EXPECTED))
            timings["baseline"][phase].append(timed(baseline, None))
            bar.update()
    return [
        {
            "name": f"startup/{pair.name}/{role}", "group": "startup", "pair": pair.name,
            "role": role, "unit": "seconds per run", "command": argv, "text": text,
            **({"script": POOL_BASELINE} if pair.name == "mp-pool" and role == "baseline"
               else {}),
            "warmup": timings[role]["warmup"], "values": timings[role]["values"],
        }
        for role, argv, text in (("ours", ours, pair.ours), ("baseline", baseline, pair.baseline))
    ]


def measure_pairs(names: Sequence[str], runs: int, warmup: int, bar: Any) -> list[dict[str, Any]]:
    """The benchmarks of the pairs ``names``, in a scratch folder of their own: what
    ``bench startup`` measures, and ``bench square`` too for its third target.
    ``bar`` advances once per round (``warmup + runs`` rounds a pair)."""
    benchmarks: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="mpvsmpi-startup-") as scratch:
        for pair in (p for p in PAIRS if p.name in names):
            bar.set_description(f"start-up {pair.name}")
            benchmarks += measure(pair, Path(scratch), runs, warmup, bar)
    return benchmarks


def run(args: argparse.Namespace) -> results.Document:
    load_before = os.getloadavg()
    with _tables.progress(len(set(args.pairs)) * (args.warmup + args.runs), args.quiet) as bar:
        benchmarks = measure_pairs(args.pairs, args.runs, args.warmup, bar)
    settings = {"runs": args.runs, "warmup": args.warmup, "target": TARGET, "ranks": RANKS,
                "items": ITEMS, "order": "alternating, ours first in each round",
                "environment": ENVIRONMENT}
    return results.document("startup", benchmarks, settings=settings,
                            load={"before": list(load_before), "after": list(os.getloadavg())})


def verdicts(doc: results.Document) -> list[dict[str, Any]]:
    """Per pair: both summaries, the ratio of medians, the verdict and its two p-values.

    Reads the start-up benchmarks of any document: ``bench startup``'s, whose settings
    hold the target it was run against, and ``bench square``'s (the current ``TARGET``)."""
    target = doc.get("settings", {}).get("target", TARGET)
    by_pair: dict[str, dict[str, dict[str, Any]]] = {}
    for b in doc["benchmarks"]:
        if b.get("group") == "startup":
            by_pair.setdefault(b["pair"], {})[b["role"]] = b
    out = []
    for name, roles in by_pair.items():
        if set(roles) != {"ours", "baseline"}:
            continue
        ours, base = roles["ours"]["values"], roles["baseline"]["values"]
        a, b = _stats.summary(ours), _stats.summary(base)
        ratio = a["median"] / b["median"]
        out.append({
            "pair": name, "ours": a, "baseline": b, "ratio": ratio, "target": target,
            "met": ratio <= target,
            # Does ours differ from the baseline at all?
            "p_difference": _stats.mann_whitney_p(ours, base),
            # Does ours differ from target x the baseline: is the verdict beyond the noise?
            "p_target": _stats.mann_whitney_p(ours, [target * v for v in base]),
            "texts": (roles["ours"].get("text", ""), roles["baseline"].get("text", "")),
            "runs": len(ours), "warmup": len(roles["ours"].get("warmup", [])),
        })
    return out


def _cell(s: dict[str, float]) -> str:
    return f"{_tables.seconds(s['median'])} ({100 * s['iqr'] / s['median']:.0f}%)"


def verdict_text(v: dict[str, Any]) -> str:
    """``met``, ``NOT met``, with ``(within noise)`` when ours cannot be told from target x
    the baseline."""
    return ("met" if v["met"] else "NOT met") + ("" if v["p_target"] < ALPHA else " (within noise)")


def table(doc: results.Document, title: str = "start-up and run") -> list[str]:
    """The pairs' table with its legend, or nothing when the document has no start-up pair."""
    found = verdicts(doc)
    if not found:
        return []
    rows, notes = [], []
    for v in found:
        rows.append([
            v["pair"], _cell(v["ours"]), _cell(v["baseline"]), f"{v['ratio']:.2f}x",
            f"{v['target']:.1f}x", verdict_text(v),
            f"{'significant' if v['p_difference'] < ALPHA else 'not significant'} "
            f"(p={v['p_difference']:.2g})",
        ])
        notes.append(f"  {v['pair']}: ours = {v['texts'][0]}; baseline = {v['texts'][1]}")
    return [
        f"{title}, wall seconds: median of {found[0]['runs']} runs each "
        f"(IQR as % of the median), {found[0]['warmup']} warm-up runs apart, "
        "the two commands alternating",
        _tables.render(["pair", "ours", "baseline", "ratio", "target", "verdict",
                       "ours vs baseline"], rows, right=1),
        *notes,
        f"verdict: ratio of medians against the target; '(within noise)' when ours cannot be "
        f"told from target x baseline (Mann-Whitney U, p >= {ALPHA})",
    ]


def report(doc: results.Document) -> str:
    """The table of a startup document: one row a pair, with its verdict."""
    meta = doc["metadata"]
    load = doc.get("load") or {}
    lines = [
        f"{meta['date']}  {meta['host']}: {meta['cpu_model']}, {meta['cpu_count']} CPUs",
        f"Python {meta['python']}, mpi4py {meta['mpi4py']}, "
        f"{(meta.get('mpi_library') or 'MPI ?').splitlines()[0]}, "
        f"start method {meta['start_method']}",
    ]
    if load:
        lines.append("load average (1, 5, 15 min): before "
                     + ", ".join(f"{x:.2f}" for x in load["before"]) + "; after "
                     + ", ".join(f"{x:.2f}" for x in load["after"]))
    lines += ["", *table(doc)]
    return "\n".join(lines).rstrip() + "\n"


def main(args: argparse.Namespace) -> int:
    doc = run(args)
    return results.save_and_print(doc, report(doc), args.output_dir)

