"""The results document: versioned JSON with every raw value and the metadata to trust it.

In the manner of pyperf: a measurement is a list of raw values (warm-up runs
kept apart, never mixed in), and the document says when, where and with what
it was measured, so that two files can be compared honestly later. Files are
read as JSON only, never unpickled.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import multiprocessing
import os
import platform
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SCHEMA = "mp-vs-mpi/results"
VERSION = 1
PROJECT = Path(__file__).resolve().parent.parent

Document = dict[str, Any]


class ResultsError(Exception):
    """A results file that is missing, unreadable, or not of a version we read."""


class MeasurementFailed(RuntimeError):
    """A measuring program failed: its run is an error, never a data point."""


def add_output_arguments(parser: Any) -> None:
    """``--output-dir`` and ``--quiet``, which every measuring subcommand takes."""
    parser.add_argument("--output-dir", default="results", metavar="DIR",
                        help="where the JSON document goes (default results/)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def save_and_print(doc: Document, text: str, directory: str) -> int:
    """The end of every measuring subcommand: save the document, print its report and path."""
    path = save(doc, directory)
    print(text, end="")
    print(f"\nwritten: {path}")
    return 0


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@functools.cache
def mpi_versions() -> dict[str, str | None]:
    """mpi4py's and the MPI library's versions, asked of a separate interpreter.

    Importing ``mpi4py.MPI`` here would initialize MPI in the harness itself;
    a child that only asks costs a tenth of a second and leaves us clean. The
    child does not initialize MPI either (``MPI_Get_library_version`` may be
    called before ``MPI_Init``): an Open MPI singleton costs a second and
    leaves a file in /dev/shm behind.
    """
    code = (
        "import json, mpi4py; mpi4py.rc.initialize = False; from mpi4py import MPI; "
        # Open MPI ends the string with a NUL.
        "library = MPI.Get_library_version().rstrip(chr(0)).strip(); "
        "print(json.dumps([mpi4py.__version__, library]))"
    )
    try:
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
        )
        mpi4py_version, library = json.loads(out.stdout)
    except (subprocess.SubprocessError, OSError, ValueError):
        return {"mpi4py": None, "mpi_library": None}
    return {"mpi4py": mpi4py_version, "mpi_library": library}


def git_state() -> dict[str, Any]:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(PROJECT), *args], capture_output=True, text=True, timeout=30,
            check=True,
        ).stdout.strip()

    try:
        return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain"))}
    except (subprocess.SubprocessError, OSError):
        return {"commit": None, "dirty": None}


def metadata() -> dict[str, Any]:
    import numpy  # only the harness needs it here, not every pattern

    from bench import launch

    try:
        mpiexec = launch.mpiexec_path()
        flavour: str | None = launch.mpi_flavour()
    except FileNotFoundError:
        mpiexec, flavour = None, None
    return {
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "host": socket.gethostname(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_available": sorted(os.sched_getaffinity(0)),
        "platform": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "numpy": numpy.__version__,
        **mpi_versions(),
        "mpiexec": mpiexec,
        "mpi_flavour": flavour,
        "start_method": multiprocessing.get_start_method(),
        "git": git_state(),
    }


def document(kind: str, benchmarks: Sequence[dict[str, Any]], **extra: Any) -> Document:
    """A new results document of ``kind`` (``"latency"``, ...) holding ``benchmarks``."""
    return {
        "schema": SCHEMA, "version": VERSION, "kind": kind, "metadata": metadata(),
        **extra, "benchmarks": list(benchmarks),
    }


def save(doc: Document, directory: str | os.PathLike[str] = "results") -> Path:
    """Write ``doc`` under a new name in ``directory``; never overwrites an earlier file."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = f"{doc['kind']}-{stamp}-{socket.gethostname()}"
    text = json.dumps(doc, indent=1) + "\n"
    for attempt in range(1, 1000):
        path = folder / (base + (f"-{attempt}" if attempt > 1 else "") + ".json")
        try:
            # "x": fails if the name exists, atomically, even against a concurrent run.
            with path.open("x") as out:
                out.write(text)
            return path
        except FileExistsError:
            continue
    raise ResultsError(f"no free file name for {base} in {folder}")


def load(path: str | os.PathLike[str]) -> Document:
    """Read a results document, refusing clearly what is not one of ours of this version."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ResultsError(f"{path}: no such results file") from None
    except OSError as error:
        raise ResultsError(f"{path}: cannot read it ({error.strerror})") from None
    try:
        doc = json.loads(text)
    except ValueError:
        raise ResultsError(f"{path}: not a results file (not JSON, or truncated)") from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise ResultsError(f"{path}: not a results file of this project (no {SCHEMA!r} schema)")
    if doc.get("version") != VERSION:
        raise ResultsError(
            f"{path}: results file version {doc.get('version')!r}; "
            f"this harness reads version {VERSION}"
        )
    if not isinstance(doc.get("benchmarks"), list):
        raise ResultsError(f"{path}: results file has no list of benchmarks (truncated?)")
    return doc
