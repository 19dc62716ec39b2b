"""A pipeline produce -> square -> collect, its stages in processes joined by ``Pipe``s.

    python -m shared_memory.pipe [--workers 4] [--items 10] [--trace]

The stages are generators: ``produce`` yields 0..N-1, ``square`` yields the square of
each item it reads, and the parent collects the squares in the order they arrive, which
is the order they were produced: a pipe is first-in first-out and every stage handles
one item after the other. Between two processes a stage ``send``s each item into its
end of a one-way ``Pipe`` and then *closes* it; the reader's ``recv()`` raises
``EOFError`` once the pipe is empty and no write end is open any more: that, and no
special item, is the end of the stream.

``--workers W`` counts the processes that run stages, the parent included, like
``mpiexec -n W`` counts ranks in ``message_passing.pipe``: with 3 or more, the producer
(worker 2) and the squarer (worker 1) are processes of their own and the parent
(worker 0) collects; with 2, one child produces and squares; with 1, the parent runs
all three stages and no pipe is needed. A pipeline has three stages, so workers
beyond the third would have nothing to do and are not started.

Hazards. End of stream needs *every* copy of a write end closed, and a forked child
inherits a copy of every pipe end its parent had open: a process that keeps an unused
copy of a write end, the parent included, leaves its reader waiting for ever. And a
writer that dies closes its end too, so ``EOFError`` alone does not mean success: the
parent checks every child's exit status once the stream has ended.

The message-passing twin is ``message_passing.pipe``; both print the same lines,
the squares in order and then ``end``, made by ``contract.outputs``.
Bare example: examples/shared_memory/pipe.py
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from multiprocessing import Pipe, Process
from multiprocessing.connection import Connection

from contract import cli, faults, unit
from contract.outputs import pipe_lines
from shared_memory import runtime

STAGES = ("collect", "square", "produce")  # downstream first: stage s runs on worker s


def placement(workers: int) -> dict[str, int]:
    """Which worker runs each stage: one a stage while there are enough, else they share."""
    return {stage: min(s, workers - 1) for s, stage in enumerate(STAGES)}


def produce(items: int) -> Iterator[int]:
    yield from range(items)


def square(stream: Iterable[int]) -> Iterator[int]:
    for x in stream:
        yield unit.square(x)


def received(inbox: Connection) -> Iterator[int]:
    """The items arriving on ``inbox``, until every write end of the pipe is closed."""
    while True:
        try:
            yield inbox.recv()
        except EOFError:
            return


@runtime.worker
def stage(
    worker: int, stages: Sequence[str], items: int, inbox: Connection | None,
    outbox: Connection, unused: Sequence[Connection], fault: faults.Fault | None,
) -> None:
    """A child process: its stages, between the pipe from upstream and the one downstream."""
    # Under fork this child holds a copy of every pipe end the parent had open, the
    # other stages' write ends too: while one copy of a write end is open its reader
    # never sees EOFError, so close every end that is not ours before anything else.
    # (Under spawn a child holds only what it is passed, and these copies cost nothing.)
    for end in unused:
        end.close()
    faults.strike(fault, worker)
    stream = produce(items) if inbox is None else received(inbox)
    if "square" in stages:
        stream = square(stream)
    with outbox:  # closing it, after the last item, is what ends the stream downstream
        for x in stream:
            outbox.send(x)


def run(
    items: int, workers: int = 4, *, trace: bool = False, fault: faults.Fault | None = None
) -> list[int]:
    """The squares of 0..items-1, in order, through a pipeline of min(workers, 3) processes."""
    where = placement(workers)
    hosts = max(where.values()) + 1
    # pipes[k] carries items from worker k+1 to worker k: (read end, write end).
    pipes = [Pipe(duplex=False) for _ in range(hosts - 1)]
    ends = [end for pipe in pipes for end in pipe]
    children = []
    for k in range(1, hosts):
        inbox = pipes[k][0] if k + 1 < hosts else None
        outbox = pipes[k - 1][1]
        mine = [name for name in STAGES if where[name] == k]
        unused = [end for end in ends if end is not inbox and end is not outbox]
        children.append(Process(
            target=stage, name="+".join(reversed(mine)),
            args=(k, mine, items, inbox, outbox, unused, fault),
        ))
    with runtime.started(children, closing=ends):
        # The parent keeps only the read end of the last pipe: its copies of the write
        # ends would keep the streams open for ever.
        for end in ends[1:]:
            end.close()
        faults.strike(fault, 0)
        stream = produce(items) if hosts == 1 else received(pipes[0][0])
        if where["square"] == 0:
            stream = square(stream)
        squares = list(stream)
        # The stream also ends when a writer dies: only the exit statuses say it was whole.
        runtime.supervise(children)
    if trace:
        parent = "+".join(name for name in reversed(STAGES) if where[name] == 0)
        print(f"worker 0 (the parent) ran {parent}", file=sys.stderr)
        for k, child in enumerate(children, 1):
            print(f"worker {k} (pid {child.pid}) ran {child.name}", file=sys.stderr)
    return squares


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.make_parser("shared_memory.pipe", __doc__)
    cli.add_workers(parser)
    cli.add_items(parser, default=10)
    args = cli.parse(parser, argv)
    if args.fault is not None and args.fault.worker >= len(STAGES):
        # Only the first three workers run a stage, so only they can be made to fail.
        parser.error(
            f"--fault {args.fault.kind}:{args.fault.worker} names a worker with no stage to run"
            f" (only workers 0-{len(STAGES) - 1} run one)"
        )
    with runtime.report_failures(parser.prog):
        squares = run(args.items, args.workers, trace=args.trace, fault=args.fault)
        print("\n".join(pipe_lines(squares)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
