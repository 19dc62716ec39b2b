"""``python -m bench square``: what each pattern costs on the same work, and where it pays.

    command   the subcommand: plans the runs, launches a worker program for each, collects
              their times into a results document, prints the tables and the targets
    worker    worker program: one measurement, python -m bench.square.worker SIDE PATTERN ...
              (under mpiexec -n W for mpi4py)

The harness imports the subcommand as ``from bench.square import command``; the worker program
imports only its package, never the subcommand, whose imports would count in the start-up
it measures.
"""
