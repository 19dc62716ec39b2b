"""python -m bench square and report: small runs, checked results, ratios, plots."""

import argparse
import copy
import json
import re
from pathlib import Path

import numpy as np
import pytest

from bench import launch, results, startup
from bench.square import command as square
from bench.square import worker as square_run
from contract import unit

PATTERNS = ["pool", "queue", "pipe", "manager", "array"]


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("square")
    done = launch.run(
        launch.python(
            "bench", "square", "--patterns", *PATTERNS, "--items", "50", "200",
            "--array-items", "1000", "2e4",
            "--workers", "1", "2", "--crossover-costs", "0", "100", "--crossover-items", "40",
            "--repeat", "1", "--warmup", "0", "--startup-runs", "2", "--quiet",
            "--output-dir", str(folder),
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
    squares = [b for b in doc["benchmarks"] if b["group"] == "square"]
    ways = {square.Way(b["pattern"], b["side"], b["variant"]) for b in squares}
    expected = {w for w in square.WAYS if w.pattern in PATTERNS} | set(square.FLOORS.values())
    assert ways == expected
    for bench in squares:
        assert bench["values"] and all(v > 0 for v in bench["values"])
        assert bench["first_result"] >= bench["values"][0] + bench["setup"]
    # A measurement whose result was wrong exits non-zero: nothing unchecked lands here.
    assert doc["settings"]["crossover_costs"] == [0.0, 100.0]
    # The crossover has the MPI queue whose rank 0 works too, at 2 workers.
    assert any(b["phase"] == "crossover" and b["variant"] == "producer-works"
               for b in squares)
    # Target 3: bench startup's pairs, in the same document, with its runs and warm-up.
    starts = [b for b in doc["benchmarks"] if b["group"] == "startup"]
    assert {(b["pair"], b["role"]) for b in starts} == {
        (p, r) for p in startup.PAIR_NAMES for r in ("ours", "baseline")
    }
    for b in starts:
        assert len(b["values"]) == 2 and all(v > 0 for v in b["values"])
        assert len(b["warmup"]) == 1  # --warmup 0, but the pairs always warm up once
    assert doc["settings"]["startup_runs"] == 2


@pytest.mark.timeout(300)
def test_report_has_ratios_speedups_startup_and_crossover(small_run):
    done, _ = small_run
    out = done.stdout
    assert "(ratio to the ints serial floor)" in out
    assert re.search(r"^pool mp +1 ", out, re.MULTILINE) and "x)" in out
    assert "speed-up against 1 worker" in out and "W=2" in out
    assert "start-up: launch to first result" in out
    assert "crossover: the smallest per-item cost" in out
    for way in square.WAYS:
        if way.pattern in PATTERNS:
            assert way.label in out
    assert "array mp naive" in out and "array mpi naive" in out


@pytest.mark.timeout(300)
def test_report_ends_with_the_targets(small_run):
    done, _ = small_run
    out = done.stdout
    section = out[out.index("targets, as measured"):]
    rows = section.splitlines()[3:]
    # Measured below the targets' sizes: never judged met or NOT met.
    assert rows[0].startswith("1. array, fastest mp way / floor, W=2, N=2e4 (target at N=1e8)")
    assert rows[1].startswith("1. array, fastest mpi way / floor, W=2, N=2e4")
    for row in rows[:2]:
        assert row.rstrip().endswith(" <= 1.5x  not measured at target size")
    for row, what in zip(rows[2:6], ["pool mp", "pool mpi", "queue mp", "queue mpi"],
                         strict=True):
        assert row.startswith(f"2. {what}, speed-up over serial, 100 us/item, W=2, 40 items "
                              "(target at 5000)")
        assert row.rstrip().endswith(" >= 1.8x  not measured at target size")
    # Start-up runs at its target's own size (4 workers, 100 items), so it is judged.
    for row, pair in zip(rows[6:8], startup.PAIR_NAMES, strict=True):
        assert row.startswith(f"3. start-up {pair}, ours / bare, 4 workers, 100 items ")
        assert re.search(r" \d+\.\d\dx \(2 runs each\) +<= 1\.3x  (met|NOT met)"
                         r"( \(within noise\))?$", row.rstrip()), row
    assert rows[8].startswith("4. array mp: naive / fastest expert, W=2, N=2e4")
    assert rows[9].startswith("4. array mpi: naive / fastest expert, W=2, N=2e4")
    assert "written: " in section  # the last section
    # The pairs' own table comes before the targets, as bench startup prints it.
    table = out[out.index("start-up of the pool programs"):out.index("targets, as measured")]
    assert re.search(r"^mpi-pool .* 1\.3x ", table, re.MULTILINE)
    assert re.search(r"^mp-pool .* 1\.3x ", table, re.MULTILINE)


def _without(doc, keep):
    thinned = copy.deepcopy(doc)
    thinned["benchmarks"] = [b for b in doc["benchmarks"] if keep(b)]
    return thinned


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    "keep",
    [
        lambda b: b.get("phase") == "scaling",  # no crossover, no start-up
        lambda b: b.get("workload") != "array",  # no array
        lambda b: b.get("workers") == 2,  # --quick: no W=1, no floors, no start-up
        lambda b: b.get("side") == "serial",  # floors only
        lambda b: b["group"] == "square",  # --startup-runs 0, or a file from before target 3
        lambda b: False,  # nothing at all
    ],
    ids=["no-crossover", "no-array", "only-w2", "floors-only", "no-startup", "empty"],
)
def test_report_copes_with_absent_measurements(small_run, keep):
    _, path = small_run
    text = square.report(_without(results.load(path), keep))
    assert text.rstrip().splitlines()[-1].endswith(
        ("met", "-", "shown    -", "(within noise)", "at target size"))
    assert "targets, as measured" in text
    assert len(re.findall(r"^3\. start-up ", text, re.MULTILINE)) == 2


@pytest.mark.timeout(300)
def test_targets_say_not_measured_when_absent(small_run):
    _, path = small_run
    text = square.report(_without(results.load(path), lambda b: b.get("phase") == "scaling"))
    assert re.search(r"^2\. pool mp, speed-up over serial, 100 us/item, W=2 +not measured ",
                     text, re.MULTILINE)
    text = square.report(_without(results.load(path), lambda b: b["group"] == "square"
                                   and b["variant"] != "window"
                                   and not (b["side"] == "mpi4py" and b["pattern"] == "array")))
    assert re.search(r"^1\. array, fastest mpi way / floor, W=2 +not measured ", text,
                     re.MULTILINE)


@pytest.mark.timeout(300)
def test_a_square_file_from_before_target_3_loads_and_says_not_measured(small_run, tmp_path):
    _, path = small_run
    old = _without(results.load(path), lambda b: b["group"] == "square")
    del old["settings"]["startup_runs"]
    written = results.save(old, tmp_path)
    text = square.report(results.load(written))  # same version: it loads as it always did
    for pair in startup.PAIR_NAMES:
        assert re.search(rf"^3\. start-up {pair}, .* +not measured +<= 1\.3x +-$", text,
                         re.MULTILINE), text
    assert "start-up of the pool programs" not in text


def bench(phase, workload, pattern, side, variant, workers, items, cost, seconds):
    return {"group": "square", "phase": phase, "workload": workload, "pattern": pattern,
            "side": side, "variant": variant, "workers": workers, "items": items,
            "cost_us": cost, "values": [seconds]}


def start(pair, role, values):
    return {"group": "startup", "pair": pair, "role": role, "values": values,
            "warmup": [values[0]], "text": role}


def test_targets_judge_against_their_bounds():
    doc = {"benchmarks": [
        bench("scaling", "array", "array", "serial", "", 1, 10**8, 0, 0.050),
        bench("scaling", "array", "array", "multiprocessing", "", 2, 10**8, 0, 0.070),
        bench("scaling", "array", "array", "multiprocessing", "naive", 2, 10**8, 0, 7.0),
        bench("scaling", "array", "array", "mpi4py", "", 2, 10**8, 0, 0.200),
        bench("scaling", "array", "array", "mpi4py", "window", 2, 10**8, 0, 0.080),
        bench("crossover", "ints", "ints", "serial", "", 1, 3000, 100.0, 0.300),
        bench("crossover", "ints", "pool", "multiprocessing", "", 2, 3000, 100.0, 0.160),
        bench("crossover", "ints", "queue", "mpi4py", "", 2, 3000, 100.0, 0.300),
        bench("crossover", "ints", "queue", "mpi4py", "producer-works", 2, 3000, 100.0, 0.170),
    ]}
    arrays = {t["side"]: t for t in square.array_targets(doc)}
    assert arrays["multiprocessing"]["ratio"] == pytest.approx(1.4)
    assert arrays["multiprocessing"]["met"]  # the naive way is never the "fastest"
    assert arrays["mpi4py"]["way"] == "array mpi --window"
    assert not arrays["mpi4py"]["met"]  # 1.6x
    costs = {(t["pattern"], t["side"]): t for t in square.cost_targets(doc)}
    assert costs[("pool", "multiprocessing")]["speedup"] == pytest.approx(1.875)
    assert costs[("pool", "multiprocessing")]["met"]
    assert costs[("queue", "mpi4py")]["way"] == "queue mpi --producer-works"
    assert not costs[("queue", "mpi4py")]["met"]  # 1.76x
    assert costs[("pool", "mpi4py")]["items"] is None  # not measured
    [gain] = square.naive_gains(doc)
    assert gain["gain"] == pytest.approx(100.0)


def test_a_target_is_judged_only_at_its_own_size():
    doc = {"settings": {}, "benchmarks": [
        # Below the target's N, far over the bound: not judged.
        bench("scaling", "array", "array", "serial", "", 1, 10**7, 0, 0.005),
        bench("scaling", "array", "array", "multiprocessing", "", 2, 10**7, 0, 0.050),
        # The mpi side at the target's N and beyond: judged at the target's.
        bench("scaling", "array", "array", "serial", "", 1, 10**8, 0, 0.050),
        bench("scaling", "array", "array", "serial", "", 1, 2 * 10**8, 0, 0.100),
        bench("scaling", "array", "array", "mpi4py", "", 2, 10**8, 0, 0.060),
        bench("scaling", "array", "array", "mpi4py", "", 2, 2 * 10**8, 0, 0.500),
        # Fewer items than the target's at 100 us: not judged; as many: judged.
        bench("crossover", "ints", "ints", "serial", "", 1, 3000, 100.0, 0.300),
        bench("crossover", "ints", "pool", "multiprocessing", "", 2, 3000, 100.0, 0.100),
    ]}
    arrays = {t["side"]: t for t in square.array_targets(doc)}
    assert arrays["multiprocessing"]["items"] == 10**7
    assert not arrays["multiprocessing"]["at_target"]
    assert arrays["mpi4py"]["items"] == 10**8 and arrays["mpi4py"]["at_target"]
    assert arrays["mpi4py"]["met"]
    [pool_mp, *_] = square.cost_targets(doc)
    assert pool_mp["speedup"] == pytest.approx(3.0) and not pool_mp["at_target"]
    text = "\n".join(square._targets(doc))
    assert re.search(r"^1\. array, fastest mp way .* 10\.00x .* not measured at target size$",
                     text, re.MULTILINE), text
    assert re.search(r"^1\. array, fastest mpi way / floor, W=2, N=1e8 .* met$", text,
                     re.MULTILINE), text
    assert re.search(r"^2\. pool mp, .* 3000 items \(target at 5000\) .* 3\.00x .* "
                     r"not measured at target size$", text, re.MULTILINE), text
    for b in doc["benchmarks"]:
        if b["phase"] == "crossover":
            b["items"] = 5000
    text = "\n".join(square._targets(doc))
    assert re.search(r"^2\. pool mp, .* W=2, 5000 items +3\.00x \(pool mp\) +>= 1\.8x +met$",
                     text, re.MULTILINE), text
    for b in doc["benchmarks"]:
        if b["phase"] == "crossover" and b["side"] != "serial":
            b["values"] = [0.200]  # 1.5x at the target's size: a real miss
    text = "\n".join(square._targets(doc))
    assert re.search(r"^2\. pool mp, .* 1\.50x \(pool mp\) +>= 1\.8x +NOT met$", text,
                     re.MULTILINE), text


def test_startup_target_rows_follow_the_verdicts():
    base = [0.100 + i / 1000 for i in range(10)]
    doc = {"settings": {}, "benchmarks": [
        start("mpi-pool", "ours", [2 * v for v in base]), start("mpi-pool", "baseline", base),
        start("mp-pool", "ours", [1.1 * v for v in base]), start("mp-pool", "baseline", base),
    ]}
    found = {t["pair"]: t["verdict"] for t in square.startup_targets(doc)}
    assert found["mpi-pool"]["ratio"] == pytest.approx(2.0) and not found["mpi-pool"]["met"]
    assert found["mp-pool"]["ratio"] == pytest.approx(1.1) and found["mp-pool"]["met"]
    text = "\n".join(square._targets(doc))
    assert re.search(r"^3\. start-up mpi-pool, ours / bare, 4 workers, 100 items +2\.00x "
                     r"\(10 runs each\) +<= 1\.3x +NOT met$", text, re.MULTILINE), text
    assert re.search(r"^3\. start-up mp-pool, .* 1\.10x \(10 runs each\) +<= 1\.3x +met$",
                     text, re.MULTILINE), text
    # One pair alone (its partner's run missing): the other says so.
    doc["benchmarks"] = doc["benchmarks"][:3]
    text = "\n".join(square._targets(doc))
    assert re.search(r"^3\. start-up mp-pool, .* +not measured +<= 1\.3x +-$", text,
                     re.MULTILINE), text


def test_no_naive_leaves_the_naive_ways_out():
    parser = argparse.ArgumentParser()
    square.add_arguments(parser)
    every = square.plan(parser.parse_args(["--patterns", "array", "--workers", "2"]))
    assert {way.label for way, *_ in every} >= {"array mp naive", "array mpi naive"}
    expert = square.plan(parser.parse_args(["--patterns", "array", "--workers", "2",
                                            "--no-naive"]))
    assert not any(way.naive for way, *_ in expert)
    assert len(every) - len(expert) == 2 * 3  # two naive ways, three sizes


def test_the_crossover_has_enough_items_by_default():
    parser = argparse.ArgumentParser()
    square.add_arguments(parser)
    jobs = square.plan(parser.parse_args(["--patterns", "queue"]))
    at_100 = [(way.label, items) for way, w, items, cost, phase in jobs
              if phase == "crossover" and cost == 100]
    assert ("queue mpi --producer-works", 5000) in at_100
    assert ("queue mp --batch=10", 5000) in at_100
    assert ("ints serial", 5000) in at_100


# --- one measurement: bench.square.worker --------------------------------------------------------


def test_array_check_looks_at_every_block(monkeypatch):
    monkeypatch.setattr(square_run, "BLOCK", 4)
    right = np.square(np.arange(10, dtype=np.float64))
    assert square_run.array_is_squared(right, 10)
    for wrong in (right[:9], right.astype(np.float32), list(right)):
        assert not square_run.array_is_squared(wrong, 10)
    right[9] = 0.0  # in the last block
    assert not square_run.array_is_squared(right, 10)


@pytest.mark.parametrize(
    ("side", "variant"),
    [("serial", ""), ("multiprocessing", ""), ("multiprocessing", "naive"), ("mpi4py", ""),
     ("mpi4py", "window"), ("mpi4py", "naive")],
)
def test_every_array_way_runs_repeatedly_and_checks(side, variant):
    program = launch.python(
        "bench.square.worker", side, "array", "--workers", "2", "--items", "100001",
        "--repeat", "3", "--warmup", "1", *(["--variant", variant] if variant else []),
    )
    done = launch.run(launch.mpiexec(2, *program) if side == "mpi4py" else program,
                      timeout=120)
    assert done.returncode == 0, done.stderr
    raw = json.loads(done.stdout)
    assert len(raw["values"]) == 3 and len(raw["warmup"]) == 1
    assert raw["setup"] > 0 and raw["first_result"] > raw["setup"]


def test_a_wrong_array_is_an_error_not_a_data_point(monkeypatch, capsys):
    monkeypatch.setattr(square_run, "array_is_squared", lambda result, items: False)
    with pytest.raises(SystemExit, match="gave a wrong result for 1000 items"):
        square_run.main(["multiprocessing", "array", "--workers", "2", "--items", "1000"])
    assert capsys.readouterr().out == ""


def test_naive_is_for_the_array_only():
    done = launch.run(launch.python("bench.square.worker", "multiprocessing", "pool",
                                    "--variant", "naive"), timeout=60)
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1, done.stderr


def test_the_producer_works_variant_reaches_run():
    assert square_run.VARIANTS["producer-works"] == {"producer_works": True}
    assert unit.COST_VARIABLE == "MPVSMPI_COST_US"


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
    for pair in startup.PAIR_NAMES:  # target 3 reaches report.md with the others
        assert re.search(rf"^3\. start-up {pair}, .*<= 1\.3x", report, re.MULTILINE)
    assert done.stdout.splitlines()[0] == f"report: {folder / 'report.md'}"


@pytest.mark.parametrize(
    "args", [["--patterns", "nope"], ["--items", "0"], ["--workers", "0"], ["--cost-us", "-1"],
             ["--items", "1.5"], ["--startup-runs", "-1"], ["--startup-runs", "x"]],
)
def test_bad_arguments_exit_2(args):
    done = launch.run(launch.python("bench", "square", *args), timeout=60)
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1, done.stderr


def test_report_of_a_missing_file_exit_2():
    done = launch.run(launch.python("bench", "report", "nowhere.json"), timeout=60)
    assert done.returncode == 2
    assert done.stderr == "python -m bench: error: nowhere.json: no such results file\n"
