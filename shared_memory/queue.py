"""One producer, W consumers on a ``multiprocessing.Queue``; the consumers square what they take.

    python -m shared_memory.queue [--workers 4] [--items 10] [--batch 1] [--joinable] [--trace]

A producer process puts the items 0..N-1 on a ``Queue`` (``--batch B``: in blocks of
B consecutive items, one ``put`` a block, so B times fewer messages), then one sentinel
(``None``) per consumer: a consumer stops when it takes a sentinel, so every consumer
stops exactly once and no item is left behind. Asking ``empty()`` and then calling
``get()`` would race: another consumer can take the last item in between, and ``get()``
then waits forever. Each consumer sends back, on a second queue, the items it took and
the sum of their squares; the parent adds them up.

``--joinable`` uses a ``JoinableQueue``: each consumer calls ``task_done()`` once it
has squared what it took, and the producer's ``join()`` returns only when every item
put has been marked done (squared, not just taken) before it sends the sentinels.
``JoinableQueue.join()`` has no time-out at all, which is why it runs in the producer
process, where the parent can stop it, and not in the parent.

The consumers are workers 0..W-1 for ``--fault raise:W``, which strikes once consumer W
has taken its first block: the block is lost, and the run must fail, not miscount.
Hazards: the parent reads every report before it waits for the consumers to end (a
consumer's report may still sit in its queue's feeder thread), and never waits on a bare
``get()`` for a consumer that died: ``runtime.gather`` does both, and says why.

The message-passing twin is ``message_passing.queue``; both print the same line,
the count and the sum of squares consumed, made by ``contract.outputs.Consumed``.
Bare example: examples/shared_memory/queue.py
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from multiprocessing import JoinableQueue, Process, Queue, current_process, queues

from contract import cli, faults, unit
from contract.outputs import Consumed
from shared_memory import runtime


def blocks(items: int, batch: int) -> list[range]:
    """0..items-1 cut into consecutive blocks of ``batch`` items (the last one may be shorter)."""
    return [range(start, min(start + batch, items)) for start in range(0, items, batch)]


@runtime.worker
def produce(tasks: queues.Queue, items: int, batch: int, consumers: int) -> None:
    for block in blocks(items, batch):
        tasks.put(block)
    if isinstance(tasks, queues.JoinableQueue):
        # Returns once every block put has had its task_done(): all of them squared.
        tasks.join()
    # One sentinel per consumer, after the work: the queue is first-in first-out, so a
    # consumer that takes a sentinel knows no work is left behind it.
    for _ in range(consumers):
        tasks.put(None)


@runtime.worker
def consume(
    index: int, tasks: queues.Queue, results: queues.Queue, fault: faults.Fault | None
) -> None:
    joinable = isinstance(tasks, queues.JoinableQueue)
    taken: list[int] = []
    total = 0
    block = tasks.get()  # waits for a block of items, or this consumer's sentinel
    # --fault strikes here, the block taken and not squared: with --joinable it never gets
    # its task_done(), and the producer's join() would wait for it forever.
    faults.strike(fault, index)
    while block is not None:
        taken.extend(block)
        total += sum(map(unit.square, block))
        if joinable:
            tasks.task_done()  # squared: join() may count it
        block = tasks.get()
    if joinable:
        tasks.task_done()  # every get() needs its task_done(), a sentinel's too
    name = f"{current_process().name} (pid {os.getpid()})"
    results.put((index, taken, total, name))


def run(
    items: int, workers: int = 4, *, batch: int = 1, joinable: bool = False,
    trace: bool = False, fault: faults.Fault | None = None,
) -> Consumed:
    """Squares of 0..items-1 consumed from a queue by ``workers`` consumer processes."""
    tasks = JoinableQueue() if joinable else Queue()
    results = Queue()
    consumers = [
        Process(target=consume, name=f"consumer-{i}", args=(i, tasks, results, fault))
        for i in range(workers)
    ]
    producer = Process(target=produce, name="producer", args=(tasks, items, batch, workers))
    processes = [producer, *consumers]
    with runtime.started(processes):
        reports = sorted(runtime.gather(results, workers, processes))  # before they end
        runtime.supervise(processes)
    consumed = Consumed(
        [taken for _, taken, _, _ in reports],
        [total for _, _, total, _ in reports],
        [name for _, _, _, name in reports],
    )
    if trace:
        for name, taken in zip(consumed.names, consumed.taken, strict=True):
            print(f"{name} took {len(taken)} items", file=sys.stderr)
    return consumed


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.make_parser("shared_memory.queue", __doc__)
    cli.add_workers(parser)
    cli.add_items(parser, default=10)
    parser.add_argument(
        "--batch", type=cli.positive, default=1, metavar="B",
        help="put the items on the queue in blocks of B (default 1: one item a message)",
    )
    parser.add_argument(
        "--joinable", action="store_true",
        help="a JoinableQueue: consumers call task_done(), the producer join()s",
    )
    args = cli.parse(parser, argv)
    with runtime.report_failures(parser.prog):
        print(run(
            args.items, args.workers, batch=args.batch, joinable=args.joinable,
            trace=args.trace, fault=args.fault,
        ))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
