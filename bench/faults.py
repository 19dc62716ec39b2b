"""Every pattern, both ways, made to fail: does each run end promptly, and leave nothing behind?

    python -m bench faults [--patterns P ...] [--kinds raise kill] [--external P ...]
                           [--variants] [--sides multiprocessing mpi4py] [--limit 10]

Two kinds of case:

* injected: ``--fault raise:1`` (worker 1 raises at its first unit of work) and
  ``--fault kill:1`` (worker 1 is killed with SIGKILL there), on every pattern
  of both packages, with 4 workers;
* from outside, on a long run (``MPVSMPI_COST_US`` makes each item cost 20 ms):
  SIGKILL or SIGTERM to one worker's (rank's) PID, SIGKILL or SIGTERM to the parent
  (``mpiexec``), and SIGINT to the parent alone or to its whole process group, as Ctrl-C
  in a terminal does. SIGTERM is what ``kill``, ``timeout``, ``docker stop`` and Slurm's
  ``scancel`` send.

A case passes when the run ends within the limit (10 s by default: from the
start for an injected fault, from the signal for the others), with a non-zero
status (exactly 130 after SIGINT and 143 after SIGTERM to the parent, with no
traceback; Open MPI's ``mpiexec`` exits with 1 there, see :func:`interrupted_status`),
with a line on stderr naming the failed worker (not after a signal to the parent,
where no worker failed: then a line that says the run was terminated), and with
nothing left behind: no process of the run (each run's environment carries a
token we look for in ``/proc/*/environ`` afterwards, so even a process that
left the group is found), no new file in ``/dev/shm`` nor MPICH topology file in
/tmp, no ``resource_tracker`` warning. An aborted MPICH job cannot unlink its own
shared-memory and topology files, so every MPI ``main`` unlinks their names once every rank
is past ``MPI_Init`` (``message_passing.runtime.unlink_node_files``); what a program that does
not leaves, the harness removes after any failed run (``launch.clean_after_failure``), and
the table counts it apart ("MPI's files").
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from bench import _tables, launch, verify
from bench.patterns import MODULES, PAIRS, Pair, pattern_name
from contract import cli, unit

KINDS = ("raise", "kill")
# Signals from outside, each sent during a long run: (items, microseconds per item). Every
# item costs its time on the wall clock (unit.burn), so 8000 items at 20 ms keep 4 workers
# busy for 40 s: a run that ends within the limit did not just finish its work. The idle case
# (pool only) gives 2 workers one 60 s item each, and kills the others while they wait for work.
SIGNALS = {
    "SIGKILL worker": ("8000", "20000"),
    "SIGKILL idle worker": ("2", "60000000"),
    "SIGKILL parent": ("8000", "20000"),
    "SIGINT parent": ("8000", "20000"),
    "SIGINT group": ("8000", "20000"),
    "SIGTERM worker": ("8000", "20000"),
    "SIGTERM parent": ("8000", "20000"),
}
# What the run says on stderr when SIGTERM reached its parent: the parent's line, or each
# rank's (message_passing.runtime.abort_on_sigterm), or, under Open MPI, whose mpiexec stops
# forwarding the ranks' lines once it tears the job down, its notice of their abort with 143.
TERMINATED = re.compile(r": terminated \(SIGTERM\)$|^\s*Errorcode: 143$", re.MULTILINE)
SIDES = ("multiprocessing", "mpi4py")
WORKERS = 4
VICTIM = 1  # the worker every case fails: not 0, which is often the MPI side's root
TOKEN = "MPVSMPI_FAULT_RUN"
T = TypeVar("T")
# Variants with no twin to compare outputs with, so not in ``bench verify``'s catalog.
MORE_VARIANTS = (Pair("spawn", ("--daemon",)), Pair("terminate", ("--hard",)))
PROGRAM = re.compile(r"^python -m \S+: ")  # left out of the table: the row says which
REPORTED = {
    "multiprocessing": r"^python -m shared_memory\.\S+: error: ",
    "mpi4py": r"^rank \d+ on \S+: (error: |terminated \(SIGTERM\))|"
              r"BAD TERMINATION OF ONE OF YOUR APPLICATION|"
              r"exited on\s+signal",  # Open MPI breaks its line there
}
WORKER_LINE = re.compile(r"worker|\brank\b|\bPID\b", re.IGNORECASE)  # ForkPoolWorker-1 too


@dataclass(frozen=True)
class Case:
    side: str  # one of SIDES
    pair: Pair  # the pattern, and the variant's flags on each side
    fault: str  # "raise:1", "kill:1", or one of SIGNALS

    @property
    def module(self) -> str:
        return self.pair.module

    @property
    def variant(self) -> str:
        """The pattern as its side runs it: ``queue --joinable``."""
        args = self.pair.shared_args if self.side == "multiprocessing" else self.pair.mpi_args
        return " ".join([self.module, *args])

    @property
    def label(self) -> str:
        return f"{self.side} {self.variant} {self.fault}"

    @property
    def injected(self) -> bool:
        return self.fault not in SIGNALS

    def argv(self) -> list[str]:
        extra = ("--fault", self.fault) if self.injected else ("--items", SIGNALS[self.fault][0])
        pair = Pair(self.module, (*self.pair.shared_args, *extra), (*self.pair.mpi_args, *extra),
                    self.pair.mpi_spawns)
        shared, mpi = verify.commands(pair, WORKERS)
        return shared if self.side == "multiprocessing" else mpi


@dataclass(frozen=True)
class Outcome:
    case: Case
    finished: launch.Finished
    seconds: float  # from the start (injected) or from the signal (outside)
    processes_left: int
    files_left: tuple[str, ...]
    limit: float
    signalled: bool = True
    unsent: str = ""  # with signalled false: why the striker sent nothing (Striker.unsent)
    # What the MPI library left (an aborted MPICH job's shared-memory and topology files) and
    # the harness removed after the run, as it does after every failed run: counted, not held
    # against the case, since no program can unlink its files once it has been aborted (our
    # mains unlink them before: a job killed inside MPI_Init still leaves them).
    cleaned: tuple[str, ...] = ()
    # Seconds the launcher outlived every process of its job before the harness killed it
    # (launch.LauncherWatch); None when it ended on its own. Not held against the case either.
    launcher_killed: float | None = None

    @property
    def says(self) -> str:
        """The line that names the failed worker or rank: the last such error line on stderr,
        else the last such line on stderr, else on stdout (where MPICH's ``mpiexec`` reports
        a killed rank); '' when none does, or when nothing failed (SIGINT)."""
        if self.case.fault.startswith("SIGINT") or self.case.fault == "SIGTERM parent":
            return ""
        for lines in (self.finished.stderr.splitlines(), self.finished.stdout.splitlines()):
            named = [line.strip() for line in lines if WORKER_LINE.search(line)]
            errors = [line for line in named if "error" in line]
            if errors or named:
                return (errors or named)[-1]
        return ""

    @property
    def stderr_names_worker(self) -> bool:
        return any(WORKER_LINE.search(line) for line in self.finished.stderr.splitlines())

    @property
    def reported(self) -> bool:
        """Whether whoever noticed the failure said so: the multiprocessing parent's error
        line, the failing rank's own, or the MPI launcher's notice of a killed rank (MPICH's
        on stdout). The victim's own words ("kills itself") do not count."""
        text = self.finished.stderr
        if self.case.side == "mpi4py":
            text += self.finished.stdout
        return re.search(REPORTED[self.case.side], text, re.MULTILINE) is not None

    @property
    def tracker_warnings(self) -> int:
        return self.finished.stderr.count("resource_tracker")

    def problems(self) -> list[str]:
        """What is wrong with how the run ended; empty when the case passes."""
        done, found = self.finished, []
        if done.timed_out or self.seconds > self.limit:
            found.append(f"took {self.seconds:.1f} s (limit {self.limit:g} s)")
        if not self.signalled:
            found.append(f"no signal was sent: {self.unsent or 'the workers never all started'}")
        if self.case.fault.startswith("SIGINT") or self.case.fault == "SIGTERM parent":
            status = interrupted_status(self.case.side, self.case.fault.split()[0])
            if done.returncode != status:
                found.append(f"exit {done.returncode}, not {status}")
            if "Traceback" in done.stderr:
                found.append("a traceback on stderr")
            if self.case.fault == "SIGTERM parent" and not TERMINATED.search(done.stderr):
                found.append("no line on stderr says the run was terminated")
        else:
            if done.returncode == 0:
                found.append("exit 0")
            if self.case.injected and not self.stderr_names_worker:
                found.append("no line on stderr names the failed worker")
            if self.case.fault != "SIGKILL parent" and not self.reported:
                found.append("nobody reported the failed worker")
            if self.case.fault.startswith("raise") and "InjectedFault" not in done.stderr:
                found.append("the exception is not on stderr")
        if self.processes_left:
            found.append(f"{self.processes_left} processes left")
        if self.files_left:
            found.append(f"files left: {', '.join(self.files_left)}")
        if self.tracker_warnings:
            found.append("resource_tracker warning")
        return found

    @property
    def ok(self) -> bool:
        return not self.problems()


def interrupted_status(side: str, name: str = "SIGINT") -> int:
    """The exit status a run ends with after SIGINT (Ctrl-C) or SIGTERM to its parent: 128 +
    the signal's number, as a shell reports it (130, 143).

    Except under Open MPI: its ``mpiexec`` (PRRTE's prterun) does not pass SIGINT or SIGTERM
    on (it refuses to be told to pass SIGINT), but ends the job with SIGTERM, then SIGKILL,
    and exits with 1, whatever status the ranks abort with.
    """
    if side == "mpi4py" and launch.mpi_flavour() == "openmpi":
        return 1
    return 128 + signal.Signals[name]


def cases(
    modules: Sequence[str] = MODULES, kinds: Sequence[str] = KINDS,
    external: Sequence[str] = ("pool", "queue"), sides: Sequence[str] = SIDES,
    variants: bool = False,
) -> list[Case]:
    """The matrix: side x pattern x kind, then side x pattern x signal for ``external``.

    ``variants``: every variant of ``bench verify``'s catalog (``queue --joinable``...),
    not only each pattern's default, for the injected faults.
    """
    catalog = sorted([*PAIRS, *MORE_VARIANTS], key=lambda p: MODULES.index(p.module))
    pairs = [p for p in catalog if p.module in modules] if variants else [Pair(m) for m in modules]
    injected = [
        Case(side, pair, f"{kind}:{VICTIM}")
        for side in sides for pair in pairs for kind in kinds
        # A variant of one side only would run the other side's default again.
        if not variants or pair == Pair(pair.module)
        or (pair.shared_args if side == "multiprocessing" else pair.mpi_args)
    ]
    outside = [
        Case(side, Pair(module), s) for side in sides for module in external for s in SIGNALS
        # Only a pool keeps workers waiting for work (a queue's consumers leave at their
        # sentinel); a Pool worker killed there holds a lock that Pool.terminate() needs.
        if s != "SIGKILL idle worker" or module == "pool"
    ]
    return injected + outside


def leftover_files() -> set[str]:
    """What a run could leave on disk: everything in /dev/shm (shared-memory segments, MPI's
    backing files) and MPICH's topology files in the temporary directory."""
    try:
        shm = {os.path.join("/dev/shm", name) for name in os.listdir("/dev/shm")}
    except OSError:
        shm = set()
    return shm | {str(path) for path in launch.hydra_files()}


def processes_with(token: str) -> list[int]:
    """PIDs of live processes whose environment holds ``token`` (zombies have none)."""
    found = []
    needle = f"{TOKEN}={token}".encode()
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if needle in environ.read_bytes():
                found.append(int(environ.parent.name))
        except (OSError, ValueError):
            continue
    return found


def workers_of(case: Case, pid: int) -> list[int]:
    """The PIDs of the run's workers, in worker order: the pattern's processes below the
    parent (pool workers are forks with the parent's command line), or the ranks by rank."""
    module = f"{'shared_memory' if case.side == 'multiprocessing' else 'message_passing'}."
    found = []
    for child in launch.descendants(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
            environ = Path(f"/proc/{child}/environ").read_bytes()
        except OSError:
            continue
        if (module + case.module).encode() not in command:
            continue
        rank = re.search(rb"\x00(?:PMI_RANK|OMPI_COMM_WORLD_RANK)=(\d+)\x00", b"\x00" + environ)
        found.append((int(rank.group(1)) if rank else 0, child))
    return [child for _, child in sorted(found)]


# How long the striker waits for every worker of a signalled run to be running at once. It waits
# for that state, so a quick start costs nothing; the bound is generous because a loaded machine
# (a CI runner going through the whole suite) can take long to start four interpreters. It was
# 20 s counted from the launch, and a start slower than that was the one way a healthy run (its
# stderr empty) could fail as "the workers never all started". The run's own time-out is longer
# by as much (run_case): the case's limit counts from the signal, not from the start.
START_PATIENCE = 45.0


class Striker:
    """``launch.run``'s ``during``: waits for the workers, lets them start working, sends the
    case's signal, and remembers when; or, when it cannot, says why (``unsent``) and ends the
    run, which would otherwise go on for the whole of its long work."""

    def __init__(self, case: Case, patience: float = START_PATIENCE) -> None:
        self.case, self.patience = case, patience
        self.sent: float | None = None
        self.unsent = ""

    def __call__(self, process: subprocess.Popen[str]) -> None:
        workers = self.wait_for_workers(process)
        if workers is None:
            return
        if self.case.fault == "SIGKILL idle worker":
            self.wait_for_work(process, workers)
        if process.poll() is not None:
            self.unsent = "the run ended on its own before the signal"
            return
        name, target = self.case.fault.split(" ", 1)
        sig = signal.Signals[name]
        victims = {
            "worker": [workers[VICTIM]],
            "idle worker": idle(workers) or workers[-1:],
            "parent": [process.pid],
        }.get(target, [])
        self.sent = time.perf_counter()
        try:
            if victims:
                for pid in victims:
                    os.kill(pid, sig)
            else:  # the group
                os.killpg(process.pid, sig)
        except ProcessLookupError:
            self.sent = None
            self.unsent = "the process to signal was already gone"

    def wait_for_workers(self, process: subprocess.Popen[str]) -> list[int] | None:
        """Every worker's PID, in worker order, once all are seen at once; None (and
        ``unsent`` said) when the run ends first or ``patience`` s pass."""
        start = time.monotonic()
        most = ready = 0
        while process.poll() is None:
            workers = workers_of(self.case, process.pid)
            started = [pid for pid in workers if past_start_up(self.case, pid)]
            if len(started) >= WORKERS:
                return workers
            most, ready = max(most, len(workers)), max(ready, len(started))
            if time.monotonic() - start > self.patience:
                self.unsent = (f"the workers never all started ({most} of {WORKERS} seen at "
                               f"once, {ready} past start-up, in {self.patience:g} s)")
                launch.kill_group(process.pid)
                return None
            time.sleep(0.05)
        self.unsent = f"the run ended before its workers all started ({most} of {WORKERS} seen)"
        return None


    def wait_for_work(self, process: subprocess.Popen[str], workers: list[int]) -> None:
        """Until a worker computes (state R), so that those still waiting for work are the idle
        ones; for ``patience`` s at most, after which whichever are asleep are taken."""
        deadline = time.monotonic() + self.patience
        while process.poll() is None and time.monotonic() < deadline:
            if any(launch.stat_fields(pid)[:1] == ["R"] for pid in workers):
                return
            time.sleep(0.05)


def past_start_up(case: Case, pid: int) -> bool:
    """Whether this worker is past its start-up, so that a signal finds it at its work, seen
    from outside in the signals it handles (``/proc/PID/status``). A rank catches SIGTERM once
    its ``main`` is inside ``runtime.abort_on_error`` (``abort_on_sigterm``; neither MPI
    library catches SIGTERM on its own): mpi4py imported, MPI initialized, its arguments
    parsed. On a loaded machine a rank can still be importing mpi4py well after it was
    started, and a SIGINT there is a traceback from the import. A rank with nothing to do
    leaves its ``main`` at once, and then waits in ``MPI_Finalize`` with Python's handlers
    gone: MPI initialized (its shared memory mapped from /dev/shm), SIGINT no longer caught
    (Python catches it from before mpi4py is imported until it finalizes). A
    multiprocessing worker ignores SIGINT once it has run ``runtime.become_worker``, the
    first thing it does."""
    caught, ignored = signal_sets(pid)
    if case.side != "mpi4py":
        return signal.SIGINT in ignored
    if signal.SIGTERM in caught:
        return True
    try:
        return signal.SIGINT not in caught and "/dev/shm/" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def signal_sets(pid: int) -> tuple[set[int], set[int]]:
    """The signals process ``pid`` catches and those it ignores; empty once it is gone."""
    masks = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("SigCgt", "SigIgn"):
                masks[key] = int(value, 16)
    except OSError:
        return set(), set()
    return tuple(  # type: ignore[return-value]
        {n + 1 for n in range(64) if masks.get(key, 0) >> n & 1} for key in ("SigCgt", "SigIgn")
    )


def idle(pids: Sequence[int]) -> list[int]:
    """Those of ``pids`` asleep (state S: waiting for work, not computing)."""
    return [pid for pid in pids if launch.stat_fields(pid)[:1] == ["S"]]


def run_case(case: Case, limit: float = 10.0) -> Outcome:
    """Run one case and look for what it left."""
    token = uuid.uuid4().hex
    env = {TOKEN: token}
    striker = None
    if not case.injected:
        env[unit.COST_VARIABLE] = SIGNALS[case.fault][1]
        striker = Striker(case)
    before = leftover_files()
    segments, topology = launch.mpich_segments(), launch.hydra_files()
    start = time.perf_counter()
    # Past the limit we only wait long enough to tell a slow end from a hang (and, for a
    # signal, as long again as the striker may wait for the workers to start).
    timeout = limit + 30 + (striker.patience if striker is not None else 0)
    finished = launch.run(case.argv(), timeout=timeout, env=env, during=striker, clean=False)
    seconds = finished.seconds
    if striker is not None and striker.sent is not None:
        seconds = start + finished.seconds - striker.sent
    # Up to 20 s: only while a process is still found, and one that a loaded machine has not
    # yet scheduled to handle its signal is not one left behind.
    left = _settled(lambda: processes_with(token), patience=20.0)
    files_left = _settled(lambda: sorted(leftover_files() - before))
    launch.clean_after_failure(segments, topology)
    cleaned = sorted(set(files_left) - leftover_files())
    files_left = [name for name in files_left if name not in cleaned]
    return Outcome(case, finished, seconds, len(left), tuple(files_left), limit,
                   signalled=striker is None or striker.sent is not None,
                   unsent=striker.unsent if striker is not None else "",
                   cleaned=tuple(cleaned),
                   launcher_killed=finished.launcher_killed)


def _settled(look: Callable[[], list[T]], patience: float = 1.0) -> list[T]:
    """``look()``, again for up to ``patience`` s while it finds something: a process the
    run's end has just signalled may take a moment to go."""
    deadline = time.monotonic() + patience
    found = look()
    while found and time.monotonic() < deadline:
        time.sleep(0.05)
        found = look()
    return found


def table(outcomes: Sequence[Outcome]) -> str:
    rows = [
        (
            o.case.side, o.case.variant, o.case.fault,
            "timed out" if o.finished.timed_out else str(o.finished.returncode),
            f"{o.seconds:.2f}", str(o.processes_left), str(len(o.files_left)),
            str(len(o.cleaned)),
            str(o.tracker_warnings), "ok" if o.ok else "FAIL",
            verify.shorten(PROGRAM.sub("", o.says), 72),
        )
        for o in outcomes
    ]
    header = ("side", "pattern", "fault", "exit", "seconds", "procs left", "files left",
              "MPI's files", "tracker", "verdict", "the line naming the failed worker")
    return _tables.render(header, rows)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (__doc__ or "").partition("\n")[0] or None
    parser.add_argument("--patterns", nargs="+", type=pattern_name, default=list(MODULES),
                        metavar="P", help="patterns for the injected faults (default: all)")
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS),
                        help="injected faults (default: raise kill)")
    parser.add_argument("--external", nargs="*", type=pattern_name, default=["pool", "queue"],
                        metavar="P", help="patterns signalled from outside during a long run "
                        "(default: pool queue; none: no such cases)")
    parser.add_argument("--variants", action="store_true",
                        help="every variant of the catalog (queue --joinable...), not only "
                        "each pattern's default, for the injected faults")
    parser.add_argument("--sides", nargs="+", choices=SIDES, default=list(SIDES),
                        help="which packages (default: both)")
    parser.add_argument("--limit", type=cli.duration, default=10.0, metavar="S",
                        help="seconds a case may take to end (default 10)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def main(args: argparse.Namespace) -> int:
    launch.let_children_see_sigint()
    todo = cases(args.patterns, args.kinds, args.external, args.sides, args.variants)
    outcomes = []
    with _tables.progress(len(todo), args.quiet) as bar:
        for case in todo:
            bar.set_description(case.label)
            outcomes.append(run_case(case, args.limit))
            bar.update()
    print(verify.mpi_line())
    print(table(outcomes))
    failed = [o for o in outcomes if not o.ok]
    for o in failed:
        print(f"--- {o.case.label}: {'; '.join(o.problems())}")
    for o in outcomes:
        if o.launcher_killed is not None:
            print(f"--- {o.case.label}: the launcher outlived every process of its job by "
                  f"{o.launcher_killed:.1f} s and was killed (see bench.launch.LAUNCHER_GRACE)")
    print(f"{len(outcomes) - len(failed)} of {len(outcomes)} cases ended within "
          f"{args.limit:g} s as they should, with nothing left behind")
    return 1 if failed else 0
