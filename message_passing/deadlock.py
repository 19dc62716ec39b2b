"""Pairs of ranks exchange a large message: the send/send deadlock, then three ways out of it.

    mpiexec -n 4 python -m message_passing.deadlock [--size 1048576] [--unsafe [--patience 5]]
                                                    [--trace] [--fault raise:W]

Ranks pair up, (0, 1), (2, 3)...; with an odd number of ranks the last one has no partner
and says so. Each rank of a pair sends its partner ``--size`` bytes (a numpy buffer, sent as
it is with the upper-case calls) and receives as many from it.

``--unsafe``: both ranks of a pair ``Send`` first and ``Recv`` after. A blocking ``Send``
returns once the library is done with the buffer. A small message is copied out at once,
eagerly, into a buffer at the receiver, and the send returns before anyone receives; a
message above the library's *eager limit* goes by rendezvous: the data moves only once the
receive is posted, so the send waits for it. Both ranks wait in ``Send`` for a ``Recv`` that
neither will reach: a deadlock, which the MPI standard allows for any message size (a
program that relies on buffering is "unsafe"). Below the limit the same code completes,
which is why it "works" in a small test. A watchdog (``runtime.Watchdog`` says how) sees
no progress within ``--patience`` seconds, says which ranks are stuck in which call, and
aborts the job: non-zero, no process left running (an aborted MPICH job cannot remove its
shared-memory file: ``bench.launch.clean_after_failure`` says so, and removes it).

Where the limit lies depends on the library, its version, the transport (shared memory on
one node, the network between nodes) and its settings, so it is found, not written down:
run ``--unsafe --patience 1`` on two ranks of one node, bisecting ``--size`` until it
completes at S bytes and hangs at S + 1: S is the limit, less the few bytes of header the
library sends with the data. Each library also says its setting. MPICH's ``mpivars`` lists
its control variables: on one node (ch4's POSIX shared memory) a message goes eagerly when
it fits in one cell of the queue, ``MPIR_CVAR_CH4_SHM_POSIX_IQUEUE_CELL_SIZE``, header
included. Open MPI's ``ompi_info --param btl sm --level 9`` gives ``btl_sm_eager_limit``,
header included. Between nodes other transports, with limits of their own, take over. The
default size is well above all of these, to show the hang.

The default runs the three fixes, one after the other, each rank checking the message it
got: *order by parity* (even ranks send then receive, odd ranks receive then send: every
send meets a posted receive), *send and receive at once* (``Sendrecv``: the library
progresses both, whatever the order of the partner's), *post both, then wait*
(``Isend`` and ``Irecv`` return at once with a request each, ``Request.Waitall`` completes
them together). Messages go on a communicator of the run's own (``runtime.own_comm``).

Bare example: examples/message_passing/deadlock.py

The shared-state twin is ``shared_memory.deadlock``, whose hazards are a ``Queue`` joined
before it is drained and a ``Pipe`` whose two ends both send first; both print the same
lines, made by ``contract.outputs.deadlock_lines``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import numpy as np
from mpi4py import MPI

from contract import cli, faults, outputs
from contract.outputs import DEADLOCK_FIXES, message_byte, partner_of
from message_passing import runtime

SIZE = 1 << 20  # bytes: far above any eager limit we know of, below any memory limit
PATIENCE = 5.0  # seconds


def in_parity_order(comm: MPI.Intracomm, send: np.ndarray, got: np.ndarray, partner: int) -> None:
    """Even ranks send first, odd ranks receive first: each send meets a posted receive."""
    if comm.Get_rank() % 2 == 0:
        comm.Send(send, dest=partner)
        comm.Recv(got, source=partner)
    else:
        comm.Recv(got, source=partner)
        comm.Send(send, dest=partner)


def at_once(comm: MPI.Intracomm, send: np.ndarray, got: np.ndarray, partner: int) -> None:
    """One call that sends and receives: the library progresses both."""
    comm.Sendrecv(send, dest=partner, recvbuf=got, source=partner)


def posted_then_waited(
    comm: MPI.Intracomm, send: np.ndarray, got: np.ndarray, partner: int
) -> None:
    """Both posted (each returns a request at once), then both completed together."""
    requests = [comm.Isend(send, dest=partner), comm.Irecv(got, source=partner)]
    MPI.Request.Waitall(requests)


FIXES: dict[str, Callable[[MPI.Intracomm, np.ndarray, np.ndarray, int], None]] = dict(
    zip(DEADLOCK_FIXES, (in_parity_order, at_once, posted_then_waited), strict=True)
)


def send_first(
    comm: MPI.Intracomm, send: np.ndarray, got: np.ndarray, partner: int,
    watchdog: runtime.Watchdog,
) -> None:
    """--unsafe: both ranks send first. Above the eager limit neither send returns."""
    with watchdog.watching(f"Send to rank {partner}"):
        comm.Send(send, dest=partner)
    with watchdog.watching(f"Recv from rank {partner}"):
        comm.Recv(got, source=partner)


def run(
    size: int = SIZE, comm: MPI.Intracomm = MPI.COMM_WORLD, *, unsafe: bool = False,
    patience: float = PATIENCE, trace: bool = False, fault: faults.Fault | None = None,
) -> list[list[bool] | None] | None:
    """Collective: on rank 0, for each rank in order, whether it got its partner's whole
    message by each fix (by the unsafe exchange alone under ``unsafe``), ``None`` for a rank
    with no partner; ``None`` on the other ranks."""
    rank = comm.Get_rank()
    partner = partner_of(rank, comm.Get_size())
    faults.strike(fault, rank)
    received: list[bool] | None = None
    done: list[str] = []
    with runtime.own_comm(comm) as own:
        if partner is not None:
            send = np.full(size, message_byte(rank), dtype=np.uint8)
            got = np.empty(size, dtype=np.uint8)
            exchanges = FIXES
            if unsafe:
                watchdog = runtime.Watchdog(own, patience)
                exchanges = {outputs.DEADLOCK_UNSAFE: partial(send_first, watchdog=watchdog)}
            received = []
            for name, exchange in exchanges.items():
                got.fill(0)  # what the last one received must not count for this one
                exchange(own, send, got, partner)
                received.append(bool(np.all(got == message_byte(partner))))
                done.append(name)
    if trace:
        runtime.trace(comm, (partner, done), lambda who, d: outputs.deadlock_trace(who, *d))
    return comm.gather(received)


def main(argv: Sequence[str] | None = None) -> int:
    parser = runtime.parser("message_passing.deadlock", __doc__)
    parser.add_argument(
        "--size", "--items", type=cli.fitting_count(2), default=SIZE, metavar="BYTES",
        help=f"the message's size in bytes (default {SIZE}); --items is the same",
    )
    parser.add_argument(
        "--unsafe", action="store_true",
        help="both ranks of a pair send first: deadlocks above the eager limit",
    )
    parser.add_argument(
        "--patience", type=cli.duration, default=PATIENCE, metavar="S",
        help=f"--unsafe: seconds a call may block before the job is aborted (default {PATIENCE:g})",
    )
    args = runtime.parse(parser, argv)
    with runtime.abort_on_error():
        received = run(args.size, unsafe=args.unsafe, patience=args.patience,
                       trace=args.trace, fault=args.fault)
        if received is not None:
            print("\n".join(outputs.deadlock_unsafe_lines(args.size, received) if args.unsafe
                            else outputs.deadlock_lines(args.size, received)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
