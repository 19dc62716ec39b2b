"""``python -m bench``: the comparison harness.

    python -m bench                 the main job (for now: verify)
    python -m bench verify [PATTERN ...] [--workers 1 2 4]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from bench import contract, verify
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in (None, "verify"):
        return verify.main(getattr(args, "patterns", []), getattr(args, "workers", [4]))
    raise AssertionError(args.command)


if __name__ == "__main__":
    raise SystemExit(main())
