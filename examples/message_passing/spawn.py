"""Hear from every worker process: the ranks ``mpiexec`` started; rank 0 prints their lines.

    mpiexec -n 4 python -m examples.message_passing.spawn
"""
from mpi4py import MPI

if __name__ == "__main__":
    comm = MPI.COMM_WORLD
    line = f"worker {comm.Get_rank()} of {comm.Get_size()} reporting"
    lines = comm.gather(line, root=0)  # in rank order; ranks printing would interleave
    if comm.Get_rank() == 0:
        print("\n".join(lines))
