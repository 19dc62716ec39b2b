"""python -m bench square and report: small runs, checked results, ratios, plots."""

import json
from pathlib import Path

import pytest

from bench import launch, results, square

PATTERNS = ["pool", "queue", "pipe", "manager"]


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("square")
    done = launch.run(
        launch.python(
            "bench", "square", "--patterns", *PATTERNS, "--items", "50", "200",
            "--workers", "1", "2", "--crossover-costs", "0", "200", "--crossover-items", "40",
            "--repeat", "1", "--warmup", "0", "--quiet", "--output-dir", str(folder),
        ),
        timeout=280,
    )
    assert done.returncode == 0, done.stderr
    [path] = folder.glob("square-*.json")
    return done, path


@pytest.mark.timeout(300)
def test_every_way_measured_and_checked(small_run):
    done, path = small_run
    doc = results.load(path)
    ways = {square.Way(b["pattern"], b["side"], b["variant"]) for b in doc["benchmarks"]}
    expected = {w for w in square.WAYS if w.pattern in PATTERNS} | {square.FLOORS["ints"]}
    assert ways == expected
    for bench in doc["benchmarks"]:
        assert bench["values"] and all(v > 0 for v in bench["values"])
        assert bench["first_result"] >= bench["values"][0]
    # A measurement whose result was wrong exits non-zero: nothing unchecked lands here.
    assert doc["settings"]["crossover_costs"] == [0.0, 200.0]


@pytest.mark.timeout(300)
def test_report_has_ratios_speedups_startup_and_crossover(small_run):
    done, _ = small_run
    out = done.stdout
    assert "(ratio to the ints serial floor)" in out
    assert "pool mp              1" in out and "x)" in out
    assert "speed-up against 1 worker" in out and "W=2" in out
    assert "start-up: launch to first result" in out
    assert "crossover: the smallest per-item cost" in out
    for way in square.WAYS:
        if way.pattern in PATTERNS:
            assert way.label in out


@pytest.mark.timeout(300)
def test_report_command_writes_markdown_and_plots(small_run, tmp_path):
    _, path = small_run
    latency_doc = tmp_path / "latency.json"
    fixture = json.loads((Path(__file__).parent / "fixtures" / "latency-new.json").read_text())
    latency_doc.write_text(json.dumps(fixture))
    folder = tmp_path / "report"
    done = launch.run(
        launch.python("bench", "report", str(path), str(latency_doc), "--output", str(folder)),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report = (folder / "report.md").read_text()
    for name in ("latency", "square-time", "speedup", "crossover"):
        png = folder / f"{name}.png"
        assert png.stat().st_size > 1000 and png.read_bytes()[:4] == b"\x89PNG"
        assert f"({name}.png)" in report
    for pattern in PATTERNS:
        assert pattern in report
    assert done.stdout.splitlines()[0] == f"report: {folder / 'report.md'}"


@pytest.mark.parametrize(
    "args", [["--patterns", "nope"], ["--items", "0"], ["--workers", "0"], ["--cost-us", "-1"],
             ["--items", "1.5"]],
)
def test_bad_arguments_exit_2(args):
    done = launch.run(launch.python("bench", "square", *args), timeout=60)
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1, done.stderr


def test_report_of_a_missing_file_exit_2():
    done = launch.run(launch.python("bench", "report", "nowhere.json"), timeout=60)
    assert done.returncode == 2
    assert done.stderr == "python -m bench: error: nowhere.json: no such results file\n"
