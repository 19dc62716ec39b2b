"""Run inside every rank: ``mpiexec -n N python -m pytest --with-mpi tests/in_rank``."""

import numpy as np
import pytest
import support
from mpi4py import MPI

from message_passing import array

COMM = MPI.COMM_WORLD
WINDOW = [False, True]
WINDOW_IDS = ["scatterv", "window"]


def squares(items):
    return np.square(np.arange(items, dtype=np.float64))


def assert_result(result, items, comm=COMM):
    if comm.Get_rank() == 0:
        assert result.dtype == np.float64
        assert np.array_equal(result, squares(items))
    else:
        assert result is None


@pytest.fixture
def two_nodes(monkeypatch):
    """Pretend the even and the odd ranks are on two nodes (one machine cannot show it)."""
    halves = []

    def node_of(comm):
        halves.append(comm.Split(comm.Get_rank() % 2, comm.Get_rank()))
        return halves[-1]

    monkeypatch.setattr(array, "node_of", node_of)
    yield
    for half in halves:
        if half != MPI.COMM_NULL:
            half.Free()


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("items", [0, 1, COMM.Get_size() - 1, 10, 1001])
@pytest.mark.parametrize("window", WINDOW, ids=WINDOW_IDS)
def test_squares_on_rank_0_only(items, window):
    assert_result(array.run(items, COMM, window=window), items)


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("window", WINDOW, ids=WINDOW_IDS)
def test_on_a_sub_communicator(window):
    # Even and odd ranks each square an array of their own, at the same time.
    with support.halves(COMM) as half:
        assert_result(array.run(7, half, window=window), 7, half)


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("window", WINDOW, ids=WINDOW_IDS)
def test_the_checksum_line_is_made_where_the_squares_are(window):
    line = array.squared(10, COMM, array.summary, window=window)
    assert line == ("squared 10 float64 values, sum 285.0" if COMM.Get_rank() == 0 else None)


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("window", WINDOW, ids=WINDOW_IDS)
def test_trace_is_written_by_rank_0_only(capsys, window):
    size = COMM.Get_size()
    array.run(size * 2, COMM, window=window, trace=True)
    err = capsys.readouterr().err
    if COMM.Get_rank() != 0:
        assert err == ""
        return
    lines = err.splitlines()
    if window:
        assert lines.pop(0).startswith(f"window: {size * 2 * 8} bytes on rank 0 on ")
    assert [line.split(" squared ")[1] for line in lines] == [
        f"{2 * r}-{2 * r + 1}" for r in range(size)
    ]


@pytest.mark.mpi(min_size=2)
def test_one_node_here():
    assert array.nodes(COMM) == 1


@pytest.mark.mpi(min_size=2)
@pytest.mark.usefixtures("two_nodes")
def test_window_across_nodes_is_refused_on_every_rank():
    assert array.nodes(COMM) == 2
    with pytest.raises(array.SpansNodes, match="this job spans 2 nodes"):
        array.run(10, COMM, window=True)
    # Without the window the ranks need not share memory.
    assert_result(array.run(10, COMM), 10)


@pytest.mark.mpi(min_size=2)
@pytest.mark.usefixtures("two_nodes")
def test_main_refuses_window_across_nodes_in_one_line(capsys):
    with pytest.raises(SystemExit) as exit_:
        array.main(["--window"])
    assert exit_.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    if COMM.Get_rank() == 0:
        assert err == (
            "python -m message_passing.array: error: --window needs every rank on one node; "
            "this job spans 2 nodes\n"
        )
    else:
        assert err == ""


@pytest.mark.mpi(min_size=2)
def test_rank_0_fills_the_window_a_block_at_a_time(monkeypatch):
    monkeypatch.setattr(array, "BLOCK", 4)
    assert_result(array.run(11, COMM, window=True), 11)


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("window", WINDOW, ids=WINDOW_IDS)
@pytest.mark.parametrize("items", [0, 1, 1001])
def test_a_team_squares_again_and_again(window, items):
    with array.Team(items, COMM, window=window) as team:
        for _ in range(3):
            team.square()
            if COMM.Get_rank() == 0:
                assert np.array_equal(team.array, squares(items))
            else:
                assert team.array is None
            team.refill()
            if COMM.Get_rank() == 0:
                assert np.array_equal(team.array, np.arange(items, dtype=np.float64))
    assert team.array is None


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("window", WINDOW, ids=WINDOW_IDS)
def test_teams_on_sub_communicators(window):
    with support.halves(COMM) as half, array.Team(11, half, window=window) as team:
        team.square()
        team.refill()
        team.square()
        assert_result(None if team.array is None else team.array.copy(), 11, half)

