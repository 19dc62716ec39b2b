"""A start signal (``Event``), at most 2 inside a section (``BoundedSemaphore``), a token in turn.

    python -m examples.shared_memory.sync [WORKERS]  # 4 worker processes if left out
"""
import sys
import time
from multiprocessing import BoundedSemaphore, Condition, Event, Process, Queue, Value

from contract.outputs import Observed  # the full program's three lines, checked before printing


def add(counter, n):
    with counter.get_lock():  # += is a read then a write: under the counter's lock
        counter.value += n
        return counter.value


def work(w, workers, ready, start, section, inside, handoff, turn, token, facts):
    if add(ready, 1) == workers:
        start.set()  # the last one ready lets everybody go at once
    start.wait()
    saw, peak, total = ready.value, 0, 0
    for x in range(w, 10, workers):
        with section:  # at most 2 workers in here at once, and we count them to see it
            peak = max(peak, add(inside, 1))
            total += x * x
            time.sleep(0.01)
            add(inside, -1)
    with handoff:  # the token: wait for our turn, add our sum, pass the turn on
        handoff.wait_for(lambda: turn.value == w)
        facts.put((w, saw, peak, turn.value))
        turn.value, token.value = turn.value + 1, token.value + total
        handoff.notify_all()


if __name__ == "__main__":
    workers = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    token, facts = Value("q", 0), Queue()
    shared = (Value("i", 0), Event(), BoundedSemaphore(2), Value("i", 0), Condition(),
              Value("i", 0), token, facts)
    processes = [Process(target=work, args=(w, workers, *shared)) for w in range(workers)]
    for process in processes:
        process.start()
    seen = sorted(facts.get() for _ in processes)  # read before join()
    for process in processes:
        process.join()
    order = [w for w, *_ in sorted(seen, key=lambda fact: fact[3])]  # order[t]: who took turn t
    ready, peaks = [fact[1] for fact in seen], [fact[2] for fact in seen]
    print("\n".join(Observed(workers, 2, ready, peaks, order, token.value).lines()))
