"""Agreement and accuracy metrics over review decisions, in plain Python (no Django).

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
    return _alpha(coincidence)


def krippendorff_alpha_from_pairs(pairs: Iterable[tuple[Hashable, Hashable, int, int]]) -> float | None:
    """Krippendorff's alpha for nominal data from counted pairs of values: (value, value, raters of the unit,
    how many such pairs), each unordered pair of values of a unit counted once."""
    coincidence: dict[tuple, float] = defaultdict(float)
    for c, k, m, n in pairs:
        coincidence[(c, k)] += n / (m - 1)
        coincidence[(k, c)] += n / (m - 1)
    return _alpha(coincidence)


def cohens_kappa_from_table(table: Mapping[tuple[Hashable, Hashable], int]) -> float | None:
    """``cohens_kappa`` from counts of (rater a's value, rater b's value) over the items both rated."""
    n = sum(table.values())
    if n == 0:
        return None
    observed = sum(count for (x, y), count in table.items() if x == y) / n
    ca: Counter = Counter()
    cb: Counter = Counter()
    for (x, y), count in table.items():
        ca[x] += count
        cb[y] += count
    expected = sum(ca[k] * cb[k] for k in ca.keys() | cb.keys()) / (n * n)
    if expected == 1.0:
        return 1.0 if observed == 1.0 else 0.0
    return (observed - expected) / (1.0 - expected)


def _alpha(coincidence: Mapping[tuple, float]) -> float | None:
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


OTHER_CLASSES = "(other)"  # the row and column the less frequent classes fold into


def confusion(counts: Iterable[tuple[Hashable, Hashable, int]], classes: Sequence[Hashable], *,
              max_classes: int | None = None) -> dict:
    """Accuracy, per-class precision/recall and the confusion matrix of (truth, predicted, count) rows.

    Per-class figures cover every class. With ``max_classes`` the matrix shows only the most frequent
    classes (by truth and predicted counts together, ties in ``classes`` order) and folds the rest into
    ``(other)``, so its size is bounded whatever the schema. Rows naming a class not in ``classes`` are
    left out.
    """
    index = {c: i for i, c in enumerate(classes)}
    tp: dict[Hashable, int] = defaultdict(int)
    predicted_n: dict[Hashable, int] = defaultdict(int)
    actual_n: dict[Hashable, int] = defaultdict(int)
    kept = []
    total = correct = 0
    for truth, predicted, n in counts:
        if truth not in index or predicted not in index or not n:
            continue
        kept.append((truth, predicted, n))
        total += n
        actual_n[truth] += n
        predicted_n[predicted] += n
        if truth == predicted:
            correct += n
            tp[truth] += n
    shown = list(classes)
    folded = False
    if max_classes is not None and len(shown) > max_classes:
        frequent = sorted(shown, key=lambda c: (-(actual_n[c] + predicted_n[c]), index[c]))[:max_classes]
        keep = set(frequent)
        shown = [c for c in classes if c in keep]
        folded = True
    position = {c: i for i, c in enumerate(shown)}
    size = len(shown) + (1 if folded else 0)
    matrix = [[0] * size for _ in range(size)]
    for truth, predicted, n in kept:
        matrix[position.get(truth, size - 1)][position.get(predicted, size - 1)] += n
    per_class = {
        c: {"precision": tp[c] / predicted_n[c] if predicted_n[c] else None,
            "recall": tp[c] / actual_n[c] if actual_n[c] else None,
            "support": actual_n[c]}
        for c in classes
    }
    return {
        "classes": shown + ([OTHER_CLASSES] if folded else []),
        "matrix": matrix,
        "accuracy": correct / total if total else None,
        "count": total,
        "per_class": per_class,
    }
