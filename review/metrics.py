"""Deciding between reviewers' answers (the majority rule for overlapped items).

Reports over decisions (kappa, alpha, confusion matrices) live in ``analytics.metrics``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence


def majority(values: Sequence[Hashable]) -> Hashable | None:
    """The strict-plurality value, or None on a tie (ties go to a manager)."""
    if not values:
        return None
    counts = Counter(values).most_common()
    if len(counts) > 1 and counts[0][1] == counts[1][1]:
        return None
    return counts[0][0]
