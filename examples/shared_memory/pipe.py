"""A pipeline produce -> square -> collect, its stages in processes joined by ``Pipe``s.

    python -m examples.shared_memory.pipe  # three stages: two processes and this one
"""
from multiprocessing import Pipe, Process


def produce(outbox):
    for x in [*range(10), None]:  # None: the end of the stream
        outbox.send(x)


def square(inbox, outbox):
    for x in iter(inbox.recv, None):
        outbox.send(x * x)
    outbox.send(None)


if __name__ == "__main__":
    numbers, to_square = Pipe(duplex=False)  # (read end, write end)
    squares, to_collect = Pipe(duplex=False)
    stages = [Process(target=produce, args=(to_square,)),
              Process(target=square, args=(numbers, to_collect))]
    for stage in stages:
        stage.start()
    for y in iter(squares.recv, None):  # first in, first out: in the order produced
        print(y)
    print("end")
    for stage in stages:
        stage.join()
