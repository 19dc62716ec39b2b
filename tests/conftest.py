import contextlib
import os
import sys
from pathlib import Path

import pytest

from bench import launch

# tests/support.py holds what the tests of every pattern share. Test files are imported
# with --import-mode=importlib, which puts nothing on sys.path: this makes `import support`
# work in the serial run and in the in-rank suite under mpiexec alike, and its asserts
# explain their failures as a test's own do.
sys.path.insert(0, str(Path(__file__).parent))
pytest.register_assert_rewrite("support")


def pytest_ignore_collect(collection_path, config):
    # tests/in_rank runs inside every rank of an mpiexec job (see test_in_rank.py);
    # a plain serial run would only skip each of its tests.
    if collection_path.name == "in_rank" and not config.getoption("with_mpi"):
        return True
    return None


def pytest_configure(config):
    # The serial run initializes MPI in this process too (the in-process tests import
    # mpi4py.MPI): under Open MPI as a singleton, which needs the environment bench.launch
    # gives the programs it starts, and leaves its /dev/shm backing file behind unless it
    # is put in a directory of its own, removed when the run ends. Under mpiexec (the
    # in-rank suite) every rank already has its job's; under MPICH there is nothing to do.
    if config.getoption("with_mpi"):
        return
    launch.let_children_see_sigint()  # the Ctrl-C tests' runs must not inherit it ignored
    os.environ.update(launch.mpi_environment())
    stack = contextlib.ExitStack()
    os.environ.update(stack.enter_context(launch.backing_directory()))
    config.add_cleanup(stack.close)
