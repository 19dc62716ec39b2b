"""The barrier pattern: shared_memory.barrier in-process, and both sides as whole programs."""

import pytest
import support

from bench import launch
from contract import outputs
from shared_memory import barrier


def expected(workers, group=2):
    met = ", ".join(str(i) for i in range(min(group, workers)))
    free = ", ".join(str(i) for i in range(min(group, workers), workers)) or "none"
    return f"met at the barrier: {met}\nran free: {free}\n"


def run_shared(workers, *args):
    return support.run_shared("barrier", workers, *args)


def run_mpi(ranks, *args):
    return support.run_mpi("barrier", ranks, *args)


def check_passages(passages, workers, group):
    """The invariant: every member of the group left after the last one arrived."""
    assert [p.worker for p in passages] == list(range(workers))
    members = passages[:group]
    assert all(p.turn is not None for p in members)
    assert all(p.turn is None for p in passages[group:])
    # Each member took a turn of its own: the turns are 0..group-1, none twice.
    assert sorted(p.turn for p in members) == list(range(group))
    last_arrival = max(p.arrived for p in members)
    assert all(p.left >= last_arrival for p in members)


@pytest.mark.parametrize(
    ("workers", "group"), [(1, 1), (2, 2), (4, 2), (4, 4), (7, 3), (7, 7), (3, 1)]
)
def test_run_group_waits_for_its_last_member(workers, group):
    check_passages(barrier.run(workers, group), workers, group)


def test_run_caps_the_group_at_the_worker_count():
    check_passages(barrier.run(3, 9), 3, 3)


def test_run_rejects_an_empty_group():
    with pytest.raises(ValueError, match="group of 1 or more, not 0"):
        barrier.run(3, 0)


def test_report_lists_members_and_free_workers_in_order():
    passages = [outputs.Passage(0, 1, 0.0, 1.0), outputs.Passage(1, 0, 0.5, 1.0),
                outputs.Passage(2, None, 0.7, 0.7)]
    assert outputs.barrier_report(passages) + "\n" == expected(3)
    assert outputs.barrier_report(passages[:2]) == "met at the barrier: 0, 1\nran free: none"


@pytest.mark.parametrize("workers", [1, 2, 3, 4, 7])
def test_same_stdout_both_ways(workers):
    support.same_stdout_both_ways("barrier", workers, expected(workers))


@pytest.mark.parametrize(("workers", "group"), [(4, 3), (3, 9), (2, 1)])
def test_group_option_same_stdout_both_ways(workers, group):
    left, right = support.both_ways("barrier", workers, "--group", str(group))
    assert left.stdout == right.stdout == expected(workers, group)


@pytest.mark.parametrize("side", [run_shared, run_mpi])
def test_trace_gives_each_worker_one_line_with_its_times(side):
    done = side(4, "--trace", "--group", "3")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 4, done.stderr
    by_worker = {int(line.split()[1]): line for line in lines}
    assert sorted(by_worker) == [0, 1, 2, 3]
    assert all(" arrived +" in line and ", left +" in line for line in lines)
    assert sorted(by_worker[i].split("took turn ")[1].split()[0] for i in range(3)) == [
        "0", "1", "2"
    ]
    assert by_worker[3].endswith("ran free")


@pytest.mark.parametrize("args", [["--group", "0"], ["--group", "x"], ["--items", "3"]])
@pytest.mark.parametrize("side", ["shared_memory", "message_passing"])
def test_bad_arguments_one_line_exit_2(side, args):
    done = (run_shared if side == "shared_memory" else run_mpi)(3, *args)
    support.assert_bad_arguments(done, f"{side}.barrier")


@pytest.mark.parametrize("side", [run_shared, run_mpi])
def test_fault_naming_a_missing_worker_is_a_bad_argument(side):
    done = side(3, "--fault", "raise:3")
    assert done.returncode == 2
    assert "--fault raise:3 names no worker (there are 3)" in done.stderr


# Worker 1 is a group member whose partner waits for it at the barrier forever;
# worker 3 runs free. Either way the run must end, non-zero, promptly.
@pytest.mark.parametrize("worker", [1, 3])
def test_fault_shared_memory_stops_the_waiting_members(worker):
    done = launch.run(
        launch.python("shared_memory.barrier", "--fault", f"raise:{worker}"), timeout=support.HANG
    )
    support.assert_worker_failed(
        done, worker, "shared_memory.barrier", process=f"barrier-{worker}"
    )


@pytest.mark.parametrize("worker", [1, 3])
def test_fault_mpi_aborts_the_job(worker):
    support.assert_job_aborted(
        support.run_mpi("barrier", 4, "--fault", f"raise:{worker}"), worker
    )
