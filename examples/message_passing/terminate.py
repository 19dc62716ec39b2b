"""Stop ranks that loop forever: rank 0 sends each a STOP message they poll for between units.

    mpiexec -n 4 python -m examples.message_passing.terminate
"""
import time

from mpi4py import MPI

WORKING, STOP = 1, 2  # tags: "I have done a unit" (to rank 0), "stop" (from rank 0)

if __name__ == "__main__":
    comm = MPI.COMM_WORLD
    rank, size, units = comm.Get_rank(), comm.Get_size(), 0
    while True:
        time.sleep(0.01)  # one unit of work
        units += 1
        if rank == 0:  # once every other rank has done a unit, ask them all to stop; stop too
            for _ in range(size - 1):
                comm.recv(source=MPI.ANY_SOURCE, tag=WORKING)
            for worker in range(1, size):
                comm.send(None, dest=worker, tag=STOP)
            break
        if units == 1:
            comm.send(None, dest=0, tag=WORKING)
        if comm.Iprobe(source=0, tag=STOP):  # never blocks; looked at between units only
            comm.recv(source=0, tag=STOP)  # every message sent must be received
            break
    # The cleanup: every rank hands its tally back to rank 0 (None elsewhere).
    for worker, _ in enumerate(comm.gather(units, root=0) or ()):
        print(f"worker {worker} stopped on request, cleaned up")
