"""Runs the in-rank suite (tests/in_rank) inside an mpiexec job of 2 and of 4 ranks.

Started from here rather than from the Makefile so that the launch flags of
each MPI and the kill-on-time-out live in one place (bench.launch), and so
that one report comes out: each rank's own output is shown only on failure.
"""

import re
from pathlib import Path

import pytest

from bench import launch

IN_RANK = str(Path(__file__).parent / "in_rank")
# pytest -q's last line: "98 passed, 2 skipped in 1.23s", "1 failed, 99 passed in 1.23s"...
SUMMARY = re.compile(r"(?:\d+ \w+, )*\d+ \w+ in [\d.]+s")


@pytest.mark.timeout(330)
@pytest.mark.parametrize("ranks", [2, 4])
def test_in_rank_suite(ranks):
    # --color=no: Open MPI gives each rank a pseudo-terminal for stdout, and pytest colours.
    command = launch.python(
        "pytest", "--with-mpi", "-q", "--color=no", "-p", "no:cacheprovider", IN_RANK
    )
    done = launch.run(launch.mpiexec(ranks, *command), timeout=300)
    assert not done.timed_out, f"in-rank suite hung at {ranks} ranks:\n{done.stdout}"
    assert done.returncode == 0, done.stdout + done.stderr
    # Every rank ran the tests: one "N passed in Ts" summary per rank, none skipped for size.
    # The ranks share one stdout, and mpiexec forwards what each writes as it comes: a
    # summary can end up on another rank's line ("100 passed in 1.66s100 passed in 1.65s"),
    # so summaries are found wherever they are, not line by line.
    summaries = SUMMARY.findall(done.stdout)
    assert len(summaries) == ranks, done.stdout
    assert all(re.fullmatch(r"\d+ passed in [\d.]+s", s) for s in summaries), done.stdout
