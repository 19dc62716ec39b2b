"""Fill one dict from several processes: each worker stores key -> 2*key in a ``Manager().dict()``.

    python -m shared_memory.manager [--workers 4] [--items 10] [--trace]

``Manager()`` (here ``runtime.Manager()``, so that its server process, too, ends with
us) starts a server process that owns a real ``dict``; the workers
get a proxy to it, and every operation on the proxy (``table[key] = value``)
is a request that the server carries out whole on its dict (it serves each
client in a thread of its own, and one dict operation is atomic there), so
storing needs no lock. A read-modify-write such as ``table[key] += 1`` is two
requests, though, and two workers could interleave them: that needs a lock
(``manager.Lock()``). Each worker stores its own contiguous
share of the keys 0..N-1 (shares differ in size by at most one; with more
workers than keys some have nothing to do). The parent reads the dict back
once every worker has ended, and prints it sorted by key: the workers finish
in any order, and so are the keys in the dict.

Cost and safety. Each proxy call is a round trip over a socket to another
process, with both sides pickling: fine for coordination, slow for bulk data
(``update()`` with a whole share at once would be one round trip instead of
one per key). With the defaults, as checked on Linux, the server listens on a
Unix-domain socket in a fresh temporary directory only its owner may enter
(mode 0700), and every client must answer an HMAC challenge with the
parent's ``authkey`` (32 random bytes, inherited by the children) before it
is served; ``--trace`` shows the address. Requests are pickles, so anyone
holding the key could run code in the server: never hand it out.

The message-passing twin is ``message_passing.manager``; both print the same dict.
Bare example: examples/shared_memory/manager.py
"""

from __future__ import annotations

import sys
from collections.abc import MutableMapping, MutableSequence, Sequence
from multiprocessing import Process, current_process

from contract import cli, faults, tracing, unit
from shared_memory import runtime


@runtime.worker
def store(
    worker: int, keys: range, table: MutableMapping[int, int],
    log: MutableSequence[tuple[int, str, list[int]]] | None, fault: faults.Fault | None,
) -> None:
    """One worker: store key -> 2*key for each of its keys, through the proxy."""
    faults.strike(fault, worker)
    for key in keys:
        unit.burn()  # the benchmarks' synthetic per-item cost (none by default)
        table[key] = 2 * key
    if log is not None:
        log.append((worker, current_process().name, list(keys)))


def run(
    items: int, workers: int = 4, *, trace: bool = False, fault: faults.Fault | None = None
) -> dict[int, int]:
    """``{key: 2*key}`` for keys 0..items-1, filled by ``workers`` processes through a manager."""
    with runtime.Manager() as manager:
        if trace:
            print(f"manager server at {manager.address!r}", file=sys.stderr)
        table = manager.dict()
        log = manager.list() if trace else None
        processes = [
            Process(
                target=store, name=f"store-{w}",
                args=(w, unit.share(items, workers, w), table, log, fault),
            )
            for w in range(workers)
        ]
        runtime.start_and_supervise(processes)
        # Copy out while the server still runs: the proxy dies with it.
        result = dict(sorted(table.items()))
        for _, name, keys in sorted(log or ()):
            tracing.trace(name, keys, "stored")
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.make_parser("shared_memory.manager", __doc__)
    cli.add_workers(parser)
    cli.add_items(parser, default=10)
    args = cli.parse(parser, argv)
    with runtime.report_failures(parser.prog):
        table = run(args.items, args.workers, trace=args.trace, fault=args.fault)
        print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
