"""The shuffle of map-reduce: each rank sends the square of every x of its share to rank x % W.

    mpiexec -n 4 python -m examples.message_passing.alltoall
"""
from mpi4py import MPI

if __name__ == "__main__":
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    count, extra = divmod(10, size)  # contiguous shares of 0..9; the first `extra` get one more
    share = range(rank * count + min(rank, extra), (rank + 1) * count + min(rank + 1, extra))
    buckets = [[x * x for x in share if x % size == j] for j in range(size)]  # x*x to rank x % size
    mine = [y for bucket in comm.alltoall(buckets) for y in bucket]  # bucket j to rank j
    held = comm.gather((len(mine), sum(mine)), root=0)
    if rank == 0:
        for index, (count, total) in enumerate(held):
            print(f"worker {index} of {size} holds {count} square{'s' * (count != 1)}, sum {total}")
