"""Broadcast: every rank receives rank 0's whole table with one ``bcast``.

    mpiexec -n 4 python -m examples.message_passing.broadcast
"""
from mpi4py import MPI

if __name__ == "__main__":
    comm = MPI.COMM_WORLD
    table = [x * x for x in range(10)] if comm.Get_rank() == 0 else None
    table = comm.bcast(table, root=0)  # collective: every rank calls it, each gets a copy
    reports = comm.gather((len(table), sum(table)), root=0)
    if comm.Get_rank() == 0:
        for index, (count, checksum) in enumerate(reports):
            print(f"worker {index} of {len(reports)} received {count} values, checksum {checksum}")
