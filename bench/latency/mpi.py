"""Latency or bandwidth of one MPI channel between two ranks; rank 0 prints the JSON.

    mpiexec -n 2 python -m bench.latency.mpi CHANNEL [--mode latency|bandwidth]
        [--sizes BYTES ...] [--warmup 2] [--repeat 10] [--scale 1] [--window 64] [--pin A B]

CHANNEL is one of:

* ``mpi-pickle``: ``comm.send``/``comm.recv`` of a bytes object (pickled);
* ``mpi-buffer``: ``comm.Send``/``comm.Recv`` of numpy uint8 buffers (no pickle);
* ``mpi-pkl5``: ``mpi4py.util.pkl5.Intracomm`` ``send``/``recv`` of a bytes
  object (pickle protocol 5, the data sent out of band, no 2 GiB limit).

Latency mode is the ping-pong of ``python -m mpi4py.bench pingpong`` and
osu_latency; bandwidth mode is osu_bw: rank 0 posts a window of nonblocking
sends (``Isend``/``isend``) and waits for them all, rank 1 posts as many
nonblocking receives into distinct buffers and waits for them all, then sends
a one-byte acknowledgement. pkl5 has no ``irecv`` (a pickle's size is not
known before it arrives): its receiver matches each message with ``mprobe``
and receives it with the matched message's ``irecv``. Times come from
``MPI.Wtime`` after a ``Barrier``. Runs with exactly 2 ranks.

The twin over multiprocessing is ``bench.latency.mp``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from mpi4py import MPI
from mpi4py.util import pkl5

from bench.latency import _timing
from bench.latency._timing import Batch, Plan, Step
from contract import cli, faults
from message_passing import runtime

PROG = "python -m bench.latency.mpi"
DATA, ACK = 1, 2  # tags


class Buffers:
    """``mpi-buffer``: the upper-case calls on numpy buffers, described as raw bytes."""

    def __init__(self, comm: MPI.Intracomm) -> None:
        self.comm = comm

    def prepare(self, step: Step, leader: bool) -> Batch:
        if step.mode == "latency":
            return self.pingpong(step, leader)
        return self.stream(step, leader)

    def pingpong(self, step: Step, leader: bool) -> Batch:
        out = [_timing.message(step.size), MPI.BYTE]
        into = [_timing.message(step.size, 0x5A), MPI.BYTE]
        send, recv, n = self.comm.Send, self.comm.Recv, step.iterations

        def lead() -> None:
            for _ in range(n):
                send(out, 1, DATA)
                recv(into, 1, DATA)

        def follow() -> None:
            for _ in range(n):
                recv(into, 0, DATA)
                send(out, 0, DATA)

        return lead if leader else follow

    def stream(self, step: Step, leader: bool) -> Batch:
        window, windows = step.window, step.windows
        assert window is not None
        ack = [_timing.message(1), MPI.BYTE]
        comm, waitall = self.comm, MPI.Request.Waitall
        if leader:
            out = [_timing.message(step.size), MPI.BYTE]  # one buffer under all the sends

            def lead() -> None:
                isend = comm.Isend
                for _ in range(windows):
                    waitall([isend(out, 1, DATA) for _ in range(window)])
                    comm.Recv(ack, 1, ACK)

            return lead
        # Receives in flight together need buffers of their own.
        into = [[_timing.message(step.size, 0x5A), MPI.BYTE] for _ in range(window)]

        def follow() -> None:
            irecv = comm.Irecv
            for _ in range(windows):
                waitall([irecv(buf, 0, DATA) for buf in into])
                comm.Send(ack, 0, ACK)

        return follow


class Pickled(Buffers):
    """``mpi-pickle``: the lower-case calls on a bytes object, pickled each time."""

    def pingpong(self, step: Step, leader: bool) -> Batch:
        out = _timing.payload(step.size)
        send, recv, n = self.comm.send, self.comm.recv, step.iterations

        def lead() -> None:
            for _ in range(n):
                send(out, 1, DATA)
                recv(None, 1, DATA)

        def follow() -> None:
            for _ in range(n):
                recv(None, 0, DATA)
                send(out, 0, DATA)

        return lead if leader else follow

    def stream(self, step: Step, leader: bool) -> Batch:
        window, windows = step.window, step.windows
        assert window is not None
        out = _timing.payload(step.size)
        comm, waitall = self.comm, MPI.Request.waitall
        if leader:
            def lead() -> None:
                isend = comm.isend
                for _ in range(windows):
                    waitall([isend(out, 1, DATA) for _ in range(window)])
                    comm.recv(None, 1, ACK)

            return lead
        # irecv() needs a buffer that holds the whole pickle (its default is 32 KiB).
        room = len(MPI.pickle.dumps(out)) + 64
        into = [_timing.message(room, 0x5A) for _ in range(window)]

        def follow() -> None:
            irecv = comm.irecv
            for _ in range(windows):
                waitall([irecv(buf, 0, DATA) for buf in into])
                comm.send(b"a", 0, ACK)

        return follow


class Pkl5(Pickled):
    """``mpi-pkl5``: ``mpi4py.util.pkl5``, pickle protocol 5 with the data out of band."""

    def __init__(self, comm: MPI.Intracomm) -> None:
        super().__init__(pkl5.Intracomm(comm))

    def stream(self, step: Step, leader: bool) -> Batch:
        window, windows = step.window, step.windows
        assert window is not None
        out = _timing.payload(step.size)
        comm, waitall = self.comm, pkl5.Request.waitall
        if leader:
            def lead() -> None:
                isend = comm.isend
                for _ in range(windows):
                    waitall([isend(out, 1, DATA) for _ in range(window)])
                    comm.recv(None, 1, ACK)

            return lead

        def follow() -> None:
            mprobe = comm.mprobe
            for _ in range(windows):
                waitall([mprobe(0, DATA).irecv() for _ in range(window)])
                comm.send(b"a", 0, ACK)

        return follow


CHANNELS: dict[str, type[Buffers]] = {
    "mpi-pickle": Pickled, "mpi-buffer": Buffers, "mpi-pkl5": Pkl5,
}


def run(
    channel: str, plan: Plan, comm: MPI.Intracomm = MPI.COMM_WORLD,
    pin: Sequence[int] | None = None, fault: faults.Fault | None = None,
) -> dict[str, object] | None:
    """Collective over 2 ranks: the JSON document (as a dict) on rank 0, ``None`` on rank 1."""
    rank = comm.Get_rank()
    _timing.pin(pin[rank] if pin else None)
    cpus = comm.gather(_timing.affinity())
    side = CHANNELS[channel](comm)
    sizes = _timing.sweep(
        plan, lambda step: side.prepare(step, leader=rank == 0), comm.Barrier, MPI.Wtime,
        worker=rank, fault=fault,
    )
    if rank != 0:
        return None
    return _timing.document(channel, plan, cpus, pin is not None, sizes)


def main(argv: Sequence[str] | None = None) -> int:
    parser = runtime.parser("bench.latency.mpi", __doc__)
    _timing.add_arguments(parser, list(CHANNELS))
    args = parser.parse_args(argv)
    # Every rank must judge alike (a rank that alone gave up would leave the other
    # waiting), so CPUs are checked against the machine, not this rank's affinity.
    _timing.check_pin(parser, args.pin, range(os.cpu_count() or 1))
    cli.check_fault(parser, args.fault, 2)
    comm = MPI.COMM_WORLD
    if comm.Get_size() != 2:
        if comm.Get_rank() == 0:
            print(f"{PROG}: error: needs exactly 2 ranks (mpiexec -n 2), not "
                  f"{comm.Get_size()}", file=sys.stderr)
        return 2
    with runtime.abort_on_error():
        doc = run(args.channel, _timing.plan_from(args), comm, args.pin, args.fault)
        if doc is not None:
            _timing.emit(doc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
