"""``python -m bench show FILE`` and ``python -m bench compare OLD NEW``."""

from __future__ import annotations

from bench import latency, results, square, startup, stats, tables


def show(path: str) -> int:
    doc = results.load(path)
    reports = {"latency": latency.report, "square": square.report, "startup": startup.report}
    if doc["kind"] in reports:
        print(reports[doc["kind"]](doc), end="")
        return 0
    raise results.ResultsError(f"{path}: no report for results of kind {doc['kind']!r}")


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
        a, b = stats.summary(earlier["values"]), stats.summary(bench["values"])
        real = stats.significant(earlier["values"], bench["values"], alpha)
        quiet += not real
        rows.append([
            bench["name"], tables.seconds(a["median"]), tables.seconds(b["median"]),
            stats.ratio_text(a["median"], b["median"]), "" if real else "not significant",
        ])
    if not rows:
        print("no benchmark in common")
        return 1
    print(f"old: {old_path} ({old['metadata']['date']}, {old['metadata']['host']})")
    print(f"new: {new_path} ({new['metadata']['date']}, {new['metadata']['host']})")
    print(tables.render(["benchmark", "old median", "new median", "change", ""], rows, right=1))
    print(f"{len(rows)} benchmarks compared; {quiet} within the noise "
          f"(Mann-Whitney U, p >= {alpha})")
    return 0
