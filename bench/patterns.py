"""The catalog as the harness sees it: which pairs of programs must print the same thing."""

from __future__ import annotations

import argparse
from dataclasses import dataclass


@dataclass(frozen=True)
class Pair:
    """One comparison: ``shared_memory.<module>`` against ``message_passing.<module>``.

    A variant of one side (``--executor``) is a pair of its own, so every way
    of writing a pattern is held to the same output.
    """

    module: str
    shared_args: tuple[str, ...] = ()
    mpi_args: tuple[str, ...] = ()
    # The MPI side is one process that starts its N workers itself (MPI Spawn):
    # run as `mpiexec -n 1 ... --workers N` instead of `mpiexec -n N ...`.
    mpi_spawns: bool = False

    @property
    def label(self) -> str:
        """``barrier --group 3`` when both sides get the flags, ``pool --executor (mpi4py)``."""
        if self.shared_args == self.mpi_args:
            sides = [" ".join(self.shared_args)]
        else:
            sides = [
                f"{' '.join(args)} ({side})"
                for args, side in ((self.shared_args, "mp"), (self.mpi_args, "mpi4py"))
                if args
            ]
        return " ".join([self.module, *filter(None, sides)])


PAIRS: tuple[Pair, ...] = (  # in the catalog's order
    Pair("spawn"),
    Pair("spawn", mpi_args=("--dynamic",), mpi_spawns=True),
    Pair("terminate"),
    Pair("worker_class"),
    Pair("queue"),
    Pair("queue", shared_args=("--joinable",)),
    Pair("queue", shared_args=("--batch", "3"), mpi_args=("--batch", "3")),
    Pair("queue", mpi_args=("--producer-works",)),
    Pair("pipe"),
    Pair("barrier"),
    Pair("barrier", shared_args=("--group", "3"), mpi_args=("--group", "3")),
    Pair("sync"),
    Pair("manager"),
    Pair("manager", mpi_args=("--rma",)),
    Pair("pool"),
    Pair("pool", mpi_args=("--executor",)),
    Pair("array"),
    Pair("array", mpi_args=("--window",)),
    Pair("broadcast"),
    Pair("broadcast", ("--buffer",), ("--buffer",)),
    Pair("reduce"),
    Pair("reduce", shared_args=("--all",), mpi_args=("--all",)),
    Pair("reduce", shared_args=("--scan",), mpi_args=("--scan",)),
    Pair("reduce", shared_args=("--buffer",), mpi_args=("--buffer",)),
    Pair("reduce", shared_args=("--all", "--buffer"), mpi_args=("--all", "--buffer")),
    Pair("alltoall"),
    Pair("alltoall", ("--buffer",), ("--buffer",)),
    Pair("stencil"),
    Pair("stencil", mpi_args=("--nonblocking",)),
    Pair("deadlock"),
)

MODULES: tuple[str, ...] = tuple(dict.fromkeys(pair.module for pair in PAIRS))


def pattern_name(name: str) -> str:
    """argparse type: one of the catalog's module names."""
    if name not in MODULES:
        raise argparse.ArgumentTypeError(
            f"unknown pattern {name!r} (known: {', '.join(MODULES)})"
        )
    return name
