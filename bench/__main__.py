"""``python -m bench``: the comparison harness.

    python -m bench [--quick]            the main job: verify, a short latency, a short
                                         square, then report.md and the plots
    python -m bench verify [PATTERN ...] [--workers 1 2 4]
    python -m bench latency [--reference] [--pin A B] [--sizes ...]
    python -m bench square [--items ...] [--workers 1 2 4] [--cost-us US]
    python -m bench startup [--runs 20]
    python -m bench faults [--patterns P ...] [--kinds raise kill] [--external P ...]
    python -m bench report FILE...
    python -m bench show FILE
    python -m bench compare OLD NEW
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bench import compare, contract, faults, latency, report, results, square, startup, verify
from bench.patterns import MODULES, pattern_name


def build_parser() -> argparse.ArgumentParser:
    parser = contract.make_parser("bench", __doc__)
    parser.add_argument("--quick", action="store_true",
                        help="the main job in its shortest form (about 15 s)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    check = commands.add_parser(
        "verify", help="run every pattern both ways and compare the outputs",
        description="Run every pattern both ways and compare the outputs byte for byte.",
    )
    check.add_argument(
        "patterns", nargs="*", type=pattern_name, metavar="PATTERN",
        help=f"patterns to check (default: all of {', '.join(MODULES)})",
    )
    check.add_argument(
        "--workers", nargs="+", type=contract.positive, default=[4], metavar="N",
        help="worker counts: processes on one side, ranks on the other (default 4)",
    )
    check.add_argument("--quiet", action="store_true", help="no progress bar")
    for name, module, summary in (
        ("latency", latency, "latency and bandwidth of every channel between two processes"),
        ("square", square, "the squaring workload through every pattern, both ways, vs the floor"),
        ("startup", startup,
         "start-up of the pool programs against bare equivalents (1.3x target)"),
        ("faults", faults,
         "every pattern made to fail, both ways: prompt end, nothing left behind"),
    ):
        # Each of these modules describes itself (its doc's first line) and its options.
        command = commands.add_parser(
            name, help=summary,
            description=module.__doc__.splitlines()[0] if module.__doc__ else None,
        )
        module.add_arguments(command)
    rep = commands.add_parser("report", help="report.md and PNG plots from results files")
    rep.add_argument("files", nargs="+", metavar="FILE")
    rep.add_argument("--output", metavar="DIR",
                     help="folder for report.md and the plots (default results/report-<time>)")
    show = commands.add_parser("show", help="print the tables of a results file")
    show.add_argument("file")
    diff = commands.add_parser("compare", help="ratios between two results files")
    diff.add_argument("old")
    diff.add_argument("new")
    return parser


# The main job's measurements: short forms of `bench latency` and `bench square`.
SHORT = {
    "latency": ["--sizes", "1", "1024", "65536", "1048576", "--repeat", "5", "--scale", "0.2"],
    "square": ["--items", "100", "10000", "--array-items", "1e6", "1e7",
               "--workers", "1", "2", "--crossover-costs", "0", "10", "100",
               "--crossover-items", "1000", "--repeat", "2", "--startup-runs", "5"],
}
QUICK = {
    "latency": ["--sizes", "1", "65536", "--repeat", "3", "--scale", "0.05", "--modes",
                "latency"],
    "square": ["--items", "1000", "--array-items", "1e6", "--workers", "2",
               "--crossover-costs", "100", "--crossover-items", "300", "--repeat", "1",
               "--startup-runs", "0"],
}


def main_job(quick: bool, quiet: bool) -> int:
    """verify, then short latency and square runs, then the report: what ``make run`` shows."""
    parser = build_parser()
    flags = ["--quiet"] if quiet else []
    workers = ["2"] if quick else ["4"]
    status = verify.main([], [int(w) for w in workers], quiet)
    if status != 0:
        print("the two ways disagree: no measurement until they do")
        return status
    written = []
    for command, module in (("latency", latency), ("square", square)):
        options = (QUICK if quick else SHORT)[command]
        args = parser.parse_args([command, *options, *flags])
        print()
        doc = module.run(args)
        written.append(str(results.save(doc, args.output_dir)))
        print(module.report(doc), end="")
    print()
    for path in written:
        print(f"results: {path}")
    return report.main(written, None)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            return main_job(args.quick, args.quiet)
        if args.command == "verify":
            return verify.main(
                getattr(args, "patterns", []), getattr(args, "workers", [4]),
                getattr(args, "quiet", False),
            )
        if args.command == "latency":
            return latency.main(args)
        if args.command == "square":
            return square.main(args)
        if args.command == "startup":
            return startup.main(args)
        if args.command == "faults":
            return faults.main(args)
        if args.command == "report":
            return report.main(args.files, args.output)
        if args.command == "show":
            return compare.show(args.file)
        if args.command == "compare":
            return compare.compare(args.old, args.new)
    except results.ResultsError as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    except results.MeasurementFailed as error:
        print(f"{parser.prog}: measurement failed: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    raise AssertionError(args.command)


if __name__ == "__main__":
    raise SystemExit(main())
