"""The harness core: results documents, statistics, show and compare."""

import json
from pathlib import Path

import pytest

from bench import _stats as stats
from bench import launch, results

FIXTURES = Path(__file__).parent / "fixtures"
OLD, NEW = str(FIXTURES / "latency-old.json"), str(FIXTURES / "latency-new.json")


def test_round_trip_keeps_every_value_and_the_metadata(tmp_path):
    bench = {"name": "x/1", "values": [1.5e-6, 2.5e-6], "warmup": [9e-6]}
    doc = results.document("latency", [bench], settings={"sizes": [1]})
    path = results.save(doc, tmp_path)
    loaded = results.load(path)
    assert loaded == json.loads(json.dumps(doc))
    meta = loaded["metadata"]
    for key in ("date", "host", "cpu_model", "cpu_count", "python", "numpy", "mpi4py",
                "mpi_library", "start_method", "git"):
        assert meta[key] not in (None, ""), key
    assert "MPI" in meta["mpi_library"]
    assert set(meta["git"]) == {"commit", "dirty"}


def test_save_never_overwrites(tmp_path):
    doc = results.document("latency", [])
    paths = {results.save(doc, tmp_path) for _ in range(3)}
    assert len(paths) == 3
    assert all(p.exists() for p in paths)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such results file"),
        ('{"schema": "mp-vs-mpi/results", "version": 1, "bench', "not JSON, or truncated"),
        ('{"schema": "mp-vs-mpi/results", "version": 99, "benchmarks": []}', "version 99"),
        ('{"something": "else"}', "not a results file of this project"),
        ('{"schema": "mp-vs-mpi/results", "version": 1}', "no list of benchmarks"),
    ],
)
def test_load_refuses_clearly(tmp_path, content, message):
    path = tmp_path / "r.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(results.ResultsError, match=message):
        results.load(path)


def test_summary_is_median_and_quartiles():
    s = stats.summary([1.0, 2.0, 3.0, 4.0, 100.0])
    assert (s["median"], s["q1"], s["q3"], s["iqr"]) == (3.0, 2.0, 4.0, 2.0)
    assert s["mean"] == 22.0


def test_mann_whitney_separates_and_does_not_invent():
    # Fully separated samples of five: exact p = 0.0079; the normal approximation gives 0.012.
    separated = stats.mann_whitney_p([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])
    assert separated == pytest.approx(0.0122, abs=1e-3)
    assert stats.mann_whitney_p([1, 2, 3, 4, 5], [1, 2, 3, 4, 5]) == pytest.approx(1.0)
    assert not stats.significant([1, 2, 3], [2, 3, 1])


def test_ratio_text():
    assert stats.ratio_text(2.0, 1.0) == "2.00x faster"
    assert stats.ratio_text(1.0, 1.1) == "1.10x slower"


def test_compare_prints_ratios_and_flags_noise():
    done = launch.run(launch.python("bench", "compare", OLD, NEW), timeout=60)
    assert done.returncode == 0, done.stderr
    lines = {line.split()[0]: line for line in done.stdout.splitlines() if line.startswith("lat")}
    # pipe-bytes: median 10.5 us -> 5.25 us, clearly beyond the noise.
    assert "2.00x faster" in lines["latency/pipe-bytes/1"]
    assert "not significant" not in lines["latency/pipe-bytes/1"]
    # mpi-buffer: the same distribution twice.
    assert "not significant" in lines["latency/mpi-buffer/1"]
    assert "2 benchmarks compared; 1 within the noise" in done.stdout


def test_show_prints_the_tables_with_metadata():
    done = launch.run(launch.python("bench", "show", NEW), timeout=60)
    assert done.returncode == 0, done.stderr
    assert "fixture-host: Fixture CPU, 2 CPUs" in done.stdout
    assert "not pinned" in done.stdout
    assert "pipe-bytes" in done.stdout and "mpi-buffer" in done.stdout


@pytest.mark.parametrize("command", [["show", "nowhere.json"], ["compare", OLD, "nowhere.json"]])
def test_missing_file_is_a_one_line_error_exit_2(command):
    done = launch.run(launch.python("bench", *command), timeout=60)
    assert done.returncode == 2
    assert done.stderr == "python -m bench: error: nowhere.json: no such results file\n"


def test_wrong_version_file_exit_2(tmp_path):
    bad = tmp_path / "v2.json"
    bad.write_text(json.dumps({**json.loads(Path(NEW).read_text()), "version": 2}))
    done = launch.run(launch.python("bench", "show", str(bad)), timeout=60)
    assert done.returncode == 2
    assert "results file version 2; this harness reads version 1" in done.stderr
