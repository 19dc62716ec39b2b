"""One rank raising ends the whole MPI job promptly and non-zero, instead of hanging."""

import json
from pathlib import Path

import pytest
import support

from bench import launch

PROGRAM = str(Path(__file__).parent / "programs" / "raise_on_rank.py")


def test_raising_rank_aborts_the_job():
    done = launch.run(launch.mpiexec(3, launch.python("x")[0], PROGRAM), timeout=support.HANG)
    assert not done.timed_out, "the job hung instead of aborting"
    assert done.returncode not in (0, None)
    assert "ValueError: rank 1 fails on purpose" in done.stderr


# Run in a private /dev/shm and /tmp (support.isolated): both empty before the job, so
# whatever is there after it is the job's, whoever else on the machine makes files meanwhile.
# Its /proc shows only its own processes too: launch's clean-up spares the topology files
# while any MPICH launcher runs, and another session's would count.
ABORTED_JOB = """
import json, os
from bench import launch
done = launch.run(
    launch.mpiexec(2, *launch.python("message_passing.pool", "--fault", "raise:1")),
    timeout=%r,
)
print(json.dumps([done.returncode, sorted(os.listdir("/dev/shm")),
                  sorted(str(path) for path in launch.hydra_files())]))
"""


def test_an_aborted_mpich_job_leaves_no_shared_memory_or_topology_file():
    if launch.mpi_flavour() != "mpich":
        pytest.skip("MPICH's mpich_shm_* and hydra_hwloc_xmlfile_* files only")
    done = support.isolated(ABORTED_JOB % support.HANG, timeout=support.HANG + 30)
    assert done.returncode == 0, done.stderr
    returncode, shm, topology = json.loads(done.stdout)
    assert returncode not in (0, None)
    assert shm == []
    assert topology == []
