"""python -m bench latency end to end: every channel, both modes, JSON that validates."""

import math

import pytest

from bench import launch, results
from bench.latency import command as latency


@pytest.mark.timeout(240)
def test_tiny_run_of_every_channel_writes_a_valid_document(tmp_path):
    done = launch.run(
        launch.python(
            "bench", "latency", "--sizes", "1", "64", "--scale", "0.01", "--repeat", "2",
            "--warmup", "1", "--reference", "--quiet", "--output-dir", str(tmp_path),
        ),
        timeout=200,
    )
    assert done.returncode == 0, done.stderr
    [path] = tmp_path.glob("latency-*.json")
    assert done.stdout.rstrip().endswith(f"written: {path}")
    doc = results.load(path)
    names = {b["name"] for b in doc["benchmarks"]}
    assert names == {
        f"{mode}/{chan}/{size}"
        for mode in latency.MODES for chan in latency.CHANNELS for size in (1, 64)
    }
    for bench in doc["benchmarks"]:
        assert len(bench["values"]) == 2 and len(bench["warmup"]) == 1
        assert all(v > 0 and math.isfinite(v) for v in bench["values"] + bench["warmup"])
        assert bench["iterations"] >= 1
        assert bench["placement"]["pinned"] is False
    assert [r["size"] for r in doc["reference"]] == [1, 64]
    assert all(r["mean"] > 0 for r in doc["reference"])
    for chan in latency.CHANNELS:
        assert chan in done.stdout
    assert "ratio = ours / reference" in done.stdout
    assert "processes not pinned" in done.stdout
    # show reprints the same tables from the file alone.
    shown = launch.run(launch.python("bench", "show", str(path)), timeout=60)
    assert shown.returncode == 0 and shown.stdout in done.stdout


@pytest.mark.parametrize(
    "args",
    [["--channels", "telepathy"], ["--sizes", "0"], ["--sizes", "abc"], ["--repeat", "0"],
     ["--pin", "0"], ["--scale", "-1"], ["--modes", "both"]],
)
def test_bad_arguments_exit_2_with_one_line(args):
    done = launch.run(launch.python("bench", "latency", *args), timeout=60)
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith("python -m bench latency: error:")
