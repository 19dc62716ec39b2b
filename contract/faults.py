"""Fault injection: ``--fault raise:W`` and ``--fault kill:W``, the same on both sides."""

from __future__ import annotations

import os

from contract import streams


class InjectedFault(RuntimeError):
    """The exception a worker raises on purpose under ``--fault raise:W``."""


class Fault:
    """``--fault raise:W``: worker W raises at its first unit of work;
    ``--fault kill:W``: worker W is killed there with SIGKILL (it can neither clean up nor
    say goodbye: whoever waits for it must notice on its own).

    Worker numbers are 0..W-1 on both sides: the rank under MPI, the index a
    pattern gives its processes under multiprocessing.

    Immutable, compared and hashed by value, and picklable (it travels to pool
    workers and ranks): what ``@dataclass(frozen=True)`` would give, written out
    so that importing this module does not import ``dataclasses``.
    """

    __slots__ = ("kind", "worker")
    kind: str
    worker: int

    def __init__(self, kind: str, worker: int) -> None:
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "worker", worker)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: a Fault is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: a Fault is immutable")

    def __reduce__(self) -> tuple[type[Fault], tuple[str, int]]:
        # Rebuilt through __init__: the default protocol would restore the slots
        # with setattr, which an immutable object refuses.
        return Fault, (self.kind, self.worker)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.kind, self.worker) == (other.kind, other.worker)  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((self.kind, self.worker))

    def __repr__(self) -> str:
        return f"Fault(kind={self.kind!r}, worker={self.worker!r})"

    def strike(self, worker: int, who: str | None = None) -> None:
        """Called by every worker before its first unit of work; fails in the chosen one.

        ``who`` names the failing process in the message when "worker W" alone
        would not (a pool's anonymous workers).
        """
        if worker != self.worker:
            return
        name = who or f"worker {worker}"
        if self.kind == "kill":
            # Said first, because nobody else can say who died: an MPI rank's peers never
            # learn it (mpiexec does, and MPICH's says so on stdout). Buffered output of
            # this process is lost with it, as after a real SIGKILL.
            streams.say(f"{name} kills itself with SIGKILL (--fault kill:{worker})")
            import signal  # here: starting a pattern imports as little as it can

            os.kill(os.getpid(), signal.SIGKILL)
        raise InjectedFault(f"{name} fails on purpose (--fault raise:{worker})")


def strike(fault: Fault | None, worker: int, who: str | None = None) -> None:
    """What every worker calls before its first unit of work: the fault's chance, if any."""
    if fault is not None:
        fault.strike(worker, who)
