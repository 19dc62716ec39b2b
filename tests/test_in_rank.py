"""Runs the in-rank suite (tests/in_rank) inside an mpiexec job of 2 and of 4 ranks.

Started from here rather than from the Makefile so that the launch flags of
each MPI and the kill-on-time-out live in one place (bench.launch), and so
that one report comes out: each rank's own output is shown only on failure.
"""

from pathlib import Path

import pytest

from bench import launch

IN_RANK = str(Path(__file__).parent / "in_rank")


@pytest.mark.timeout(330)
@pytest.mark.parametrize("ranks", [2, 4])
def test_in_rank_suite(ranks):
    command = launch.python("pytest", "--with-mpi", "-q", "-p", "no:cacheprovider", IN_RANK)
    done = launch.run(launch.mpiexec(ranks, *command), timeout=300)
    assert not done.timed_out, f"in-rank suite hung at {ranks} ranks:\n{done.stdout}"
    assert done.returncode == 0, done.stdout + done.stderr
    # Every rank ran the tests: one "N passed" line per rank, none skipped for size.
    summaries = [line for line in done.stdout.splitlines() if " passed" in line]
    assert len(summaries) == ranks, done.stdout
    assert not any("skipped" in line or "failed" in line for line in summaries), done.stdout
