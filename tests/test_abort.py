"""One rank raising ends the whole MPI job promptly and non-zero, instead of hanging."""

from pathlib import Path

import pytest

from bench import launch

PROGRAM = str(Path(__file__).parent / "programs" / "raise_on_rank.py")


def test_raising_rank_aborts_the_job():
    done = launch.run(launch.mpiexec(3, launch.python("x")[0], PROGRAM), timeout=30)
    assert not done.timed_out, "the job hung instead of aborting"
    assert done.returncode not in (0, None)
    assert "ValueError: rank 1 fails on purpose" in done.stderr
    assert done.seconds < 20


def test_an_aborted_mpich_job_leaves_no_shared_memory_or_topology_file():
    if launch.mpi_flavour() != "mpich":
        pytest.skip("MPICH's mpich_shm_* and hydra_hwloc_xmlfile_* files only")
    before, topology = launch.mpich_segments(), launch.hydra_files()
    done = launch.run(
        launch.mpiexec(2, *launch.python("message_passing.pool", "--fault", "raise:1")),
        timeout=30,
    )
    assert done.returncode not in (0, None)
    assert launch.mpich_segments() - before == set()
    assert launch.hydra_files() - topology == set()
