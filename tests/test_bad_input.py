"""Bad input, everywhere: one line on stderr, exit status 2, nothing started.

The patterns' own flags are checked in each pattern's tests; here, what every entry point
shares: item counts too large for this machine's memory (refused before anything is
allocated), and the harness's commands with unknown names, bad numbers and bad files.
"""

from __future__ import annotations

import json

import pytest
import support

from bench import launch
from bench.patterns import MODULES
from contract import cli

# More items than any machine has memory for, whatever an item costs.
TOO_MANY = str(10**15)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("module", [m for m in MODULES if m not in {"spawn", "terminate",
                                                                  "barrier"}])
def test_too_many_items_is_refused_before_allocating_both_ways(module):
    shared = support.run_shared(module, 2, "--items", TOO_MANY)
    mpi = support.run_mpi(module, 2, "--items", TOO_MANY)
    for done, side in ((shared, "shared_memory"), (mpi, "message_passing")):
        support.assert_bad_arguments(done, f"{side}.{module}")
        assert "of memory" in done.stderr


def test_the_memory_check_counts_what_an_item_costs():
    fits = cli.fitting_count(cli.ARRAY_ITEM_BYTES)
    assert fits("1000") == 1000
    memory = cli.memory_bytes()
    assert memory > 0
    with pytest.raises(Exception, match="of memory here"):
        fits(str(memory // cli.ARRAY_ITEM_BYTES + 1))


@pytest.mark.parametrize(
    "args",
    [
        ["verify", "nope"],
        ["verify", "--workers", "0"],
        ["latency", "--channels", "nope"],
        ["latency", "--repeat", "-1"],
        ["square", "--patterns", "nope"],
        ["square", "--items", "-5"],
        ["square", "--workers", "abc"],
        ["startup", "--runs", "0"],
        ["faults", "--patterns", "nope"],
        ["nope"],
    ],
)
def test_harness_bad_arguments_one_line_exit_2(args):
    done = launch.run(launch.python("bench", *args), timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1, done.stderr


@pytest.mark.parametrize("command", ["show", "report"])
@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "no such results file"),
        ('{"schema": "mp-vs-mpi/results", "vers', "not JSON, or truncated"),
        (json.dumps({"schema": "mp-vs-mpi/results", "version": 99, "benchmarks": []}),
         "version 99"),
        ("\x80\x04\x95 a pickle, not JSON", "not JSON, or truncated"),
    ],
)
def test_a_bad_results_file_is_one_line_exit_2(tmp_path, command, content, says):
    path = tmp_path / "results.json"
    if content is not None:
        path.write_text(content)
    extra = ["--output", str(tmp_path / "out")] if command == "report" else []
    done = launch.run(launch.python("bench", command, str(path), *extra), timeout=60)
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.splitlines()) == 1 and says in done.stderr, done.stderr
