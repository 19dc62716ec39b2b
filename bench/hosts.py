"""Two "hosts" on one machine: two network namespaces joined by a veth pair, for MPICH's mpiexec.

    with hosts.two_hosts() as pair:
        done = launch.run(pair.mpiexec(4, *launch.python("message_passing.pool")),
                          env=pair.env, timeout=60)
        print(pair.traffic())  # bytes that went through the veth so far

What a cluster has and one machine has not: ranks that cannot reach each other but over the
network. Each namespace has its own interfaces and addresses, so a rank in one can talk to a
rank in the other only through the veth, a virtual cable between them whose counters show
the bytes that crossed. The addresses, 198.18.0.1 and 198.18.0.2, come from 198.18.0.0/15,
the range set aside for benchmark networks (RFC 2544): they exist only inside the namespaces,
never on a real network.

MPICH's launcher, hydra, starts one proxy per host with ssh; ``-launcher-exec`` swaps ssh for
a script of ours that enters the namespace of the host instead of logging into it. mpiexec
itself runs in the first namespace, where the first host is local (hydra forks its proxy
there without the script), and ``-iface`` makes the proxies call it back on the namespace's
address: the veth has the same name at both ends, each in its own namespace, so one name
serves both hosts. Hydra gives every host a node of its own, and ranks on different nodes
talk through MPICH's network module, never its shared memory.

But the two hosts are one kernel, and the network module knows it: UCX (the default of the
``mpich`` wheel) moves the bytes between them by shared memory or cross-memory attach unless
it is told to use TCP. :data:`TRANSPORT` says so, to UCX and to libfabric alike (whichever
the MPICH in use runs on); :meth:`Hosts.traffic` is how to check that it listened.

Needs root (namespaces and links are the kernel's), the ``ip`` command of iproute2, and
MPICH's hydra (the flags above are hydra's): :func:`unavailable` says what is missing.
Everything made here is removed when the block ends, however it ends.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench import launch

ADDRESSES = ("198.18.0.1", "198.18.0.2")  # RFC 2544 benchmark range, inside the namespaces only
PREFIX_LENGTH = 24
INTERFACE = "mpvsmpi0"  # the veth's name at both ends, each in its own namespace
NAMESPACE_PREFIX = "mpvsmpi-"  # + pid and a counter: parallel runs do not collide
# TCP across the veth, for whichever network module MPICH runs on (UCX or libfabric).
TRANSPORT = {
    "UCX_TLS": "tcp", "UCX_NET_DEVICES": INTERFACE,
    "FI_PROVIDER": "tcp", "FI_TCP_IFACE": INTERFACE,
}
IP_TIMEOUT = 30.0

_serial = itertools.count()

# hydra's ssh launcher runs ``<launcher> -x HOST COMMAND...``, COMMAND written for the remote
# shell ssh would hand it to (the proxy's path comes quoted): so it goes to ``sh -c`` whole.
LAUNCHER = """\
#!/bin/sh
# Written by bench/hosts.py: hydra's "ssh" into a network namespace of this machine.
while [ $# -gt 0 ]; do
    case "$1" in -*) shift ;; *) break ;; esac  # ssh options (hydra passes -x)
done
case "$1" in
{cases}
*) echo "$0: no such host: $1" >&2; exit 255 ;;
esac
shift
exec {ip} netns exec "$namespace" /bin/sh -c "$*"
"""


class HostsError(RuntimeError):
    """The namespaces, the veth or an address could not be set up."""


@dataclass(frozen=True)
class Traffic:
    """Bytes through the veth, counted at the first host's end."""

    received: int
    sent: int

    def __sub__(self, earlier: Traffic) -> Traffic:
        return Traffic(self.received - earlier.received, self.sent - earlier.sent)


def _ip(*args: str) -> launch.Finished:
    return launch.run([_ip_path(), *args], timeout=IP_TIMEOUT)


def _ip_path() -> str:
    found = shutil.which("ip") or shutil.which("ip", path="/usr/sbin:/sbin")
    if found is None:
        raise HostsError("no `ip` command (iproute2)")
    return found


def _checked(*args: str) -> str:
    done = _ip(*args)
    if done.returncode != 0:
        why = "timed out" if done.timed_out else (done.stderr.strip() or f"exit {done.returncode}")
        raise HostsError(f"ip {' '.join(args)}: {why}")
    return done.stdout


@functools.cache
def unavailable() -> str | None:
    """Why two hosts cannot be made here (one line), or None when they can."""
    if os.geteuid() != 0:
        return "needs root: network namespaces and veth links are made by the kernel for root"
    try:
        flavour = launch.mpi_flavour()
    except (OSError, subprocess.SubprocessError) as error:
        return f"no MPI: {error}"
    if flavour != "mpich":
        return (f"needs MPICH's mpiexec (hydra: -launcher-exec, -iface); "
                f"{launch.mpiexec_path()} is {flavour}")
    try:
        ip = _ip_path()
    except HostsError as error:
        return str(error)
    probe = f"{NAMESPACE_PREFIX}probe-{os.getpid()}"
    done = launch.run([ip, "netns", "add", probe], timeout=IP_TIMEOUT)
    if done.returncode != 0:
        return f"`ip netns add` fails here: {done.stderr.strip() or done.returncode}"
    launch.run([ip, "netns", "delete", probe], timeout=IP_TIMEOUT)
    return None


@dataclass(frozen=True)
class Hosts:
    """Two hosts made by :func:`two_hosts`, valid inside its block."""

    namespaces: tuple[str, str]
    addresses: tuple[str, str]
    launcher: str

    @property
    def env(self) -> dict[str, str]:
        """What a job across the two hosts needs in its environment (TCP over the veth)."""
        return dict(TRANSPORT)

    def mpiexec(self, n: int, *command: str) -> list[str]:
        """``mpiexec -n N command`` over both hosts: the first ceil(N/2) ranks on the first,
        the rest on the second. mpiexec runs inside the first host's namespace."""
        slots = max(1, math.ceil(n / 2))
        hosts = ",".join(f"{address}:{slots}" for address in self.addresses)
        return [
            _ip_path(), "netns", "exec", self.namespaces[0], launch.mpiexec_path(),
            "-launcher", "ssh", "-launcher-exec", self.launcher, "-iface", INTERFACE,
            "-hosts", hosts, "-n", str(n), *command,
        ]

    def traffic(self) -> Traffic:
        """The veth's byte counters so far (at the first host's end)."""
        [link] = json.loads(_checked("-j", "-s", "-n", self.namespaces[0], "link", "show",
                                     "dev", INTERFACE))
        stats = link["stats64"]
        return Traffic(stats["rx"]["bytes"], stats["tx"]["bytes"])

    def describe(self) -> dict[str, object]:
        """For a results document: what the two hosts were."""
        return {
            "kind": "network namespaces joined by a veth pair, on one machine",
            "addresses": [f"{a}/{PREFIX_LENGTH}" for a in self.addresses],
            "interface": INTERFACE, "environment": self.env,
            "launcher": "mpiexec -launcher ssh -launcher-exec <ip netns exec script> -iface",
        }


@contextmanager
def two_hosts() -> Iterator[Hosts]:
    """Make the two hosts; remove them (namespaces, veth, launcher script) when the block ends.

    Raises :class:`HostsError` when they cannot be made (see :func:`unavailable`).
    """
    serial = next(_serial)
    names = (f"{NAMESPACE_PREFIX}{os.getpid()}-{serial}-a",
             f"{NAMESPACE_PREFIX}{os.getpid()}-{serial}-b")
    folder = tempfile.mkdtemp(prefix="mpvsmpi-hosts-")
    made: list[str] = []
    try:
        for name in names:
            _checked("netns", "add", name)
            made.append(name)
        # Both ends are made right inside their namespaces: the name never meets another.
        _checked("link", "add", INTERFACE, "netns", names[0], "type", "veth",
                 "peer", "name", INTERFACE, "netns", names[1])
        for name, address in zip(names, ADDRESSES, strict=True):
            _checked("-n", name, "address", "add", f"{address}/{PREFIX_LENGTH}",
                     "dev", INTERFACE)
            _checked("-n", name, "link", "set", "lo", "up")
            _checked("-n", name, "link", "set", INTERFACE, "up")
        _wait_until_up(names)
        launcher = Path(folder, "launcher")
        cases = "\n".join(f'{address}) namespace="{name}" ;;'
                          for address, name in zip(ADDRESSES, names, strict=True))
        launcher.write_text(LAUNCHER.format(cases=cases, ip=_ip_path()))
        launcher.chmod(0o700)
        yield Hosts(names, ADDRESSES, str(launcher))
    finally:
        for name in reversed(made):
            _remove(name)
        shutil.rmtree(folder, ignore_errors=True)


def _wait_until_up(namespaces: tuple[str, str], patience: float = 10.0) -> None:
    """Wait for both ends to be operationally up (operstate UP), not only set up.

    The kernel makes that change a moment after ``link set up``, and it is what the
    interface's RUNNING flag follows: UCX skips an interface that is not RUNNING, and a job
    started too early fails in MPI_Init with "network device ... is not available".
    """
    deadline = time.monotonic() + patience
    for name in namespaces:
        while True:
            [link] = json.loads(_checked("-j", "-n", name, "link", "show", "dev", INTERFACE))
            if link.get("operstate") == "UP":
                break
            if time.monotonic() > deadline:
                raise HostsError(f"{INTERFACE} in {name} is not up after {patience:g} s "
                                 f"(operstate {link.get('operstate')})")
            time.sleep(0.02)


def _remove(namespace: str) -> None:
    """Delete a namespace of ours, first ending whatever still runs in it (all ours)."""
    done = _ip("netns", "pids", namespace)
    for pid in done.stdout.split():
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass
    # The namespace, and with it its end of the veth (and so the peer), goes once the last
    # process in it has exited; its name goes now.
    _ip("netns", "delete", namespace)


def leftovers() -> list[str]:
    """Namespaces of this process that still exist (after a block: none)."""
    done = _ip("netns", "list")
    mine = f"{NAMESPACE_PREFIX}{os.getpid()}-"
    return [line.split()[0] for line in done.stdout.splitlines() if line.startswith(mine)]
