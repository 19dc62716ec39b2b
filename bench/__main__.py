"""``python -m bench``: the comparison harness.

    python -m bench                      the main job (for now: verify)
    python -m bench verify [PATTERN ...] [--workers 1 2 4]
    python -m bench latency [--reference] [--pin A B] [--sizes ...]
    python -m bench show FILE
    python -m bench compare OLD NEW
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bench import compare, contract, latency, results, verify
from bench.patterns import MODULES


def pattern(name: str) -> str:
    if name not in MODULES:
        raise argparse.ArgumentTypeError(
            f"unknown pattern {name!r} (known: {', '.join(MODULES)})"
        )
    return name


def build_parser() -> argparse.ArgumentParser:
    parser = contract.make_parser("bench", __doc__)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    check = commands.add_parser(
        "verify", help="run every pattern both ways and compare the outputs",
        description="Run every pattern both ways and compare the outputs byte for byte.",
    )
    check.add_argument(
        "patterns", nargs="*", type=pattern, metavar="PATTERN",
        help=f"patterns to check (default: all of {', '.join(MODULES)})",
    )
    check.add_argument(
        "--workers", nargs="+", type=contract.positive, default=[4], metavar="N",
        help="worker counts: processes on one side, ranks on the other (default 4)",
    )
    check.add_argument("--quiet", action="store_true", help="no progress bar")
    lat = commands.add_parser(
        "latency", help="latency and bandwidth of every channel between two processes",
        description=latency.__doc__.splitlines()[0] if latency.__doc__ else None,
    )
    latency.add_arguments(lat)
    show = commands.add_parser("show", help="print the tables of a results file")
    show.add_argument("file")
    diff = commands.add_parser("compare", help="ratios between two results files")
    diff.add_argument("old")
    diff.add_argument("new")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command in (None, "verify"):
            return verify.main(
                getattr(args, "patterns", []), getattr(args, "workers", [4]),
                getattr(args, "quiet", False),
            )
        if args.command == "latency":
            return latency.main(args)
        if args.command == "show":
            return compare.show(args.file)
        if args.command == "compare":
            return compare.compare(args.old, args.new)
    except results.ResultsError as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    except latency.MeasurementFailed as error:
        print(f"{parser.prog}: measurement failed: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    raise AssertionError(args.command)


if __name__ == "__main__":
    raise SystemExit(main())
