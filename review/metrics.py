"""Agreement and accuracy metrics over review decisions, in plain Python.

Labels are compared as values: a single label, or a multi-label set given as a sorted tuple.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from itertools import combinations


def cohens_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """Cohen's kappa of two raters over the same items; None when undefined (no items)."""
    if len(a) != len(b):
        raise ValueError("Both raters must rate the same items.")
    n = len(a)
    if n == 0:
        return None
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[k] * cb[k] for k in ca.keys() | cb.keys()) / (n * n)
    if expected == 1.0:
        return 1.0 if observed == 1.0 else 0.0
    return (observed - expected) / (1.0 - expected)


def pairwise_kappa(ratings: Mapping[Hashable, Mapping[Hashable, Hashable]]) -> dict[tuple, dict]:
    """Kappa for every pair of raters over the items both rated.

    ``ratings`` maps item → {rater: value}. Returns {(rater_a, rater_b): {"kappa", "items"}}.
    """
    per_pair: dict[tuple, tuple[list, list]] = defaultdict(lambda: ([], []))
    for by_rater in ratings.values():
        for r1, r2 in combinations(sorted(by_rater, key=str), 2):
            xs, ys = per_pair[(r1, r2)]
            xs.append(by_rater[r1])
            ys.append(by_rater[r2])
    return {pair: {"kappa": cohens_kappa(xs, ys), "items": len(xs)} for pair, (xs, ys) in per_pair.items()}


def krippendorff_alpha_nominal(units: Iterable[Iterable[Hashable]]) -> float | None:
    """Krippendorff's alpha for nominal data; each unit is the list of values it received.

    Units with fewer than two values are not pairable and are ignored. None when undefined.
    """
    coincidence: dict[tuple, float] = defaultdict(float)
    for unit in units:
        values = list(unit)
        m = len(values)
        if m < 2:
            continue
        for i, c in enumerate(values):
            for j, k in enumerate(values):
                if i != j:
                    coincidence[(c, k)] += 1.0 / (m - 1)
    if not coincidence:
        return None
    n_c: dict[Hashable, float] = defaultdict(float)
    for (c, _k), v in coincidence.items():
        n_c[c] += v
    n = sum(n_c.values())
    disagree_observed = sum(v for (c, k), v in coincidence.items() if c != k)
    disagree_expected = sum(n_c[c] * n_c[k] for c in n_c for k in n_c if c != k)
    if disagree_expected == 0:
        return 1.0 if disagree_observed == 0 else None
    return 1.0 - (n - 1) * disagree_observed / disagree_expected


def majority(values: Sequence[Hashable]) -> Hashable | None:
    """The strict-plurality value, or None on a tie (ties go to a manager)."""
    if not values:
        return None
    counts = Counter(values).most_common()
    if len(counts) > 1 and counts[0][1] == counts[1][1]:
        return None
    return counts[0][0]


def confusion(pairs: Iterable[tuple[Hashable, Hashable]], classes: Sequence[Hashable]) -> dict:
    """Per-class precision/recall and a confusion matrix of (truth, predicted) pairs."""
    index = {c: i for i, c in enumerate(classes)}
    matrix = [[0] * len(classes) for _ in classes]
    total = correct = 0
    for truth, predicted in pairs:
        if truth not in index or predicted not in index:
            continue
        matrix[index[truth]][index[predicted]] += 1
        total += 1
        correct += truth == predicted
    per_class = {}
    for c, i in index.items():
        tp = matrix[i][i]
        predicted_c = sum(row[i] for row in matrix)
        actual_c = sum(matrix[i])
        per_class[c] = {
            "precision": tp / predicted_c if predicted_c else None,
            "recall": tp / actual_c if actual_c else None,
            "support": actual_c,
        }
    return {
        "classes": list(classes),
        "matrix": matrix,
        "accuracy": correct / total if total else None,
        "count": total,
        "per_class": per_class,
    }
