"""One rank raising ends the whole MPI job promptly and non-zero, instead of hanging."""

from pathlib import Path

from bench import launch

PROGRAM = str(Path(__file__).parent / "programs" / "raise_on_rank.py")


def test_raising_rank_aborts_the_job():
    done = launch.run(launch.mpiexec(3, launch.python("x")[0], PROGRAM), timeout=30)
    assert not done.timed_out, "the job hung instead of aborting"
    assert done.returncode not in (0, None)
    assert "ValueError: rank 1 fails on purpose" in done.stderr
    assert done.seconds < 20
