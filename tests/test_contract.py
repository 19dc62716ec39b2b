import argparse
import sys

import pytest

from bench import launch
from contract import cli, streams, tracing, unit


@pytest.mark.parametrize(
    ("items", "expected"),
    [([], "nothing"), ([3], "3"), ([0, 1, 2, 5, 7, 8], "0-2, 5, 7-8"), ([9, 8, 1], "1, 8-9")],
)
def test_spans(items, expected):
    assert tracing.spans(items) == expected


def test_count_and_positive_accept_and_reject():
    assert cli.count("0") == 0
    assert cli.positive("7") == 7
    for bad in ("-1", "abc", "1.5", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            cli.count(bad)
    with pytest.raises(argparse.ArgumentTypeError):
        cli.positive("0")


def test_parser_error_is_one_line_and_status_2(capsys):
    parser = cli.make_parser("x.y", "Doc line.\nMore.")
    cli.add_items(parser, default=3)
    with pytest.raises(SystemExit) as exit_:
        parser.parse_args(["--items", "-4"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err == "python -m x.y: error: argument --items: -4 is not a count (0 or more)\n"


def test_quiet_parser_says_nothing_but_still_exits_2(capsys):
    parser = cli.make_parser("x.y", None, quiet=True)
    with pytest.raises(SystemExit) as exit_:
        parser.parse_args(["--nope"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == ""


def test_trace_by_worker_groups_items(capsys):
    tracing.trace_by_worker(["b", "a", "a", "b", "b"])
    assert capsys.readouterr().err == "a squared 1-2\nb squared 0, 3-4\n"


def test_square_burns_the_cost_from_the_environment():
    code = (
        "from contract import unit; import time; t = time.perf_counter(); "
        "[unit.square(x) for x in range(100)]; print(time.perf_counter() - t)"
    )
    slow = launch.run([sys.executable, "-c", code], timeout=60,
                      env={unit.COST_VARIABLE: "1000"})
    assert slow.returncode == 0, slow.stderr
    assert float(slow.stdout) >= 0.1  # 100 items x 1 ms of burning, at the least
    bad = launch.run([sys.executable, "-c", "import contract.unit"], timeout=60,
                     env={unit.COST_VARIABLE: "-3"})
    assert bad.returncode == 1
    assert "is not a number of microseconds" in bad.stderr


def test_burn_spends_at_least_the_time_asked():
    import time

    start = time.perf_counter()
    unit.burn(2000)
    assert time.perf_counter() - start >= 0.002


def test_say_writes_the_line_and_its_newline_in_one_write(monkeypatch):
    # Two writes let ranks that report at once run their lines together under mpiexec.
    writes: list[str] = []

    class Recorder:
        def write(self, text: str) -> None:
            writes.append(text)

        def flush(self) -> None:
            pass

    monkeypatch.setattr(sys, "stderr", Recorder())
    streams.say("rank 1 on vm: stuck in Send to rank 0 for 2 s")
    assert writes == ["rank 1 on vm: stuck in Send to rank 0 for 2 s\n"]
