"""``python -m bench report FILE...``: report.md and PNG plots from results files.

Plots (matplotlib, Agg backend: no display needed): latency and bandwidth
against message size, one line per channel; time against N for each pattern,
one line per way and worker count, the floor dashed, the naive array ways
dotted; speed-up against workers;
and the crossover chart, each way's time over the serial floor's against the
per-item cost. A square document's text ends with its targets (start-up
included when it was measured); a startup document gives its table alone.
"""

from __future__ import annotations

import argparse
import datetime as _dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import _stats, results, startup
from bench.latency import command as latency
from bench.square import command as square

Figure = Any


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only, whatever DISPLAY says
    import matplotlib.pyplot as plt

    return plt


def _median(bench: dict[str, Any]) -> float:
    return _stats.summary(bench["values"])["median"]


def latency_plots(doc: results.Document, folder: Path) -> list[Path]:
    plt = _pyplot()
    written = []
    for mode, ylabel, convert in (
        ("latency", "one-way latency (us)", lambda s, t: t * 1e6),
        ("bandwidth", "bandwidth (MB/s)", lambda s, t: s / t / 1e6),
    ):
        benches = [b for b in doc["benchmarks"] if b.get("mode") == mode]
        if not benches:
            continue
        fig, ax = plt.subplots(figsize=(8, 5))
        # MPI solid, multiprocessing dashed, MPI across two hosts (--hosts) dotted.
        for chan in (*latency.CHANNELS, *(c + latency.ACROSS for c in latency.MPI_CHANNELS)):
            mine = sorted((b for b in benches if b["channel"] == chan), key=lambda b: b["size"])
            if mine:
                style = ":" if chan.endswith(latency.ACROSS) else (
                    "-" if chan in latency.MPI_CHANNELS else "--")
                ax.plot([b["size"] for b in mine],
                        [convert(b["size"], _median(b)) for b in mine], style, marker="o",
                        markersize=3, label=chan)
        ax.set(xscale="log", yscale="log", xlabel="message size (bytes)", ylabel=ylabel,
               title=f"{mode} between two processes ({doc['metadata']['host']})")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        written.append(_save(fig, folder / f"{mode}.png"))
    return written


def square_plots(doc: results.Document, folder: Path) -> list[Path]:
    plt = _pyplot()
    scaling = [b for b in doc["benchmarks"] if b.get("phase") == "scaling"]
    written = []
    patterns = [p for p in (*square.ITEM_PATTERNS, "array") if any(b["pattern"] == p
                                                                  for b in scaling)]
    if patterns:
        fig, axes = plt.subplots(1, len(patterns), figsize=(4.5 * len(patterns), 4.5),
                                 squeeze=False)
        for ax, pattern in zip(axes[0], patterns, strict=True):
            floor = square.FLOORS[square.workload(pattern)]
            floors = sorted((b for b in scaling if b["side"] == "serial"
                             and b["pattern"] == floor.pattern), key=lambda b: b["items"])
            ax.plot([b["items"] for b in floors], [_median(b) for b in floors], "k--",
                    label=f"{floor.label} (floor)")
            for way in square.WAYS:
                if way.pattern != pattern:
                    continue
                for w in sorted({b["workers"] for b in scaling}):
                    mine = sorted(
                        (b for b in scaling if (b["pattern"], b["side"], b["variant"],
                                                b["workers"]) == (*_key(way), w)),
                        key=lambda b: b["items"],
                    )
                    if mine:
                        ax.plot([b["items"] for b in mine], [_median(b) for b in mine],
                                ":" if way.naive else "-", marker="o", markersize=3,
                                label=f"{way.label} W={w}")
            ax.set(xscale="log", yscale="log", xlabel="N", ylabel="seconds per run",
                   title=pattern)
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=6)
        written.append(_save(fig, folder / "square-time.png"))
    written += _speedup_plot(scaling, folder) + _crossover_plot(doc, folder)
    return written


def _key(way: square.Way) -> tuple[str, str, str]:
    return way.pattern, way.side, way.variant


def _speedup_plot(scaling: Sequence[dict[str, Any]], folder: Path) -> list[Path]:
    plt = _pyplot()
    workers = sorted({b["workers"] for b in scaling if b["side"] != "serial"})
    if len(workers) < 2:
        return []
    fig, ax = plt.subplots(figsize=(7, 5))
    for way in square.WAYS:
        mine = {(b["workers"], b["items"]): b for b in scaling
                if (b["pattern"], b["side"], b["variant"]) == _key(way)}
        common = [n for n in sorted({n for _, n in mine}) if all((w, n) in mine for w in workers)]
        if not common:
            continue
        n = common[-1]
        one = _median(mine[(1, n)]) if (1, n) in mine else None
        if one is None:
            continue
        ax.plot(workers, [one / _median(mine[(w, n)]) for w in workers], marker="o",
                label=f"{way.label} (N={n:.0e})")
    ax.plot(workers, workers, "k:", label="ideal")
    ax.set(xlabel="workers", ylabel="speed-up over 1 worker", title="speed-up")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    return [_save(fig, folder / "speedup.png")]


def _crossover_plot(doc: results.Document, folder: Path) -> list[Path]:
    plt = _pyplot()
    found = [b for b in doc["benchmarks"] if b.get("phase") == "crossover"]
    serial = {b["cost_us"]: _median(b) for b in found if b["side"] == "serial"}
    if not serial:
        return []
    fig, ax = plt.subplots(figsize=(7, 5))
    for way in square.WAYS:
        mine = sorted((b for b in found if (b["pattern"], b["side"], b["variant"]) == _key(way)
                       and b["cost_us"] in serial), key=lambda b: b["cost_us"])
        if mine:
            # A cost of 0 cannot sit on a log axis: it is drawn at 0.1 us.
            ax.plot([max(b["cost_us"], 0.1) for b in mine],
                    [_median(b) / serial[b["cost_us"]] for b in mine], marker="o",
                    label=way.label)
    ax.axhline(1.0, color="k", linestyle="--", label="serial floor")
    ax.set(xscale="log", yscale="log", xlabel="per-item cost (us; 0 drawn at 0.1)",
           ylabel="time / serial time (below 1: 2 workers win)",
           title="crossover, 2 workers")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    return [_save(fig, folder / "crossover.png")]


def _save(fig: Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    _pyplot().close(fig)
    return path


def write(paths: Sequence[str], folder: str | None = None) -> tuple[Path, list[Path]]:
    """Write report.md and the plots of ``paths`` into ``folder``; return what was written."""
    docs = [(p, results.load(p)) for p in paths]
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path(folder) if folder else Path("results") / f"report-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    plots: list[Path] = []
    sections = ["# mp-vs-mpi report", ""]
    for path, doc in docs:
        if doc["kind"] == "latency":
            made, text, title = latency_plots(doc, out), latency.report(doc), "Channels"
        elif doc["kind"] == "square":
            made, text, title = square_plots(doc, out), square.report(doc), "Squaring"
        elif doc["kind"] == "startup":
            made, text, title = [], startup.report(doc), "Start-up"
        else:
            raise results.ResultsError(f"{path}: no report for results of kind {doc['kind']!r}")
        plots += made
        sections += [f"## {title} (`{path}`)", "", "```", text.rstrip(), "```", ""]
        sections += [f"![{p.stem}]({p.name})" for p in made] + [""]
    report = out / "report.md"
    report.write_text("\n".join(sections))
    return report, plots


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("--output", metavar="DIR",
                        help="folder for report.md and the plots (default results/report-<time>)")


def main(args: argparse.Namespace) -> int:
    report, plots = write(args.files, args.output)
    print(f"report: {report}")
    for plot in plots:
        print(f"plot:   {plot}")
    return 0
