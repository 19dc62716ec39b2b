"""Every bare example prints what its full program prints, both ways, at two worker counts.

    python -m examples.shared_memory.P [W]       ==  python -m shared_memory.P [--workers W]
    mpiexec -n W python -m examples.message_passing.P  ==  mpiexec -n W python -m message_passing.P

at the catalog's default worker count and at one more. The examples are started with
``python -m`` from the project's folder, not as ``python examples/...py``: a script's own
folder comes first on ``sys.path``, and ``queue.py`` and ``array.py`` there would be imported
in place of the standard library's ``queue`` and ``array`` (which multiprocessing, and
mpi4py.util.sync through it, import), breaking every example of that folder.

An example file without a pattern, or a pattern without its two examples, fails
:func:`test_every_pattern_has_its_two_examples_and_nothing_else`.
"""

import ast
import inspect
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bench import launch
from bench.patterns import MODULES
from contract import cli

ROOT = Path(__file__).resolve().parents[1]
SIDES = ("shared_memory", "message_passing")
# The catalog's default worker count: what --workers means when it is left out.
DEFAULT = inspect.signature(cli.add_workers).parameters["default"].default
# A pipeline has three stages whatever the worker count: its example takes no count.
NO_WORKER_COUNT = {("shared_memory", "pipe")}

pytestmark = pytest.mark.timeout(150)


def problems(root: Path, patterns: tuple[str, ...]) -> list[str]:
    """What is wrong with ``root/examples``: each missing example, each file of no pattern."""
    folder = root / "examples"
    wanted = {folder / side / f"{pattern}.py" for side in SIDES for pattern in patterns}
    found = set(folder.rglob("*.py")) if folder.is_dir() else set()
    found.discard(folder / "__init__.py")  # the examples' package: no example of its own
    return sorted(
        [f"missing: {path.relative_to(root)}" for path in wanted - found]
        + [f"no pattern: {path.relative_to(root)}" for path in found - wanted]
    )


def test_every_pattern_has_its_two_examples_and_nothing_else():
    assert problems(ROOT, MODULES) == []


def test_the_check_finds_a_missing_and_a_stray_example(tmp_path):
    for side in SIDES:
        (tmp_path / "examples" / side).mkdir(parents=True)
        (tmp_path / "examples" / side / "pool.py").write_text("")
    (tmp_path / "examples" / "shared_memory" / "pool.py").unlink()
    (tmp_path / "examples" / "message_passing" / "extra.py").write_text("")
    (tmp_path / "examples" / "helper.py").write_text("")
    assert problems(tmp_path, ("pool",)) == [
        "missing: examples/shared_memory/pool.py",
        "no pattern: examples/helper.py",
        "no pattern: examples/message_passing/extra.py",
    ]
    assert problems(tmp_path / "nothing", ("pool",)) == [
        "missing: examples/message_passing/pool.py", "missing: examples/shared_memory/pool.py",
    ]


def launch_line(side: str, pattern: str) -> str:
    """How the example's docstring says to start it (its second paragraph begins so)."""
    if side == "shared_memory":
        return f"python -m examples.shared_memory.{pattern}"
    ranks = 3 if pattern == "pipe" else DEFAULT  # the pipeline's three stages
    return f"mpiexec -n {ranks} python -m examples.message_passing.{pattern}"


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("pattern", MODULES)
def test_the_docstring_gives_the_launch_line(side, pattern):
    doc = ast.get_docstring(ast.parse((ROOT / "examples" / side / f"{pattern}.py").read_text()))
    paragraphs = (doc or "").split("\n\n")
    assert len(paragraphs) >= 2 and paragraphs[1].strip().startswith(launch_line(side, pattern))


def commands(side: str, pattern: str, workers: int) -> tuple[list[str], list[str]]:
    """(the example, its full program) at ``workers`` workers."""
    example, full = f"examples.{side}.{pattern}", f"{side}.{pattern}"
    if side == "message_passing":
        return (launch.mpiexec(workers, *launch.python(example)),
                launch.mpiexec(workers, *launch.python(full)))
    if workers == DEFAULT:
        return launch.python(example), launch.python(full)
    count = [] if (side, pattern) in NO_WORKER_COUNT else [str(workers)]
    return launch.python(example, *count), launch.python(full, "--workers", str(workers))


@pytest.mark.parametrize("workers", [DEFAULT, DEFAULT + 1])
@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("pattern", MODULES)
def test_the_example_prints_what_its_full_program_prints(pattern, side, workers):
    # The two at once: they share nothing, and the file's run takes half the time.
    with ThreadPoolExecutor(2) as pool:
        example, full = pool.map(
            lambda argv: launch.run(argv, timeout=60, cwd=ROOT), commands(side, pattern, workers)
        )
    assert full.returncode == 0, full.stderr
    assert example.returncode == 0, example.stderr
    assert example.stdout == full.stdout
    assert example.stdout  # both printed something: an empty match proves nothing
