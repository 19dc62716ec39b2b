"""python -m bench verify: the table, and a non-zero exit when a pair differs or fails."""

import pytest

from bench import launch, verify
from bench.patterns import MODULES, PAIRS, Pair


def test_every_catalog_pattern_is_registered():
    expected = {"spawn", "terminate", "worker_class", "queue", "pipe", "barrier", "sync",
                "manager", "pool"}
    assert expected <= set(MODULES)


def test_first_difference_names_the_line():
    assert verify.first_difference("a\nb\n", "a\nb\n") == "yes"
    assert verify.first_difference("a\nb\n", "a\nc\n") == "no, line 2: 'b' vs 'c'"
    assert verify.first_difference("a\n", "a\nb\n") == "no, 1 lines vs 2 lines"


def test_labels_say_which_side_gets_a_flag():
    assert Pair("pool", mpi_args=("--executor",)).label == "pool --executor (mpi4py)"
    assert Pair("barrier", ("--group", "3"), ("--group", "3")).label == "barrier --group 3"
    assert len({(p.label) for p in PAIRS}) == len(PAIRS)


def test_verify_passes_and_prints_the_table():
    done = launch.run(launch.python("bench", "verify", "pool", "--workers", "2"), timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    # The first line says which MPI the mpi4py side ran on.
    first = done.stdout.splitlines()[0]
    assert first.startswith("MPI: ") and f"(mpiexec: {launch.mpiexec_path()})" in first
    assert launch.flavour_of(first.split(" (mpiexec")[0]) == launch.mpi_flavour()
    assert "pool                      2  ok               ok      yes" in done.stdout
    assert done.stdout.rstrip().endswith("2 of 2 pairs agree")


def test_a_failing_pair_is_reported_and_fails_the_run(monkeypatch, capsys):
    broken = Pair("pool", shared_args=("--items", "3"))  # different lists: must not pass
    monkeypatch.setattr(verify, "PAIRS", (broken,))
    assert verify.check(["pool"], [2], quiet=True) == 1
    out = capsys.readouterr().out
    assert "no, line 1: '[0, 1, 4]' vs '[0, 1, 4, 9, 16, 25, 36, 49, 64, 81, ...'" in out
    assert "0 of 1 pairs agree" in out


@pytest.mark.parametrize("args", [["verify", "nope"], ["verify", "--workers", "0"]])
def test_bad_arguments_exit_2(args):
    done = launch.run(launch.python("bench", *args), timeout=60)
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1
