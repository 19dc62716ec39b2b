"""Workers as a class: ``class Squarer(Process)`` overriding ``run()``, each squaring its share.

    python -m shared_memory.worker_class [--workers 4] [--items 10] [--trace] [--fault raise:W]

Subclassing ``Process`` instead of passing a ``target``: ``__init__`` (which
must call ``Process.__init__`` first) keeps the worker's state, here its
index, its contiguous share of 0..N-1 and the write end of its result pipe;
``start()`` runs ``run()`` in the child. The state reaches the child as a copy
(forked, or pickled under the spawn and forkserver start methods, so it must be
picklable), and whatever ``run()`` changes stays in the child's copy: results
come back over the pipe, never through attributes.

Hazards, as in ``shared_memory.spawn``: the parent reads each pipe while it watches
every worker, never ``join()`` first (``runtime.start_and_collect`` says why).

The message-passing twin is ``message_passing.worker_class``; both print the same lines,
one a worker with its squares, made by ``contract.outputs.describe``.
Bare example: examples/shared_memory/worker_class.py
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from multiprocessing import Pipe, Process
from multiprocessing.connection import Connection

from contract import cli, faults, tracing, unit
from contract.outputs import describe
from shared_memory import runtime


class Squarer(Process):
    """A worker process that squares the share it was given and sends the squares back."""

    def __init__(
        self, index: int, share: Sequence[int], results: Connection,
        fault: faults.Fault | None = None,
    ) -> None:
        super().__init__(name=f"Squarer-{index}")
        self.index = index
        self.share = list(share)
        self.results = results
        self.fault = fault

    @runtime.worker
    def run(self) -> None:
        """In the child: the squares of the share, and who made them, to the parent."""
        faults.strike(self.fault, self.index)
        squares = [x * x for x in self.share]
        self.results.send((squares, f"{self.name}, pid {os.getpid()}"))
        self.results.close()


def run(
    items: int = 10, workers: int = 4, *, trace: bool = False,
    fault: faults.Fault | None = None,
) -> list[list[int]]:
    """The squares of 0..items-1, as one list per worker, in worker order."""
    shares = unit.blocks(range(items), workers)
    pipes = [Pipe(duplex=False) for _ in range(workers)]
    squarers = [
        Squarer(index, share, send, fault)
        for index, (share, (_, send)) in enumerate(zip(shares, pipes, strict=True))
    ]
    results = runtime.start_and_collect(squarers, pipes)
    if trace:
        for share, (_, who) in zip(shares, results, strict=True):
            tracing.trace(who, share)
    return [squares for squares, _ in results]


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.make_parser("shared_memory.worker_class", __doc__)
    cli.add_workers(parser)
    cli.add_items(parser, default=10)
    args = cli.parse(parser, argv)
    with runtime.report_failures(parser.prog):
        results = run(args.items, args.workers, trace=args.trace, fault=args.fault)
        for index, squares in enumerate(results):
            print(describe(index, args.workers, squares))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
