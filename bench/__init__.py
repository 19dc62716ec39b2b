"""The harness: runs every pattern both ways, checks the outputs agree, measures the cost.

    __main__     python -m bench: the main job, and the table of subcommands

  subcommands (each gives add_arguments(parser) and main(args) -> int)
    verify       every pattern both ways, outputs compared byte for byte
    latency/     latency and bandwidth of every channel: the subcommand (command) and the
                 worker programs it launches (mp, mpi), their shared _timing
    square/      the squaring workload through every pattern: the subcommand (command) and
                 the worker program it launches (worker)
    startup      start-up of the pool programs against bare equivalents
    faults       every pattern made to fail, both ways
    report       report.md and PNG plots from results files
    show         the tables of a results file
    compare      two results files, benchmark by benchmark

  public libraries
    patterns     the catalog: each pattern's pair of programs and their arguments
    launch       starting programs (python, mpiexec) with a time limit; python -m bench.launch
                 --check says which MPI mpi4py and mpiexec are
    results      the results-file format: save, load, metadata, the errors of a measurement
    hosts        two hosts simulated on this machine (network namespaces), for MPI across them

  private libraries
    _stats       summaries and the Mann-Whitney test
    _tables      plain-text tables, units, progress bars
"""
