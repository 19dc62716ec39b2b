"""Summaries and comparisons of raw timing values, robust to the outliers timings have.

Medians and interquartile ranges rather than means and standard deviations:
one descheduled repetition moves a mean a lot and a median hardly at all.
Whether two sets of values differ beyond the noise is decided with the
Mann-Whitney U test, which assumes no particular distribution.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    """First quartile, median, third quartile."""
    if len(values) == 1:
        return values[0], values[0], values[0]
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, median, q3


def summary(values: Sequence[float]) -> dict[str, float]:
    q1, median, q3 = quartiles(values)
    return {
        "n": len(values), "median": median, "q1": q1, "q3": q3, "iqr": q3 - q1,
        "mean": statistics.fmean(values), "min": min(values), "max": max(values),
    }


def mann_whitney_p(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided p-value of the Mann-Whitney U test (normal approximation, ties averaged)."""
    n1, n2 = len(a), len(b)
    if n1 == 0 or n2 == 0:
        return 1.0
    ranked = sorted([(x, 0) for x in a] + [(x, 1) for x in b])
    ranks = [0.0] * len(ranked)
    tie_term = 0.0
    i = 0
    while i < len(ranked):
        j = i
        while j + 1 < len(ranked) and ranked[j + 1][0] == ranked[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2 + 1
        tie_term += (j - i + 1) ** 3 - (j - i + 1)
        i = j + 1
    u1 = sum(r for r, (_, group) in zip(ranks, ranked, strict=True) if group == 0)
    u1 -= n1 * (n1 + 1) / 2
    n = n1 + n2
    variance = n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1)))
    if variance <= 0:
        return 1.0
    z = (abs(u1 - n1 * n2 / 2) - 0.5) / math.sqrt(variance)
    return math.erfc(max(z, 0.0) / math.sqrt(2))


def significant(a: Sequence[float], b: Sequence[float], alpha: float = 0.05) -> bool:
    return mann_whitney_p(a, b) < alpha


def ratio_text(old: float, new: float) -> str:
    """``"1.80x faster"`` when ``new`` takes less time than ``old``, ``"1.10x slower"`` if more."""
    if new == old:
        return "same"
    if new < old:
        return f"{old / new:.2f}x faster"
    return f"{new / old:.2f}x slower"
