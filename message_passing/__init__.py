"""The patterns with :mod:`mpi4py`: processes that only exchange messages.

One module a pattern; run one with ``mpiexec -n 4 python -m message_passing.<pattern>``.
Each module's ``run()`` is the pattern; what they all share (parsing, abort on error, a
run's own communicator, ``--trace``) is in :mod:`message_passing.runtime`. The bare
version of each, without options, is ``examples/message_passing/<pattern>.py``.
"""
