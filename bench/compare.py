"""``python -m bench compare OLD NEW``: per benchmark in both, the change and whether it is real."""

from __future__ import annotations

import argparse

from bench import _stats, _tables, results


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("old")
    parser.add_argument("new")


def main(args: argparse.Namespace) -> int:
    return compare(args.old, args.new)


def compare(old_path: str, new_path: str, alpha: float = 0.05) -> int:
    """Per benchmark present in both: the ratio of medians, and whether it beats the noise."""
    old, new = results.load(old_path), results.load(new_path)
    before = {b["name"]: b for b in old["benchmarks"]}
    rows = []
    quiet = 0
    for bench in new["benchmarks"]:
        earlier = before.get(bench["name"])
        if earlier is None:
            continue
        a, b = _stats.summary(earlier["values"]), _stats.summary(bench["values"])
        real = _stats.significant(earlier["values"], bench["values"], alpha)
        quiet += not real
        rows.append([
            bench["name"], _tables.seconds(a["median"]), _tables.seconds(b["median"]),
            _stats.ratio_text(a["median"], b["median"]), "" if real else "not significant",
        ])
    if not rows:
        print("no benchmark in common")
        return 1
    print(f"old: {old_path} ({old['metadata']['date']}, {old['metadata']['host']})")
    print(f"new: {new_path} ({new['metadata']['date']}, {new['metadata']['host']})")
    print(_tables.render(["benchmark", "old median", "new median", "change", ""], rows, right=1))
    print(f"{len(rows)} benchmarks compared; {quiet} within the noise "
          f"(Mann-Whitney U, p >= {alpha})")
    return 0
