"""``python -m bench show FILE``: the tables of a results file, as its subcommand printed them."""

from __future__ import annotations

import argparse

from bench import results, startup
from bench.latency import command as latency
from bench.square import command as square


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file")


def main(args: argparse.Namespace) -> int:
    return show(args.file)


def show(path: str) -> int:
    doc = results.load(path)
    reports = {"latency": latency.report, "square": square.report, "startup": startup.report}
    if doc["kind"] in reports:
        print(reports[doc["kind"]](doc), end="")
        return 0
    raise results.ResultsError(f"{path}: no report for results of kind {doc['kind']!r}")
