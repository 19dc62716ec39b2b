"""A pipeline produce -> square -> collect on ranks 2 -> 1 -> 0, with ``send``/``recv``.

    mpiexec -n 3 python -m examples.message_passing.pipe  # ranks from 3 on have nothing to do
"""
from mpi4py import MPI

if __name__ == "__main__":
    comm = MPI.COMM_WORLD
    rank = comm.Get_rank()
    if rank == 2:  # produce
        for x in [*range(10), None]:  # None: the end of the stream
            comm.send(x, dest=1)
    elif rank == 1:  # square; messages between two ranks never overtake each other
        for x in iter(lambda: comm.recv(source=2), None):
            comm.send(x * x, dest=0)
        comm.send(None, dest=0)
    elif rank == 0:  # collect
        for y in iter(lambda: comm.recv(source=1), None):
            print(y)
        print("end")
