"""Latency or bandwidth of one multiprocessing channel, between a parent and one child process.

    python -m bench.latency.mp CHANNEL [--mode latency|bandwidth] [--sizes BYTES ...]
        [--warmup 2] [--repeat 10] [--scale 1] [--window 64] [--pin A B]

CHANNEL is one of:

* ``pipe-bytes``: ``multiprocessing.Pipe()`` (a Unix socket pair), raw bytes:
  ``send_bytes`` of a numpy buffer, ``recv_bytes_into`` a private one;
* ``pipe-pickle``: the same Pipe, ``send``/``recv`` of a bytes object (pickled);
* ``queue``: two ``multiprocessing.Queue``, one each way, ``put``/``get`` of a
  bytes object (pickled by the queue's feeder thread);
* ``shm-semaphore``: ``multiprocessing.shared_memory`` buffers, a message
  announced with a ``Semaphore``;
* ``shm-spin``: shared memory too, announced by a sequence number in shared
  memory that the receiver spins on;
* ``manager-tcp``: a ``multiprocessing.managers`` server in the child, listening
  on 127.0.0.1 with an authkey; the parent calls a method of the object it
  serves through a proxy, over TCP, and the data comes back as the reply. The
  one multiprocessing channel that could cross a host boundary (a manager's
  server can listen on any address); measured here on loopback only.

On the shared-memory channels a message is really copied in by the sender
(from its private buffer) and out by the receiver (into its private buffer),
with ``numpy.copyto``: otherwise there is no message, just a shared array, and
nothing to compare with a pipe or with MPI.

Latency mode is a ping-pong, the parent sending first; bandwidth mode streams
windows of messages from the parent to the child, each window answered by a
one-byte acknowledgement (pipes and queues: back-to-back sends; shared memory:
a ring of slots, a bounded buffer, so several messages are in flight; a
manager's proxy cannot stream: each call waits for its reply, so there every
message is acknowledged). Prints one JSON document on stdout (the shape:
``bench.latency._timing``).

The twin over MPI is ``bench.latency.mpi``.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from multiprocessing import connection
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from multiprocessing.managers import BaseManager
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from multiprocessing.shared_memory import SharedMemory

import numpy as np

from bench.latency import _timing
from bench.latency._timing import Batch, Plan, Step
from contract import cli, faults
from shared_memory import runtime

PROG = "python -m bench.latency.mp"


class Channel:
    """Made by the parent before the child starts; then each process opens its own side."""

    def __init__(self, ctx: BaseContext, plan: Plan) -> None:
        self.plan = plan

    def open(self, leader: bool) -> None:
        """This process's setup (the parent's is done after the child started)."""

    def prepare(self, step: Step, leader: bool) -> Batch:
        """Allocate and write this side's buffers for ``step``; return this side's batch."""
        if step.mode == "latency":
            return self.pingpong(step, leader)
        return self.stream(step, leader)

    def pingpong(self, step: Step, leader: bool) -> Batch:
        raise NotImplementedError

    def stream(self, step: Step, leader: bool) -> Batch:
        raise NotImplementedError

    def close(self, clean: bool = True) -> None:
        """Let go of this process's handles (in both processes); ``clean``: all went well."""

    def unlink(self) -> None:
        """Destroy what outlives processes (the parent, once)."""


class PipeBytes(Channel):
    """One duplex Pipe; raw bytes from a numpy buffer into a numpy buffer."""

    def __init__(self, ctx: BaseContext, plan: Plan) -> None:
        super().__init__(ctx, plan)
        self.ends: tuple[Connection, Connection] = ctx.Pipe()  # (parent's, child's)

    def open(self, leader: bool) -> None:
        # Keep only our end: if the other process dies, our recv sees EOF, not silence.
        mine, theirs = self.ends if leader else self.ends[::-1]
        theirs.close()
        self.conn = mine

    def pingpong(self, step: Step, leader: bool) -> Batch:
        out, into = _timing.message(step.size), _timing.message(step.size, 0x5A)
        send, recv, n = self.conn.send_bytes, self.conn.recv_bytes_into, step.iterations

        def lead() -> None:
            for _ in range(n):
                send(out)
                recv(into)

        def follow() -> None:
            for _ in range(n):
                recv(into)
                send(out)

        return lead if leader else follow

    def stream(self, step: Step, leader: bool) -> Batch:
        out, into = _timing.stream_buffers(step.size, leader)
        ack = _timing.message(1)
        send, recv = self.conn.send_bytes, self.conn.recv_bytes_into
        window, windows = step.window, step.windows

        def lead() -> None:
            for _ in range(windows):
                for _ in range(window):
                    send(out)
                recv(ack)

        def follow() -> None:
            for _ in range(windows):
                for _ in range(window):
                    recv(into)
                send(ack)

        return lead if leader else follow

    def close(self, clean: bool = True) -> None:
        conn = getattr(self, "conn", None)
        if conn is not None:
            conn.close()


class PipePickle(PipeBytes):
    """The same Pipe; ``send``/``recv`` of a bytes object, pickled and unpickled each time."""

    def pingpong(self, step: Step, leader: bool) -> Batch:
        out = _timing.payload(step.size)
        send, recv, n = self.conn.send, self.conn.recv, step.iterations

        def lead() -> None:
            for _ in range(n):
                send(out)
                recv()

        def follow() -> None:
            for _ in range(n):
                recv()
                send(out)

        return lead if leader else follow

    def stream(self, step: Step, leader: bool) -> Batch:
        out = _timing.payload(step.size)
        send, recv = self.conn.send, self.conn.recv
        window, windows = step.window, step.windows

        def lead() -> None:
            for _ in range(windows):
                for _ in range(window):
                    send(out)
                recv()

        def follow() -> None:
            for _ in range(windows):
                for _ in range(window):
                    recv()
                send(b"a")

        return lead if leader else follow


class Queues(Channel):
    """Two Queues, parent-to-child and back; the feeder threads pickle and write."""

    def __init__(self, ctx: BaseContext, plan: Plan) -> None:
        super().__init__(ctx, plan)
        self.there, self.back = ctx.Queue(), ctx.Queue()

    def ends(self, leader: bool) -> tuple[Queue, Queue]:
        """(the queue this side puts on, the one it gets from)."""
        return (self.there, self.back) if leader else (self.back, self.there)

    def pingpong(self, step: Step, leader: bool) -> Batch:
        out = _timing.payload(step.size)
        mine, theirs = self.ends(leader)
        put, get, n = mine.put, theirs.get, step.iterations

        def lead() -> None:
            for _ in range(n):
                put(out)
                get()

        def follow() -> None:
            for _ in range(n):
                get()
                put(out)

        return lead if leader else follow

    def stream(self, step: Step, leader: bool) -> Batch:
        out = _timing.payload(step.size)
        mine, theirs = self.ends(leader)
        put, get = mine.put, theirs.get
        window, windows = step.window, step.windows

        def lead() -> None:
            for _ in range(windows):
                for _ in range(window):
                    put(out)
                get()

        def follow() -> None:
            for _ in range(windows):
                for _ in range(window):
                    get()
                put(b"a")

        return lead if leader else follow

    def close(self, clean: bool = True) -> None:
        for queue in (self.there, self.back):
            if not clean:  # what is left unread may never be: do not wait to flush it
                queue.cancel_join_thread()
            queue.close()
            queue.join_thread()


CACHE_LINE = 64
PAGE = 4096


def _round_up(n: int, to: int) -> int:
    return -(-n // to) * to


class SharedSegments(Channel):
    """Two shared-memory segments: ``data`` (the messages) and ``control`` (counters).

    Latency mode uses two regions of ``data``, ping (parent to child) and pong;
    bandwidth mode a ring of ``slots(size)`` slots of one message each, 64-byte
    aligned. Both segments are created here, in the parent, before the child
    exists; the child attaches by name; each process closes its mappings; the
    parent unlinks both exactly once (:meth:`unlink`), whatever happened.
    """

    def __init__(self, ctx: BaseContext, plan: Plan) -> None:
        super().__init__(ctx, plan)
        largest = max(plan.sizes)
        if plan.mode == "latency":
            self.pong_at = _round_up(largest, PAGE)
            need = 2 * self.pong_at
        else:
            need = max(_timing.slots(s.size, s.window) * _round_up(s.size, CACHE_LINE)
                       for s in plan.steps())
        self._lock = threading.Lock()
        self.segments: list[SharedMemory] = []
        self.unlinked = False
        try:
            for kind, nbytes in (("data", need), ("control", PAGE)):
                self.segments.append(SharedMemory(
                    name=f"{_timing.SEGMENT_PREFIX}{os.getpid()}-{kind}", create=True, size=nbytes))
        except BaseException:
            self.unlink()
            raise
        self.names = [segment.name for segment in self.segments]

    def __getstate__(self) -> dict[str, object]:
        # What a spawned child gets: names to attach to, not the parent's mappings.
        state = self.__dict__.copy()
        del state["segments"], state["_lock"]
        return state

    def open(self, leader: bool) -> None:
        if not leader:  # attach: the parent's mappings (if forked) are not ours to use
            self.segments = [SharedMemory(name=name) for name in self.names]
        data, control = self.segments
        self.data = np.ndarray((data.size,), dtype=np.uint8, buffer=data.buf)
        self.data.fill(0x3C)  # write it, like every buffer before timing (harmless twice)
        self.counters = control.buf.cast("q")  # int64s, 8 per cache line

    def pingpong_regions(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        return self.data[:size], self.data[self.pong_at:self.pong_at + size]

    def ring(self, step: Step) -> list[np.ndarray]:
        assert step.window is not None
        stride = _round_up(step.size, CACHE_LINE)
        return [self.data[i * stride:i * stride + step.size]
                for i in range(_timing.slots(step.size, step.window))]

    def close(self, clean: bool = True) -> None:
        # Every view must be gone before a mapping can close (else BufferError).
        self.data = None
        counters = getattr(self, "counters", None)
        if counters is not None:
            counters.release()
            self.counters = None
        for segment in getattr(self, "segments", ()):
            segment.close()

    def unlink(self) -> None:
        with self._lock:  # the watchdog thread and the main thread may both get here
            if not self.unlinked:
                self.unlinked = True
                for segment in self.segments:
                    segment.unlink()


class ShmSemaphore(SharedSegments):
    """Shared memory, each message announced by releasing a Semaphore.

    Latency: ``there`` says "ping is in", ``back`` says "pong is in". Bandwidth:
    ``full`` counts filled slots, ``free`` hands slots back to the sender when
    the ring is smaller than the window, ``back`` is the acknowledgement.
    """

    def __init__(self, ctx: BaseContext, plan: Plan) -> None:
        super().__init__(ctx, plan)
        self.there, self.back = ctx.Semaphore(0), ctx.Semaphore(0)
        self.full, self.free = ctx.Semaphore(0), ctx.Semaphore(0)

    def pingpong(self, step: Step, leader: bool) -> Batch:
        out, into = _timing.message(step.size), _timing.message(step.size, 0x5A)
        ping, pong = self.pingpong_regions(step.size)
        copy, n = np.copyto, step.iterations
        there, back = self.there, self.back

        def lead() -> None:
            for _ in range(n):
                copy(ping, out)
                there.release()
                back.acquire()
                copy(into, pong)

        def follow() -> None:
            for _ in range(n):
                there.acquire()
                copy(into, ping)
                copy(pong, out)
                back.release()

        return lead if leader else follow

    def stream(self, step: Step, leader: bool) -> Batch:
        out, into = _timing.stream_buffers(step.size, leader)
        ring = self.ring(step)
        slots, window, windows = len(ring), step.window, step.windows
        copy, full, free, ack = np.copyto, self.full, self.free, self.back
        # Each window starts with an empty ring. Message j goes to slot j % slots;
        # from j = slots on, the sender first takes a slot the receiver handed back.

        def lead() -> None:
            for _ in range(windows):
                for j in range(window):
                    if j >= slots:
                        free.acquire()
                    copy(ring[j % slots], out)
                    full.release()
                ack.acquire()

        def follow() -> None:
            for _ in range(windows):
                for j in range(window):
                    full.acquire()
                    copy(into, ring[j % slots])
                    if j + slots < window:  # the sender will want this slot again
                        free.release()
                ack.release()

        return lead if leader else follow


# Counters in the control segment: int64 indexes, each on a cache line of its own.
PING, PONG, HEAD, TAIL, ACK = 0, 8, 16, 24, 32
SPINS = 2000  # polls before yielding the CPU at each further poll


def wait_until(counters: memoryview, index: int, value: int) -> None:
    """Spin until the counter at ``index`` reaches ``value``; after SPINS polls, yield each time.

    Pure spinning is best with each process on a CPU of its own. When the two
    share one (unpinned on a busy machine, or ``--pin 0 0``) the peer cannot
    run until we give the CPU up, so after a while every poll yields.
    """
    polls = 0
    while counters[index] < value:
        polls += 1
        if polls > SPINS:
            os.sched_yield()


class ShmSpin(SharedSegments):
    """Shared memory, each message announced by a sequence number the receiver spins on.

    All counters only grow, and each has one writer: PING (parent), PONG
    (child) for the ping-pong; HEAD (messages published, parent), TAIL
    (messages consumed, child) and ACK (windows acknowledged, child) for the
    ring. Each process keeps its own copy of the totals across batches.

    Memory ordering. The protocol needs the data written before the counter
    that announces it is seen (publish), and the counter seen before the data
    is read (consume). On x86-64 (TSO) plain stores become visible in program
    order and loads are not reordered with older loads, and each numpy copy and
    each memoryview store is an opaque C call the compiler cannot move across;
    an aligned 8-byte store is atomic. So it is correct here as written. On
    ARM (and POWER), weakly ordered, it is not: the counter store needs release
    semantics (``stlr``, or ``dmb ish`` before it), the counter load acquire
    semantics (``ldar``, or ``dmb ish`` after it), and the receiver's "slot
    consumed" store (TAIL) must also order its earlier loads of the slot. Pure
    Python cannot issue those fences; on ARM use ``shm-semaphore`` (semaphores
    are full barriers), or do the counter accesses in C (C11 atomics).
    """

    def __init__(self, ctx: BaseContext, plan: Plan) -> None:
        super().__init__(ctx, plan)
        self.seq = self.head = self.acks = 0

    def pingpong(self, step: Step, leader: bool) -> Batch:
        out, into = _timing.message(step.size), _timing.message(step.size, 0x5A)
        ping, pong = self.pingpong_regions(step.size)
        copy, n, counters = np.copyto, step.iterations, self.counters

        def lead() -> None:
            seq = self.seq
            for _ in range(n):
                seq += 1
                copy(ping, out)
                counters[PING] = seq  # publish: after the data
                if counters[PONG] < seq:
                    wait_until(counters, PONG, seq)
                copy(into, pong)
            self.seq = seq

        def follow() -> None:
            seq = self.seq
            for _ in range(n):
                seq += 1
                if counters[PING] < seq:
                    wait_until(counters, PING, seq)
                copy(into, ping)
                copy(pong, out)
                counters[PONG] = seq
            self.seq = seq

        return lead if leader else follow

    def stream(self, step: Step, leader: bool) -> Batch:
        out, into = _timing.stream_buffers(step.size, leader)
        ring = self.ring(step)
        slots, window, windows = len(ring), step.window, step.windows
        copy, counters = np.copyto, self.counters
        # Message number h (counted since the start) goes to slot h % slots. The
        # ring is empty between windows, so the slot count may change between sizes.

        def lead() -> None:
            head, acks = self.head, self.acks
            for _ in range(windows):
                for _ in range(window):
                    if head - counters[TAIL] >= slots:  # ring full: wait for a slot
                        wait_until(counters, TAIL, head - slots + 1)
                    copy(ring[head % slots], out)
                    head += 1
                    counters[HEAD] = head
                acks += 1
                if counters[ACK] < acks:
                    wait_until(counters, ACK, acks)
            self.head, self.acks = head, acks

        def follow() -> None:
            tail, acks = self.head, self.acks
            for _ in range(windows):
                for _ in range(window):
                    if counters[HEAD] <= tail:
                        wait_until(counters, HEAD, tail + 1)
                    copy(into, ring[tail % slots])
                    tail += 1
                    counters[TAIL] = tail
                acks += 1
                counters[ACK] = acks
            self.head, self.acks = tail, acks

        return lead if leader else follow


class Echo:
    """What the manager serves: each call carries its argument there and the reply back."""

    def echo(self, data: bytes) -> bytes:
        return data

    def take(self, data: bytes) -> None:
        return None


class EchoManager(BaseManager):
    pass


EchoManager.register("Echo", callable=Echo)
LOOPBACK = "127.0.0.1"


class ManagerTcp(Channel):
    """A manager's server in the child on 127.0.0.1 (any free port), an authkey; the parent
    connects as a client would from another host and calls the served object's methods.

    Each call is one request and one reply over the TCP connection of the proxy, both
    pickled: the latency is half a call. In bandwidth mode each message is a call whose
    reply is empty (``take``); a proxy call cannot return before its reply, so the window
    puts nothing more in flight.
    """

    def __init__(self, ctx: BaseContext, plan: Plan) -> None:
        super().__init__(ctx, plan)
        # A fresh random key: the server answers only who proves it knows the key.
        self.authkey = os.urandom(32)
        self.address: tuple[Connection, Connection] = ctx.Pipe(duplex=False)  # (read, write)

    def open(self, leader: bool) -> None:
        reader, writer = self.address
        if leader:
            writer.close()  # the child's end: if it dies before telling, recv sees EOF
            address = reader.recv()
            reader.close()
            self.manager: EchoManager | None = EchoManager(address, authkey=self.authkey)
            self.manager.connect()
            self.proxy = self.manager.Echo()  # type: ignore[attr-defined]
            return
        reader.close()
        server = EchoManager((LOOPBACK, 0), authkey=self.authkey).get_server()
        threading.Thread(target=server.serve_forever, name="manager", daemon=True).start()
        writer.send(server.address)
        writer.close()

    def batch(self, step: Step, leader: bool, call: str) -> Batch:
        if not leader:
            # The manager's threads serve the calls: the child's main thread has nothing to
            # do but wait for the next batch (and, after the last, for the leader's word).
            return lambda: None
        out = _timing.payload(step.size)
        method, n = getattr(self.proxy, call), step.iterations

        def lead() -> None:
            for _ in range(n):
                method(out)

        return lead

    def pingpong(self, step: Step, leader: bool) -> Batch:
        return self.batch(step, leader, "echo")

    def stream(self, step: Step, leader: bool) -> Batch:
        return self.batch(step, leader, "take")

    def close(self, clean: bool = True) -> None:
        for end in self.address:
            end.close()
        # The proxy's connection closes with it; the server, in the child, ends with it.
        self.proxy = self.manager = None


CHANNELS: dict[str, type[Channel]] = {
    "pipe-bytes": PipeBytes, "pipe-pickle": PipePickle, "queue": Queues,
    "shm-semaphore": ShmSemaphore, "shm-spin": ShmSpin, "manager-tcp": ManagerTcp,
}


class ChildFailed(RuntimeError):
    """The child process ended before the measurement did."""


def _ended(code: int | None) -> str:
    if code is None:
        return f"did not end within {JOIN_TIMEOUT:g} s of the measurement"
    if code < 0:
        return f"was killed by signal {-code}"
    return f"exited with status {code}"


def handshake(control: Connection, leader: bool) -> None:
    """The barrier before each batch: the leader starts its clock once the follower is ready."""
    if leader:
        control.send_bytes(b"g")
        control.recv_bytes()
    else:
        control.recv_bytes()
        control.send_bytes(b"r")


def follow(
    channel: Channel, plan: Plan, control: Connection, cpu: int | None,
    fault: faults.Fault | None,
) -> None:
    """The child's whole life: pin, say where it runs, do its half of every batch."""
    runtime.end_with_parent()  # nobody is left to measure for
    _timing.pin(cpu)
    channel.open(leader=False)
    clean = False
    try:
        control.send(_timing.affinity())
        _timing.sweep(
            plan, lambda step: channel.prepare(step, leader=False),
            lambda: handshake(control, leader=False), time.perf_counter, worker=1, fault=fault,
        )
        # Our half of the last batch may end before the leader's (manager-tcp: the manager's
        # threads serve, this one only waits): stay until the leader is done with us.
        control.recv_bytes()
        clean = True
    finally:
        channel.close(clean)
        control.close()


class Watchdog:
    """Ends the measurement if the child dies first, wherever the parent is waiting.

    The parent may be blocked where no end-of-file will ever come (a semaphore,
    a queue whose pipe it holds both ends of, a spin on shared memory); waiting
    there with time-outs would add a system call to every message. Instead a
    thread sleeps on the child's sentinel. If the child ends badly while the
    parent is measuring, the thread interrupts the main thread with SIGUSR1,
    whose handler raises :class:`ChildFailed` there: the blocking call returns
    (EINTR), and the parent unwinds through its ``finally`` as after any error.
    Should the main thread not come back within GRACE seconds (or not be the
    main thread, where no handler can be set), the thread unlinks the segments
    and ends the process itself.
    """

    GRACE = 5.0

    def __init__(self, child: BaseProcess, channel: Channel) -> None:
        self.child, self.channel = child, channel
        self.failure: str | None = None
        self.measuring = True  # changed by the main thread only, where the handler runs too
        self.over = threading.Event()
        self.interrupt = threading.current_thread() is threading.main_thread()
        self.previous = signal.signal(signal.SIGUSR1, self._raise) if self.interrupt else None
        self.thread = threading.Thread(target=self._watch, name="watchdog", daemon=True)
        self.thread.start()

    def _raise(self, signum: int, frame: object) -> None:
        if self.measuring and self.failure is not None:
            raise ChildFailed(self.failure)

    def _watch(self) -> None:
        connection.wait([self.child.sentinel])
        # Read the status without reaping (WNOWAIT): the main thread's join() stays
        # the one that reaps, so the two never race for it.
        try:
            ended = os.waitid(os.P_PID, self.child.pid, os.WEXITED | os.WNOWAIT)
        except ChildProcessError:  # reaped already, or not our child (forkserver)
            code = self.child.exitcode
        else:
            assert ended is not None
            code = ended.si_status if ended.si_code == os.CLD_EXITED else -ended.si_status
        # None: the main thread is reaping it, so is out of the measurement and will
        # judge the status itself (it only reaps in join(), after the last batch).
        if self.over.is_set() or code is None or code == 0:
            return
        self.failure = f"the child process {_ended(code)} during the measurement"
        if self.interrupt:
            signal.pthread_kill(threading.main_thread().ident, signal.SIGUSR1)
            if self.over.wait(self.GRACE):
                return
        if _REPORTING.acquire(blocking=False):
            print(f"{PROG}: error: {self.failure}", file=sys.stderr, flush=True)
            self.channel.unlink()
            os._exit(1)

    def stand_down(self) -> None:
        """After the child is reaped: no more interruptions, the old SIGUSR1 handler back."""
        self.measuring = False
        self.over.set()
        self.thread.join()
        if self.interrupt:
            signal.signal(signal.SIGUSR1, self.previous)


JOIN_TIMEOUT = 30.0
_REPORTING = threading.Lock()  # the watchdog's last resort and main() never both report


def run(
    channel_name: str, plan: Plan, pin: Sequence[int] | None = None,
    fault: faults.Fault | None = None,
) -> dict[str, object]:
    """Measure one channel with a fresh child process; the JSON document, as a dict."""
    ctx = multiprocessing.get_context()
    parent_cpu, child_cpu = pin if pin else (None, None)
    _timing.pin(parent_cpu)  # before the child starts: it inherits, then moves itself
    here, there = ctx.Pipe()
    channel: Channel | None = None
    child = None
    watchdog = None
    clean = False
    try:
        channel = CHANNELS[channel_name](ctx, plan)
        child = ctx.Process(
            target=follow, args=(channel, plan, there, child_cpu, fault),
            name=f"latency-{channel_name}", daemon=True,
        )
        child.start()
        there.close()  # the child's end: if the child dies, our recv sees EOF
        channel.open(leader=True)
        watchdog = Watchdog(child, channel)
        cpus = [_timing.affinity(), here.recv()]
        sizes = _timing.sweep(
            plan, lambda step: channel.prepare(step, leader=True),
            lambda: handshake(here, leader=True), time.perf_counter, worker=0, fault=fault,
        )
        here.send_bytes(b"e")  # the last batch is over: the child may go
        child.join(JOIN_TIMEOUT)
        watchdog.measuring = False
        if child.exitcode != 0:
            raise ChildFailed(f"the child process {_ended(child.exitcode)}")
        clean = True
    except (EOFError, ConnectionError) as error:
        if watchdog is not None:
            watchdog.measuring = False
        if child is not None:
            child.join(1.0)
            if child.exitcode not in (None, 0):
                raise ChildFailed(f"the child process {_ended(child.exitcode)}") from error
        raise
    finally:
        if watchdog is not None:
            watchdog.measuring = False
        if child is not None and child.pid is not None:
            if child.is_alive():
                child.terminate()
            child.join()
        if watchdog is not None:
            watchdog.stand_down()
        here.close()
        if channel is not None:
            channel.close(clean)
            channel.unlink()
    if isinstance(channel, SharedSegments) and plan.mode == "bandwidth":
        for entry in sizes:
            entry["slots"] = _timing.slots(entry["size"], entry["window"])  # type: ignore[arg-type]
    return _timing.document(channel_name, plan, cpus, pin is not None, sizes)


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.make_parser("bench.latency.mp", __doc__)
    _timing.add_arguments(parser, list(CHANNELS))
    args = parser.parse_args(argv)
    _timing.check_pin(parser, args.pin, os.sched_getaffinity(0))
    cli.check_fault(parser, args.fault, 2)
    try:
        doc = run(args.channel, _timing.plan_from(args), args.pin, args.fault)
    except ChildFailed as failure:
        _REPORTING.acquire()  # if the watchdog has it, it is about to end the process
        print(f"{PROG}: error: {failure}", file=sys.stderr)
        return 1
    _timing.emit(doc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
