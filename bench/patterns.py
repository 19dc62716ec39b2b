"""The catalog as the harness sees it: which pairs of programs must print the same thing."""

from __future__ import annotations

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

    @property
    def label(self) -> str:
        flags = " ".join(self.shared_args + self.mpi_args)
        return f"{self.module} {flags}" if flags else self.module


PAIRS: tuple[Pair, ...] = (
    Pair("pool"),
    Pair("pool", mpi_args=("--executor",)),
)

MODULES: tuple[str, ...] = tuple(dict.fromkeys(pair.module for pair in PAIRS))
