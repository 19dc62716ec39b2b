"""The patterns with :mod:`mpi4py`: processes that only exchange messages.

One module a pattern; run one with ``mpiexec -n 4 python -m message_passing.<pattern>``.
"""
