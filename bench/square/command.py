"""``python -m bench square``: what each pattern costs on the same work, and where it pays.

The work is squaring: N Python ints through every pattern that carries items
(``pool``, ``queue``, ``pipe``, ``manager``), and a float64 numpy array through
``array``, each way, at each worker count. Every measurement is a fresh program
(``python -m bench.square.worker``, under ``mpiexec -n W`` for MPI) that checks its
result against the serial answer on every run. The floors are measured in the
same sitting: a serial list comprehension for the ints, a single-process
in-place ``np.square`` on a warm array for the arrays (the memory-bandwidth
floor). ``--cost-us`` gives every item that many microseconds of real
computation; the crossover sweep raises it until 2 workers beat the serial floor.

Each world at its best, and the naive way beside it. The array is measured in its
steady state: the expert's ``Team`` of each side set up once (a shared segment and
attached workers; ``Scatterv`` buffers with the data on rank 0; a shared window),
then each run is only the squaring. The naive ways (``array mp naive``:
``Pool.map`` over pickled chunks; ``array mpi naive``: lower-case ``scatter`` and
``gather`` of numpy chunks) show what the expert's way buys; ``--no-naive`` leaves
them out. ``queue mpi --producer-works`` is the MPI queue whose rank 0 works too, and
``queue mp --batch=10`` the multiprocessing queue with ten items a message.
The report ends with its targets, as ratios measured in the same run:
the fastest array way of each side within 1.5x of the floor at 10**8 items and 2
workers; a speed-up of 1.8 over serial at 100 us per item with 2 workers, for pool
and queue, both sides; and each pool program's start-up within 1.3x of a bare
equivalent's, measured as ``bench startup`` does (``--startup-runs``; 0 leaves it out).
A target measured at fewer items than its own says so instead of met or NOT met.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bench import _stats, _tables, launch, results, startup
from contract import cli, unit

ITEM_PATTERNS = ("pool", "queue", "pipe", "manager")


@dataclass(frozen=True)
class Way:
    """One way of running a pattern: its side and, if any, its variant (``executor``...)."""

    pattern: str
    side: str  # "serial", "multiprocessing" or "mpi4py"
    variant: str = ""

    @property
    def label(self) -> str:
        """``pool mpi --executor`` (a flag of the pattern), ``array mp naive`` (the harness's)."""
        side = {"multiprocessing": "mp", "mpi4py": "mpi"}.get(self.side, self.side)
        if self.naive:
            return f"{self.pattern} {side} naive"
        return f"{self.pattern} {side}" + (f" --{self.variant}" if self.variant else "")

    @property
    def naive(self) -> bool:
        return self.variant == "naive"


WAYS: tuple[Way, ...] = (
    Way("pool", "multiprocessing"), Way("pool", "mpi4py"), Way("pool", "mpi4py", "executor"),
    Way("queue", "multiprocessing"), Way("queue", "multiprocessing", "batch=10"),
    Way("queue", "mpi4py"), Way("queue", "mpi4py", "producer-works"),
    Way("pipe", "multiprocessing"), Way("pipe", "mpi4py"),
    Way("manager", "multiprocessing"), Way("manager", "mpi4py"), Way("manager", "mpi4py", "rma"),
    Way("array", "multiprocessing", "naive"), Way("array", "multiprocessing"),
    Way("array", "mpi4py", "naive"), Way("array", "mpi4py"), Way("array", "mpi4py", "window"),
)
FLOORS = {"ints": Way("ints", "serial"), "array": Way("array", "serial")}

# The targets, measured as ratios in one run.
ARRAY_TARGET = {"items": 10**8, "workers": 2, "bound": 1.5}  # best way / floor, at most
# serial / best way, at least; with fewer items than these, starting a Pool dominates.
COST_TARGET = {"cost_us": 100.0, "workers": 2, "bound": 1.8, "items": 5000}
COST_TARGET_PATTERNS = ("pool", "queue")
# Target 3 is bench.startup's: its pairs, bound and verdicts. Fewer rounds than bench
# startup's own: little beside the rest of a square run.
STARTUP_RUNS = 10


def available(pattern: str) -> bool:
    """Whether both modules of ``pattern`` exist: the harness measures a pattern only then."""
    return all(
        importlib.util.find_spec(f"{package}.{pattern}") is not None
        for package in ("shared_memory", "message_passing")
    )


def workload(pattern: str) -> str:
    return "array" if pattern == "array" else "ints"


def big_count(text: str) -> int:
    """argparse type: a count that may be written ``1e6``."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (value >= 1 and value == int(value)):
        raise argparse.ArgumentTypeError(f"{text} is not a whole number of 1 or more")
    return int(value)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (__doc__ or "").partition("\n")[0] or None
    patterns = (*ITEM_PATTERNS, "array")
    parser.add_argument("--patterns", nargs="+", choices=patterns, default=list(patterns),
                        help="patterns to measure (default: all; array once it exists)")
    parser.add_argument("--workers", nargs="+", type=cli.positive, default=[1, 2, 4],
                        metavar="W", help="worker counts (default 1 2 4)")
    parser.add_argument("--items", nargs="+", type=big_count,
                        default=[10**2, 10**3, 10**4, 10**5, 10**6], metavar="N",
                        help="how many ints (default 1e2 .. 1e6)")
    parser.add_argument("--array-items", nargs="+", type=big_count,
                        default=[10**6, 10**7, 10**8], metavar="N",
                        help="float64 array sizes (default 1e6 1e7 1e8)")
    parser.add_argument("--max-bytes", type=big_count, default=2**30, metavar="B",
                        help="skip arrays larger than this many bytes (default 1 GiB)")
    parser.add_argument("--cost-us", type=cli.duration, default=0.0, metavar="US",
                        help="synthetic cost of every item, in microseconds (default 0)")
    parser.add_argument("--crossover-costs", nargs="+", type=cli.duration,
                        default=[0, 1, 3, 10, 30, 100, 300], metavar="US",
                        help="per-item costs swept for the crossover (default 0 .. 300)")
    parser.add_argument("--crossover-items", type=big_count, default=5000, metavar="N",
                        help="items in the crossover sweep (default 5000: enough that "
                        "starting a Pool does not hide the speed-up at 100 us per item)")
    parser.add_argument("--no-naive", dest="naive", action="store_false",
                        help="leave out the naive array ways (Pool.map of pickled chunks, "
                        "pickled scatter/gather)")
    parser.add_argument("--budget", type=cli.duration, default=3.0, metavar="S",
                        help="skip a run predicted to take longer than S seconds (default 3)")
    parser.add_argument("--repeat", type=cli.positive, default=3, metavar="R",
                        help="timed runs per measurement (default 3)")
    parser.add_argument("--warmup", type=cli.count, default=1, metavar="K",
                        help="warm-up runs per measurement, kept apart; also per start-up "
                        "pair, there at least 1 (default 1)")
    parser.add_argument("--startup-runs", type=cli.count, default=STARTUP_RUNS,
                        metavar="K", help="timed runs of each command of the start-up pairs "
                        "(target 3, as in 'bench startup'; default "
                        f"{STARTUP_RUNS}; 0: not measured)")
    results.add_output_arguments(parser)


def command(way: Way, workers: int, items: int, args: argparse.Namespace) -> list[str]:
    options = [
        way.side, way.pattern, "--workers", str(workers), "--items", str(items),
        "--repeat", str(args.repeat), "--warmup", str(args.warmup),
        *(["--variant", way.variant] if way.variant else []),
        "--launched-at", repr(time.time()),
    ]
    program = launch.python("bench.square.worker", *options)
    return launch.mpiexec(workers, *program) if way.side == "mpi4py" else program


def measure(
    way: Way, workers: int, items: int, cost_us: float, args: argparse.Namespace,
    phase: str,
) -> dict[str, Any]:
    done = launch.run(
        command(way, workers, items, args), timeout=600,
        env={unit.COST_VARIABLE: repr(cost_us)},
    )
    if done.returncode != 0:
        why = "timed out" if done.timed_out else f"exit {done.returncode}"
        last = (done.stderr.strip().splitlines() or [""])[-1]
        raise results.MeasurementFailed(f"{way.label} W={workers} N={items}: {why}: {last}")
    raw = json.loads(done.stdout)
    return {
        "name": f"square/{phase}/{way.label.replace(' ', '_')}/w{workers}/n{items}/c{cost_us:g}",
        "group": "square", "phase": phase, "workload": workload(way.pattern),
        "pattern": way.pattern, "side": way.side, "variant": way.variant,
        "workers": workers, "items": items, "cost_us": cost_us, "unit": "seconds per run",
        "first_result": raw["first_result"], "setup": raw["setup"], "warmup": raw["warmup"],
        "values": raw["values"],
    }


def plan(args: argparse.Namespace) -> list[tuple[Way, int, int, float, str]]:
    """Everything to measure, in order: (way, workers, items, cost, phase)."""
    patterns = [p for p in args.patterns if available(p)]
    jobs: list[tuple[Way, int, int, float, str]] = []
    sizes = {
        "ints": sorted(args.items),
        "array": sorted(n for n in args.array_items if 8 * n <= args.max_bytes),
    }
    used = {workload(p) for p in patterns}
    for load in sorted(used):
        jobs += [(FLOORS[load], 1, n, args.cost_us, "scaling") for n in sizes[load]]
    for way in WAYS:
        if way.pattern in patterns and (args.naive or not way.naive):
            for w in args.workers:
                jobs += [(way, w, n, args.cost_us, "scaling") for n in sizes[workload(way.pattern)]]
    item_ways = [w for w in WAYS if w.pattern in patterns and w.pattern in ITEM_PATTERNS]
    if item_ways and args.crossover_costs:
        for cost in sorted(args.crossover_costs):
            jobs.append((FLOORS["ints"], 1, args.crossover_items, cost, "crossover"))
            jobs += [(way, 2, args.crossover_items, cost, "crossover") for way in item_ways]
    return jobs


def run(args: argparse.Namespace) -> results.Document:
    jobs = plan(args)
    benchmarks: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    last: dict[tuple[Way, int, float, str], tuple[int, float]] = {}
    # At least one warm-up round: it writes __pycache__ for our modules, as the installed
    # mpi4py has its own, else our first run alone pays for compiling them.
    startup_warmup = max(args.warmup, 1)
    rounds = (startup_warmup + args.startup_runs) if args.startup_runs else 0
    with _tables.progress(len(jobs) + len(startup.PAIRS) * rounds, args.quiet) as bar:
        if args.startup_runs:  # first: a launch that fails, fails before the long part
            benchmarks += startup.measure_pairs(startup.PAIR_NAMES, args.startup_runs,
                                                startup_warmup, bar)
        for way, workers, items, cost, phase in jobs:
            bar.set_description(f"{way.label} W={workers} N={items}")
            key = (way, workers, cost, phase)
            if key in last:  # predict from the previous size, linearly in N
                n, seconds = last[key]
                predicted = seconds * items / n
                if predicted > args.budget:
                    skipped.append({"pattern": way.label, "workers": workers, "items": items,
                                    "cost_us": cost, "predicted_seconds": predicted})
                    bar.update()
                    continue
            bench = measure(way, workers, items, cost, args, phase)
            benchmarks.append(bench)
            last[key] = (items, statistics_median(bench["values"]))
            bar.update()
    settings = {
        k: getattr(args, k) for k in (
            "patterns", "workers", "items", "array_items", "max_bytes", "cost_us",
            "crossover_costs", "crossover_items", "budget", "repeat", "warmup", "naive",
            "startup_runs",
        )
    }
    return results.document("square", benchmarks, settings=settings, skipped=skipped)


def statistics_median(values: Sequence[float]) -> float:
    return _stats.summary(values)["median"]


def _label(bench: dict[str, Any]) -> str:
    return Way(bench["pattern"], bench["side"], bench["variant"]).label


def _median(bench: dict[str, Any]) -> float:
    return statistics_median(bench["values"])


def _by(doc: results.Document, phase: str) -> dict[tuple[str, int, int, float], dict[str, Any]]:
    return {
        (_label(b), b["workers"], b["items"], b["cost_us"]): b
        for b in doc["benchmarks"] if b.get("group") == "square" and b["phase"] == phase
    }


def _ordered_labels(benches: Iterable[dict[str, Any]]) -> list[str]:
    present = {_label(b) for b in benches}
    order = [w.label for w in (*FLOORS.values(), *WAYS)]
    return [label for label in order if label in present]


def report(doc: results.Document) -> str:
    """The tables of a square document: time and ratio to the floor, speed-up, start-up,
    and the crossover."""
    meta = doc["metadata"]
    lines = [
        f"{meta['date']}  {meta['host']}: {meta['cpu_model']}, {meta['cpu_count']} CPUs",
        f"Python {meta['python']}, numpy {meta['numpy']}, mpi4py {meta['mpi4py']}, "
        f"{(meta.get('mpi_library') or 'MPI ?').splitlines()[0]}, "
        f"start method {meta['start_method']}",
        "",
    ]
    scaling = _by(doc, "scaling")
    benches = list(scaling.values())
    for load, floor in FLOORS.items():
        mine = [b for b in benches if b["workload"] == load]
        if not mine:
            continue
        sizes = sorted({b["items"] for b in mine})
        cost = mine[0]["cost_us"]
        floors = {n: scaling.get((floor.label, 1, n, cost)) for n in sizes}
        rows = []
        for label in _ordered_labels(mine):
            for w in sorted({b["workers"] for b in mine if _label(b) == label}):
                row = [label, str(w)]
                for n in sizes:
                    b, f = scaling.get((label, w, n, cost)), floors[n]
                    if b is None:
                        row.append("-")
                        continue
                    text = _tables.seconds(_median(b))
                    if f and f is not b:
                        text += f" ({_tables.number(_median(b) / _median(f))}x)"
                    row.append(text)
                rows.append(row)
        what = "squaring N Python ints" if load == "ints" else "squaring a float64 array of N"
        lines += [
            f"{what}{f', {cost:g} us per item' if cost else ''}: median time per run "
            f"(ratio to the {floor.label} floor)",
            _tables.render(["way", "W", *[f"N={n:.0e}".replace("e+0", "e") for n in sizes]],
                          rows, right=1),
            "",
        ]
    lines += _speedups(benches) + _startups(benches) + _crossover(doc)
    pairs = startup.table(doc, "start-up of the pool programs against bare equivalents "
                                "(target 3, as bench startup measures it)")
    lines += [*pairs, ""] if pairs else []
    if doc.get("skipped"):
        lines += [f"{len(doc['skipped'])} runs skipped: predicted over the "
                  f"{doc['settings']['budget']:g} s budget (see the JSON)", ""]
    lines += _targets(doc)
    return "\n".join(lines).rstrip() + "\n"


def _speedups(benches: list[dict[str, Any]]) -> list[str]:
    """Speed-up and parallel efficiency against 1 worker, at the largest N all W reached."""
    rows = []
    workers = sorted({b["workers"] for b in benches if b["side"] != "serial"})
    for label in _ordered_labels(benches):
        mine = {(b["workers"], b["items"]): b for b in benches if _label(b) == label}
        if label.endswith("serial") or 1 not in {w for w, _ in mine}:
            continue
        common = [n for n in sorted({n for _, n in mine}) if all((w, n) in mine for w in workers)]
        if not common:
            continue
        n = common[-1]
        one = _median(mine[(1, n)])
        cells = []
        for w in workers:
            speedup = one / _median(mine[(w, n)])
            cells.append(f"{speedup:.2f}x ({100 * speedup / w:.0f}%)")
        rows.append([label, f"{n:.0e}".replace("e+0", "e"), *cells])
    if not rows:
        return []
    return [
        "speed-up against 1 worker (parallel efficiency), at the largest N every W reached",
        _tables.render(["way", "N", *[f"W={w}" for w in workers]], rows, right=1), "",
    ]


def _startups(benches: list[dict[str, Any]]) -> list[str]:
    """Start-up apart from the work: launch to first result, minus the first run itself."""
    rows = []
    for label in _ordered_labels(benches):
        mine = [b for b in benches if _label(b) == label]
        for w in sorted({b["workers"] for b in mine}):
            b = min((b for b in mine if b["workers"] == w), key=lambda b: b["items"])
            first_run = (b["warmup"] or b["values"])[0]
            # Only the arrays keep a set-up apart (absent from older documents).
            setup = b.get("setup") if b["workload"] == "array" else None
            rows.append([label, str(w), f"{b['items']:.0e}".replace("e+0", "e"),
                         _tables.seconds(b["first_result"]),
                         _tables.seconds(max(b["first_result"] - first_run, 0.0)),
                         "-" if setup is None else _tables.seconds(setup),
                         _tables.seconds(_median(b))])
    if not rows:
        return []
    return [
        "start-up: launch to first result, of which start-up (launch, imports, Pool or "
        "mpiexec start, set-up), of which the set-up kept for every run (arrays: data, "
        "workers, window), and the steady run, at the smallest N",
        _tables.render(["way", "W", "N", "first result", "start-up", "set-up", "steady run"],
                      rows, right=1),
        "",
    ]


def crossovers(doc: results.Document) -> dict[str, tuple[float | None, float]]:
    """For each way at 2 workers: the smallest per-item cost at which it beats the serial
    floor (None: it never did), and the largest cost swept."""
    found = _by(doc, "crossover")
    floor = FLOORS["ints"].label
    costs = sorted({c for (_, _, _, c) in found})
    out: dict[str, tuple[float | None, float]] = {}
    for label in _ordered_labels(found.values()):
        if label == floor:
            continue
        first = None
        for cost in costs:
            mine = [b for (lab, w, _, c), b in found.items() if lab == label and c == cost]
            serial = [b for (lab, _, _, c), b in found.items() if lab == floor and c == cost]
            if mine and serial and _median(mine[0]) < _median(serial[0]):
                first = cost
                break
        out[label] = (first, costs[-1] if costs else 0.0)
    return out


def _crossover(doc: results.Document) -> list[str]:
    found = crossovers(doc)
    if not found:
        return []
    items = doc["settings"]["crossover_items"]
    rows = [
        [label, "never" if cost is None else f"{cost:g} us", f"up to {top:g} us"]
        for label, (cost, top) in found.items()
    ]
    return [
        f"crossover: the smallest per-item cost at which 2 workers beat the serial list "
        f"comprehension ({items} items)",
        _tables.render(["way", "2 workers win from", "swept"], rows, right=1), "",
    ]


def _status(target: dict[str, Any]) -> str:
    """A bound is judged only at the target's own size: smaller runs are indications."""
    if not target["at_target"]:
        return "not measured at target size"
    return "met" if target["met"] else "NOT met"


def _short(n: int) -> str:
    return f"{n:.0e}".replace("e+0", "e")


def array_targets(doc: results.Document) -> list[dict[str, Any]]:
    """Target 1, per side: the fastest array way at 2 workers over the floor, at the target's
    N (10**8) when it was measured, else at the largest N that has both."""
    scaling = [b for b in doc["benchmarks"]
               if b.get("group") == "square" and b["phase"] == "scaling"
               and b["workload"] == "array"]
    floors = {b["items"]: b for b in scaling if b["side"] == "serial"}
    w = ARRAY_TARGET["workers"]
    out = []
    for side in ("multiprocessing", "mpi4py"):
        mine = [b for b in scaling if b["side"] == side and b["workers"] == w
                and not Way(b["pattern"], side, b["variant"]).naive and b["items"] in floors]
        if not mine:
            out.append({"side": side, "items": None})
            continue
        sizes = {b["items"] for b in mine}
        n = ARRAY_TARGET["items"] if ARRAY_TARGET["items"] in sizes else max(sizes)
        best = min((b for b in mine if b["items"] == n), key=_median)
        ratio = _median(best) / _median(floors[n])
        out.append({"side": side, "items": n, "way": _label(best), "ratio": ratio,
                    "met": ratio <= ARRAY_TARGET["bound"],
                    "at_target": n == ARRAY_TARGET["items"]})
    return out


def cost_targets(doc: results.Document) -> list[dict[str, Any]]:
    """Target 2, per pattern and side: the best speed-up over serial at 100 us per item and
    2 workers, in the crossover sweep."""
    found = [b for b in doc["benchmarks"]
             if b.get("group") == "square" and b["phase"] == "crossover"
             and b["cost_us"] == COST_TARGET["cost_us"]]
    serial = [b for b in found if b["side"] == "serial"]
    out = []
    for pattern in COST_TARGET_PATTERNS:
        for side in ("multiprocessing", "mpi4py"):
            mine = [b for b in found if (b["pattern"], b["side"]) == (pattern, side)
                    and b["workers"] == COST_TARGET["workers"]]
            if not (mine and serial):
                out.append({"pattern": pattern, "side": side, "items": None})
                continue
            best = min(mine, key=_median)
            speedup = _median(serial[0]) / _median(best)
            out.append({"pattern": pattern, "side": side, "items": best["items"],
                        "way": _label(best), "speedup": speedup,
                        "met": speedup >= COST_TARGET["bound"],
                        # More items only spread a Pool's start wider: those count too.
                        "at_target": best["items"] >= COST_TARGET["items"]})
    return out


def naive_gains(doc: results.Document) -> list[dict[str, Any]]:
    """What the expert's way buys: naive time over the fastest expert way, per side, at 2
    workers (else the most measured) and the largest N both reached."""
    scaling = [b for b in doc["benchmarks"]
               if b.get("group") == "square" and b["phase"] == "scaling"
               and b["workload"] == "array" and b["side"] != "serial"]
    out = []
    for side in ("multiprocessing", "mpi4py"):
        naive = {(b["workers"], b["items"]): b for b in scaling
                 if b["side"] == side and b["variant"] == "naive"}
        expert: dict[tuple[int, int], dict[str, Any]] = {}
        for b in scaling:
            key = (b["workers"], b["items"])
            if b["side"] == side and b["variant"] != "naive" and (
                key not in expert or _median(b) < _median(expert[key])
            ):
                expert[key] = b
        common = sorted(set(naive) & set(expert),
                        key=lambda k: (k[0] == ARRAY_TARGET["workers"], k[1]))
        if not common:
            continue
        key = common[-1]
        out.append({"side": side, "workers": key[0], "items": key[1],
                    "way": _label(expert[key]), "gain": _median(naive[key]) / _median(expert[key])})
    return out


def startup_targets(doc: results.Document) -> list[dict[str, Any]]:
    """Target 3, per pair of ``bench startup``: its verdict, or ``None`` when not measured.
    The pairs run at the target's own size (4 workers, 100 items) whatever the run's N."""
    found = {v["pair"]: v for v in startup.verdicts(doc)}
    return [{"pair": name, "verdict": found.get(name)} for name in startup.PAIR_NAMES]


def _startup_rows(doc: results.Document) -> list[list[str]]:
    rows = []
    for t in startup_targets(doc):
        what = (f"3. start-up {t['pair']}, ours / bare, {startup.RANKS} workers, "
                f"{startup.ITEMS} items")
        bound = f"<= {startup.TARGET:g}x"
        v = t["verdict"]
        if v is None:
            rows.append([what, "not measured", bound, "-"])
            continue
        rows.append([what, f"{v['ratio']:.2f}x ({v['runs']} runs each)", bound,
                     startup.verdict_text(v)])
    return rows


def _targets(doc: results.Document) -> list[str]:
    """The targets, each with its measured ratio, its bound, met or NOT met."""
    side_name = {"multiprocessing": "mp", "mpi4py": "mpi"}
    rows = []
    aim, w = ARRAY_TARGET["items"], ARRAY_TARGET["workers"]
    for t in array_targets(doc):
        what = f"1. array, fastest {side_name[t['side']]} way / floor, W={w}"
        if t["items"] is None:
            rows.append([what, "not measured", f"<= {ARRAY_TARGET['bound']:g}x", "-"])
            continue
        where = f"N={_short(t['items'])}" + ("" if t["items"] == aim else
                                             f" (target at N={_short(aim)})")
        rows.append([f"{what}, {where}", f"{t['ratio']:.2f}x ({t['way']})",
                     f"<= {ARRAY_TARGET['bound']:g}x", _status(t)])
    cost, w = COST_TARGET["cost_us"], COST_TARGET["workers"]
    for t in cost_targets(doc):
        what = (f"2. {t['pattern']} {side_name[t['side']]}, speed-up over serial, "
                f"{cost:g} us/item, W={w}")
        if t["items"] is None:
            rows.append([what, "not measured", f">= {COST_TARGET['bound']:g}x", "-"])
            continue
        where = f"{t['items']} items" + ("" if t["items"] >= COST_TARGET["items"] else
                                         f" (target at {COST_TARGET['items']})")
        rows.append([f"{what}, {where}", f"{t['speedup']:.2f}x ({t['way']})",
                     f">= {COST_TARGET['bound']:g}x", _status(t)])
    rows += _startup_rows(doc)
    for t in naive_gains(doc):
        rows.append([f"4. array {side_name[t['side']]}: naive / fastest expert, "
                     f"W={t['workers']}, N={_short(t['items'])}",
                     f"{t['gain']:.3g}x ({t['way']})", "shown", "-"])
    return [
        "targets, as measured in this run: ratios of medians",
        _tables.render(["target", "measured", "bound", "status"], rows),
        "",
    ]


def main(args: argparse.Namespace) -> int:
    doc = run(args)
    return results.save_and_print(doc, report(doc), args.output_dir)
