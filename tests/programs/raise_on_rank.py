"""Rank 1 raises while rank 0 waits for it in a receive: without the abort this hangs."""

from mpi4py import MPI

from message_passing import runtime


def main() -> None:
    comm = MPI.COMM_WORLD
    with runtime.abort_on_error():
        if comm.Get_rank() == 1:
            raise ValueError("rank 1 fails on purpose")
        comm.recv(source=1)  # never satisfied


if __name__ == "__main__":
    main()
