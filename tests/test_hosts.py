"""Several hosts simulated on one machine (bench.hosts): MPI jobs across two network namespaces
joined by a veth print what they print on one host, their bytes cross the veth, and nothing is
left behind, even when the block fails. Needs root, ``ip netns`` and MPICH: skipped otherwise,
with the reason."""

import os
import re
import shutil
import sys
import time

import pytest
import support

from bench import hosts, launch, results

WHY = hosts.unavailable()
needs_hosts = pytest.mark.skipif(WHY is not None, reason=f"two hosts cannot be made: {WHY}")

NETNS = "import os; print(os.readlink('/proc/self/ns/net'))"
ARRAY_ITEMS = 1_000_000  # float64: 8 MB, half of it on the second host, there and back


def netns_ids(stdout):
    # Found, not split: hydra passes on each host's output as it comes, so the lines of two
    # ranks on different hosts can run into each other ("net:[1]net:[2]\n\n").
    return re.findall(r"net:\[\d+\]", stdout)


def across(pair, n, *command, timeout=60):
    return launch.run(pair.mpiexec(n, *command), env=pair.env, timeout=timeout)


def namespaces():
    done = launch.run([shutil.which("ip"), "netns", "list"], timeout=30)
    return {line.split()[0] for line in done.stdout.splitlines()}


def alive(pid):
    """The process exists and is not a zombie (a killed orphan may wait to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@needs_hosts
@pytest.mark.timeout(60)
def test_ranks_run_in_the_namespaces_of_their_hosts():
    with hosts.two_hosts() as pair:
        done = across(pair, 2, sys.executable, "-c", NETNS)
        assert done.returncode == 0, done.stderr
        seen = set(netns_ids(done.stdout))
        assert len(seen) == 2  # one rank in each namespace
        assert os.readlink("/proc/self/ns/net") not in seen  # and neither is ours


@needs_hosts
@pytest.mark.timeout(90)
@pytest.mark.parametrize("pattern, args", [
    ("pool", ()), ("queue", ()), ("array", ("--items", str(ARRAY_ITEMS))),
])
def test_a_pattern_across_two_hosts_prints_what_it_prints_on_one(pattern, args):
    here = support.run_mpi(pattern, 4, *args)
    assert here.returncode == 0, here.stderr
    with hosts.two_hosts() as pair:
        before = pair.traffic()
        there = across(pair, 4, *launch.python(f"message_passing.{pattern}", *args))
        crossed = pair.traffic() - before
    assert there.returncode == 0, there.stderr
    assert there.stdout == here.stdout
    assert there.stderr == ""
    if pattern == "array":
        # Ranks 2 and 3 are on the second host: their half of the array went there through
        # the veth (Scatterv) and came back (Gatherv). Through shared memory, it would not.
        half = ARRAY_ITEMS // 2 * 8
        assert crossed.sent >= half and crossed.received >= half, crossed


@needs_hosts
@pytest.mark.timeout(60)
def test_mpi_sees_two_nodes():
    # array --window needs every rank on one node: across two hosts it refuses, status 2.
    with hosts.two_hosts() as pair:
        done = across(pair, 4, *launch.python("message_passing.array", "--window"))
    support.assert_bad_arguments(done, "message_passing.array")
    assert "spans 2 nodes" in done.stderr


@needs_hosts
@pytest.mark.timeout(60)
def test_everything_goes_even_when_the_block_fails():
    with pytest.raises(RuntimeError, match="on purpose"):
        with hosts.two_hosts() as pair:
            names, launcher = set(pair.namespaces), pair.launcher
            assert names <= namespaces() and os.access(launcher, os.X_OK)
            # A process left running on the second host, as a hung rank would be.
            started = launch.run(
                [shutil.which("ip"), "netns", "exec", pair.namespaces[1], "sh", "-c",
                 "sleep 300 </dev/null >/dev/null 2>&1 & echo $!"],
                timeout=30,
            )
            pid = int(started.stdout)
            assert alive(pid)
            raise RuntimeError("fails on purpose")
    assert not names & namespaces()
    assert not os.path.exists(launcher)
    deadline = time.monotonic() + 30  # a hang's bound: the kill is seen, not assumed quick
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(pid)
    assert hosts.leftovers() == []


@needs_hosts
@pytest.mark.timeout(60)
def test_two_pairs_side_by_side_do_not_collide():
    # Same addresses, same interface name: each pair's are its namespaces' own.
    with hosts.two_hosts() as first, hosts.two_hosts() as second:
        assert not set(first.namespaces) & set(second.namespaces)
        seen = []
        for pair in (first, second):
            done = across(pair, 2, sys.executable, "-c", NETNS)
            assert done.returncode == 0, done.stderr
            seen += netns_ids(done.stdout)
        assert len(set(seen)) == 4
    assert hosts.leftovers() == []


@needs_hosts
@pytest.mark.timeout(120)
def test_latency_across_hosts_beside_one_node(tmp_path):
    done = launch.run(
        launch.python(
            "bench", "latency", "--hosts", "--channels", "mpi-buffer", "manager-tcp",
            "--modes", "latency", "--sizes", "1", "65536", "--scale", "0.01", "--repeat", "1",
            "--warmup", "0", "--quiet", "--output-dir", str(tmp_path),
        ),
        timeout=100,
    )
    assert done.returncode == 0, done.stderr
    [path] = tmp_path.glob("latency-*.json")
    doc = results.load(path)
    names = {b["name"] for b in doc["benchmarks"]}
    assert names == {f"latency/{chan}/{size}" for chan in
                     ("mpi-buffer", "mpi-buffer@hosts", "manager-tcp") for size in (1, 65536)}
    crossing = [b for b in doc["benchmarks"] if b["channel"] == "mpi-buffer@hosts"]
    for bench in crossing:
        assert bench["hosts"] == 2 and bench["values"][0] > 0
        # At least the 64 KiB ping-pong's own bytes went through the veth, both ways.
        assert min(bench["veth_bytes"].values()) >= 65536
    assert doc["settings"]["hosts"]["environment"]["UCX_TLS"] == "tcp"
    assert "MPI on one node and across two hosts" in done.stdout
    assert "multiprocessing cannot cross hosts" in done.stdout
    assert hosts.leftovers() == []
    shown = launch.run(launch.python("bench", "show", str(path)), timeout=60)
    assert shown.returncode == 0 and shown.stdout in done.stdout


@pytest.mark.timeout(60)
def test_latency_hosts_without_an_mpi_channel_is_refused():
    # Refused either way: for want of an MPI channel or, where they cannot be made, of hosts.
    done = launch.run(launch.python("bench", "latency", "--hosts", "--channels", "queue"),
                      timeout=30)
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith("python -m bench latency: error: --hosts:")


def test_unavailable_says_why(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert hosts.unavailable.__wrapped__().startswith("needs root")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(launch, "mpi_flavour", lambda: "openmpi")
    assert "needs MPICH" in hosts.unavailable.__wrapped__()


def test_latency_hosts_refused_where_hosts_cannot_be_made(monkeypatch, capsys):
    from bench.__main__ import build_parser
    from bench.latency import command as latency

    monkeypatch.setattr(hosts, "unavailable", lambda: "needs root: for the test")
    args = build_parser().parse_args(["latency", "--hosts", "--quiet"])
    assert latency.main(args) == 2
    err = capsys.readouterr().err
    assert err == "python -m bench latency: error: --hosts: needs root: for the test\n"
