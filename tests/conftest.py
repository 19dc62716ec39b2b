import sys
from pathlib import Path

import pytest

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
