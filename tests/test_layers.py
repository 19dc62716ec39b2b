"""The layers point one way (``../shared/design.md``, "Layers, and which way they point").

    contract  <-  shared_memory, message_passing  <-  bench  <-  tests
    contract  <-  examples

Read from the source with ``ast``, so an import inside a function counts as much as one at
the top. A second rule: no package imports another package's ``_private`` module.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Which of the project's packages each package may import (itself always).
ALLOWED = {
    "contract": set(),
    "shared_memory": {"contract"},
    "message_passing": {"contract"},
    "bench": {"contract", "shared_memory", "message_passing"},
    "examples": {"contract"},  # bare: never the full programs nor the harness
}


def imported_names(tree: ast.AST, package: str) -> list[tuple[int, str]]:
    """``(line, dotted name)`` of every module a file imports, relative imports resolved."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package if node.level else (node.module or "")
            if node.level and node.module:
                base = f"{package}.{node.module}"
            # `from pkg import mod` may import a module: count pkg.mod too.
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def violations(root: Path) -> list[str]:
    """Every import under ``root`` that breaks a rule, as ``path:line: why``."""
    problems = []
    for package, allowed in ALLOWED.items():
        for path in sorted((root / package).rglob("*.py")):
            tree = ast.parse(path.read_text(), str(path))
            where = path.relative_to(root)
            for line, name in imported_names(tree, package):
                parts = name.split(".")
                top = parts[0]
                if top not in ALLOWED or top == package:
                    continue
                if top not in allowed:
                    problems.append(f"{where}:{line}: {package} must not import {name}")
                elif any(part.startswith("_") for part in parts[1:]):
                    problems.append(f"{where}:{line}: {name} is private to {top}")
    return problems


def test_the_project_keeps_the_import_rules():
    assert violations(ROOT) == []


def test_every_package_is_checked():
    assert {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()} == set(ALLOWED)


def test_the_check_finds_an_upward_import_and_a_private_one(tmp_path):
    for package in ALLOWED:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "contract" / "up.py").write_text("def f():\n    from bench import verify\n")
    (tmp_path / "shared_memory" / "across.py").write_text("import message_passing.pool\n")
    (tmp_path / "bench" / "private.py").write_text("from shared_memory import _workers\n")
    (tmp_path / "bench" / "fine.py").write_text("from shared_memory import runtime\nimport os\n")
    assert violations(tmp_path) == [
        "contract/up.py:2: contract must not import bench.verify",
        "shared_memory/across.py:1: shared_memory must not import message_passing.pool",
        "bench/private.py:1: shared_memory._workers is private to shared_memory",
    ]
