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
from types import ModuleType

from bench import compare, faults, report, results, show, startup, verify
from bench.latency import command as latency
from bench.square import command as square
from contract import cli, streams

# Every subcommand: its name, its module (which gives add_arguments(parser) and
# main(args) -> int), its line in --help.
COMMANDS: tuple[tuple[str, ModuleType, str], ...] = (
    ("verify", verify, "run every pattern both ways and compare the outputs"),
    ("latency", latency, "latency and bandwidth of every channel between two processes"),
    ("square", square, "the squaring workload through every pattern, both ways, vs the floor"),
    ("startup", startup, "start-up of the pool programs against bare equivalents (1.3x target)"),
    ("faults", faults, "every pattern made to fail, both ways: prompt end, nothing left behind"),
    ("report", report, "report.md and PNG plots from results files"),
    ("show", show, "print the tables of a results file"),
    ("compare", compare, "ratios between two results files"),
)


def build_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("bench", __doc__)
    parser.add_argument("--quick", action="store_true",
                        help="the main job in its shortest form")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module, summary in COMMANDS:
        module.add_arguments(commands.add_parser(name, help=summary))
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
    status = verify.main(parser.parse_args(["verify", "--workers", "2" if quick else "4", *flags]))
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
    return report.main(parser.parse_args(["report", *written]))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    modules = {name: module for name, module, _ in COMMANDS}
    try:
        if args.command is None:
            status = main_job(args.quick, args.quiet)
        else:
            status = modules[args.command].main(args)
        streams.flush_stdout()  # a stdout closed early (| head): 141, quietly (contract.streams)
        return status
    except BrokenPipeError as error:
        streams.end_if_stdout_closed(error)
        raise
    except results.ResultsError as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    except results.MeasurementFailed as error:
        print(f"{parser.prog}: measurement failed: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
