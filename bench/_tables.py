"""Plain-text tables and the units they print in."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def render(header: Sequence[str], rows: Sequence[Sequence[str]], right: int = 0) -> str:
    """Columns padded to their widest cell.

    Numbers read best right-aligned: every column but the first is right-aligned
    when ``right`` is 1 (the label column stays left).
    """
    table = [list(header), *[list(row) for row in rows]]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        out = [
            cell.rjust(w) if right and i >= right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(out).rstrip()

    return "\n".join([line(table[0]), line(["-" * w for w in widths]), *map(line, table[1:])])


def size_text(size: int) -> str:
    """``1 B``, ``64 KiB``, ``16 MiB``."""
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} B"


def number(value: float) -> str:
    """Three significant digits, without scientific notation in the common range."""
    if value == 0 or not (1e-3 <= abs(value) < 1e6):
        return f"{value:.3g}"
    digits = max(0, 2 - int(f"{abs(value):e}".split("e")[1]))
    return f"{value:.{digits}f}"


def seconds(value: float) -> str:
    """A duration with a readable unit: ``12.3 us``, ``4.56 ms``, ``1.23 s``."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if abs(value) >= scale:
            return f"{number(value / scale)} {unit}"
    return f"{number(value / 1e-9)} ns"


def progress(total: int, quiet: bool) -> Any:
    """A progress bar on stderr (stdout stays clean for pipes); off with ``--quiet``.

    Also off when stderr is not a terminal: a bar redrawn into a log file is noise.
    """
    from tqdm import tqdm

    return tqdm(total=total, disable=quiet or None, unit="run", leave=False)
