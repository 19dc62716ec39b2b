"""``python -m bench latency``: one-way latency and streaming bandwidth of every channel.

    command   the subcommand: launches a worker program per channel and mode, collects
              their values into a results document, prints the tables
    mp        worker program: python -m bench.latency.mp CHANNEL ...
    mpi       worker program: mpiexec -n 2 python -m bench.latency.mpi CHANNEL ...
    _timing   what the two worker programs share: the schedule, the timed loop, the JSON

The harness imports the subcommand as ``from bench.latency import command``; a worker program
imports only ``_timing`` beside itself, not the subcommand.
"""
