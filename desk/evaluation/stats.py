"""Summary statistics shared by the evaluation reports."""

from __future__ import annotations

import statistics
from collections.abc import Iterable


def median_p95(values: Iterable[float], digits: int) -> tuple[float, float]:
    """The median and the 95th percentile of `values`, each rounded to `digits`.

    The 95th percentile is the sorted value at rank int(0.95 * (n - 1)) (nearest rank below, no
    interpolation). Raises statistics.StatisticsError when there are no values."""
    ordered = sorted(values)
    if not ordered:
        raise statistics.StatisticsError("median_p95 of no values")
    return (round(statistics.median(ordered), digits),
            round(ordered[int(0.95 * (len(ordered) - 1))], digits))
