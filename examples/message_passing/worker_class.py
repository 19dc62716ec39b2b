"""Workers as a class: one ``Squarer`` per rank whose ``run(comm)`` squares its share.

    mpiexec -n 4 python -m examples.message_passing.worker_class
"""
from mpi4py import MPI


class Squarer:
    def __init__(self, share):
        self.share = share

    def run(self, comm):  # collective: every rank's squares, in rank order, on rank 0
        return comm.gather([x * x for x in self.share], root=0)


if __name__ == "__main__":
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    count, extra = divmod(10, size)  # contiguous shares of 0..9; the first `extra` get one more
    begin = rank * count + min(rank, extra)
    results = Squarer(range(begin, begin + count + (rank < extra))).run(comm)
    if rank == 0:
        for index, squares in enumerate(results):
            items = "item" if len(squares) == 1 else "items"
            print(f"worker {index} of {size} squared {len(squares)} {items}: {squares}")
