"""What listens, where, and who may talk to it; what the harness unpickles (nothing).

Pickles execute code when loaded, so a server that unpickles requests must listen only on a
local address and serve only clients that prove they hold its authkey.
"""

from __future__ import annotations

import ast
import ipaddress
import multiprocessing
import re
from multiprocessing import connection
from pathlib import Path

import pytest

from bench import launch

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted(
    p for package in ("bench", "shared_memory", "message_passing")
    for p in (ROOT / package).glob("*.py")
)


@pytest.mark.timeout(60)
def test_the_manager_pattern_listens_on_a_unix_socket():
    done = launch.run(
        launch.python("shared_memory.manager", "--workers", "1", "--items", "1", "--trace"),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    address = re.search(r"manager server at (.+)", done.stderr).group(1)
    assert address.startswith("'/"), address  # a filesystem path (AF_UNIX), not (host, port)


@pytest.mark.timeout(60)
def test_a_manager_refuses_a_client_without_its_authkey():
    # The default our manager pattern relies on: the HMAC challenge comes before any pickle.
    with multiprocessing.Manager() as manager:
        with pytest.raises(multiprocessing.AuthenticationError):
            connection.Client(manager.address, authkey=b"not the key")


def string_constants(path: Path) -> list[str]:
    return [
        node.value for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def test_every_address_in_the_code_is_local():
    for path in SOURCES:
        for text in string_constants(path):
            try:
                address = ipaddress.ip_address(text)
            except ValueError:
                continue
            assert address.is_loopback or address in ipaddress.ip_network("198.18.0.0/15"), (
                f"{path.name} uses the address {text}: listen on loopback only (198.18.0.0/15 "
                "is for the simulated hosts' private network namespaces)"
            )


def test_every_manager_or_listener_is_given_an_authkey():
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            keywords = {k.arg for k in node.keywords}
            # Manager() with no address listens on a fresh Unix socket with a random key.
            given_address = bool(node.args) or "address" in keywords
            if name in {"Listener", "Client"} or (name.endswith("Manager") and given_address):
                assert "authkey" in keywords, f"{path.name}:{node.lineno}: {name} without authkey"


def test_no_address_tuple_listens_on_every_interface():
    # ("", port) and ("0.0.0.0", port) mean every interface: never in this project.
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Tuple) and len(node.elts) == 2:
                host = node.elts[0]
                if isinstance(host, ast.Constant) and host.value in {"", "0.0.0.0", "::"}:
                    port = node.elts[1]
                    assert not isinstance(port, ast.Constant) or not isinstance(
                        port.value, int
                    ), f"{path.name}:{node.lineno}: listens on every interface"


def test_results_are_read_as_json_never_pickle():
    for path in SOURCES:
        tree = ast.parse(path.read_text())
        imported = {
            alias.name for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        } | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        if path.parent.name == "bench" and path.name in {"results.py", "compare.py", "report.py"}:
            assert "pickle" not in imported, path.name
    assert "json.load" in (ROOT / "bench" / "results.py").read_text()
