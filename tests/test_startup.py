"""Start-up: the pool programs import only what they use, and ``bench startup`` measures them.

The import checks read ``python -X importtime``, which names every module a process
imports (its pool workers too: they inherit the flag). No speed is asserted here: the
benchmark says how fast, these tests say what is loaded and that the benchmark works.
"""

import argparse
import re
import sys

import pytest

from bench import launch, report, results, startup
from contract import cli

IMPORT_LINE = re.compile(r"^import time:\s+\d+\s+\|\s+\d+\s+\|\s*(\S+)\s*$")


def imported(*argv: str) -> set[str]:
    """Every module ``python -X importtime argv`` imports; the program must succeed."""
    done = launch.run([sys.executable, "-X", "importtime", *argv], timeout=60)
    assert done.returncode == 0, done.stderr
    names = {m[1] for m in map(IMPORT_LINE.match, done.stderr.splitlines()) if m}
    assert "site" in names, done.stderr  # the flag worked: we are reading its output
    return names


def family(names: set[str], top: str) -> set[str]:
    return {n for n in names if n == top or n.startswith(top + ".")}


def test_shared_memory_pool_imports_neither_numpy_nor_mpi4py():
    names = imported("-m", "shared_memory.pool", "--items", "1")
    assert "multiprocessing.pool" in names  # it did start a Pool
    assert family(names, "numpy") == set()
    assert family(names, "mpi4py") == set()


def test_message_passing_pool_imports_no_numpy_and_futures_only_for_executor():
    # One rank needs no mpiexec (a singleton MPI process).
    names = imported("-m", "message_passing.pool", "--items", "1")
    assert "mpi4py.MPI" in names
    assert family(names, "numpy") == set()
    assert family(names, "mpi4py.futures") == set()
    assert family(names, "concurrent") == set()
    with_executor = imported("-m", "message_passing.pool", "--items", "1", "--executor")
    assert "mpi4py.futures" in with_executor
    assert family(with_executor, "numpy") == set()


def test_contract_imports_nothing_beyond_argparse():
    # Every pattern imports these: they must not bring dataclasses, typing, numpy...
    # Measured against what its stdlib imports bring anyway, whatever the Python version.
    baseline = imported("-c", "import argparse, collections.abc, os, sys, time")
    names = imported("-c", "import contract.cli, contract.faults, contract.streams, "
                           "contract.tracing, contract.unit")
    assert names - baseline == {
        "contract", "contract.cli", "contract.faults", "contract.streams", "contract.tracing",
        "contract.unit",
    }


def parse(*argv: str) -> argparse.Namespace:
    parser = cli.make_parser("bench startup", startup.__doc__)
    startup.add_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.mark.timeout(120)
def test_tiny_run_writes_a_valid_document_and_a_verdict_per_pair(tmp_path):
    args = parse("--runs", "2", "--warmup", "1", "--quiet", "--output-dir", str(tmp_path))
    doc = startup.run(args)
    path = results.save(doc, args.output_dir)
    loaded = results.load(path)
    assert loaded["kind"] == "startup"
    benches = loaded["benchmarks"]
    assert {(b["pair"], b["role"]) for b in benches} == {
        (p, r) for p in startup.PAIR_NAMES for r in ("ours", "baseline")
    }
    for b in benches:
        assert b["group"] == "startup" and b["name"] == f"startup/{b['pair']}/{b['role']}"
        assert len(b["values"]) == 2 and len(b["warmup"]) == 1
        assert all(v > 0 for v in b["values"] + b["warmup"])
        assert b["command"] and all(isinstance(a, str) for a in b["command"])
    text = startup.report(loaded)
    for pair in startup.PAIR_NAMES:
        [row] = [line for line in text.splitlines() if line.startswith(pair + " ")]
        assert re.search(r"\b(met|NOT met)\b", row), row
        assert "1.3x" in row


def fake(ours: list[float], baseline: list[float]) -> results.Document:
    meta = {"date": "d", "host": "h", "cpu_model": "c", "cpu_count": 2, "python": "p",
            "mpi4py": "m", "mpi_library": "MPI", "start_method": "fork"}
    benches = [
        {"name": f"startup/x/{role}", "group": "startup", "pair": "x", "role": role,
         "values": values, "warmup": [], "command": ["true"]}
        for role, values in (("ours", ours), ("baseline", baseline))
    ]
    return {"schema": results.SCHEMA, "version": results.VERSION, "kind": "startup",
            "metadata": meta, "settings": {"runs": len(ours), "warmup": 0, "target": 1.3},
            "benchmarks": benches}


def test_verdicts_follow_the_ratio_of_medians():
    base = [1.0 + i / 100 for i in range(20)]
    [slow] = startup.verdicts(fake([2 * v for v in base], base))
    assert slow["ratio"] == pytest.approx(2.0) and not slow["met"]
    assert slow["p_difference"] < 0.05 and slow["p_target"] < 0.05
    [fast] = startup.verdicts(fake([1.1 * v for v in base], base))
    assert fast["met"] and fast["p_target"] < 0.05
    assert "NOT met" in startup.report(fake([2 * v for v in base], base))
    assert " met " in startup.report(fake(base, base))


def test_the_table_counts_runs_from_the_document_and_is_absent_without_pairs():
    base = [1.0 + i / 100 for i in range(5)]
    doc = fake(base, base)
    doc["settings"] = {}  # as in a square document: the counts come from the benchmarks
    [v] = startup.verdicts(doc)
    assert (v["runs"], v["warmup"], v["target"]) == (5, 0, startup.TARGET)
    lines = startup.table(doc, "title")
    assert lines[0].startswith("title, wall seconds: median of 5 runs each ")
    doc["benchmarks"] = doc["benchmarks"][:1]  # ours without its baseline: no pair
    assert startup.verdicts(doc) == [] and startup.table(doc) == []
    assert startup.report(doc).rstrip().endswith("start method fork")


def test_report_md_takes_a_startup_file(tmp_path):
    base = [1.0 + i / 100 for i in range(10)]
    path = results.save(fake([1.1 * v for v in base], base), tmp_path)
    md, plots = report.write([str(path)], str(tmp_path / "out"))
    text = md.read_text()
    assert plots == []
    assert f"## Start-up (`{path}`)" in text
    assert re.search(r"^x +.* 1\.10x +1\.3x +met ", text, re.MULTILINE), text


@pytest.mark.parametrize("argv", [["--runs", "0"], ["--warmup", "-1"], ["--pairs", "nope"]])
def test_bad_arguments_exit_2(argv):
    with pytest.raises(SystemExit) as exit_:
        parse(*argv)
    assert exit_.value.code == 2
