def pytest_ignore_collect(collection_path, config):
    # tests/in_rank runs inside every rank of an mpiexec job (see test_in_rank.py);
    # a plain serial run would only skip each of its tests.
    if collection_path.name == "in_rank" and not config.getoption("with_mpi"):
        return True
    return None
