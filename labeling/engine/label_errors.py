"""Label-error detection by confident learning (Northcutt et al.; what Cleanlab does).

Given each item's given label and out-of-sample predicted probabilities, an item is flagged when
the model confidently says it belongs to another class: its probability for a class ``j`` other
than its label reaches ``j``'s threshold (the mean probability of ``j`` over items labelled ``j``)
and ``j`` is its most probable class among those over their threshold. The probabilities must be
out-of-sample (``cross_val_probs``): a head scores its own training labels as right.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

BAD_INPUT = "probs must be (items x classes) and labels one class index per item, in range."


@dataclass(frozen=True)
class LabelIssue:
    """An item whose label the model confidently contradicts, with the label it suggests instead."""

    index: int
    given_label: int
    suggested_label: int
    self_confidence: float  # the model's probability for the given label: lower is more suspect
    suggested_confidence: float
    reason: str


def _check(probs, labels) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(labels)
    if p.ndim != 2 or y.shape != (len(p),) or not np.issubdtype(y.dtype, np.integer) or \
            (len(y) and (y.min() < 0 or y.max() >= p.shape[1])):
        raise ValueError(BAD_INPUT)
    return p, y.astype(np.int64)


def per_class_thresholds(probs, labels) -> np.ndarray:
    """t_j = mean predicted probability of class j over items labelled j (inf for a class nobody has)."""
    p, y = _check(probs, labels)
    k = p.shape[1]
    counts = np.bincount(y, minlength=k)
    sums = np.zeros(k)
    np.add.at(sums, y, p[np.arange(len(y)), y])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.inf)


def confident_labels(probs, labels) -> np.ndarray:
    """Each item's confident class: its most probable class among those at or over their threshold, or -1."""
    p, y = _check(probs, labels)
    thresholds = per_class_thresholds(p, y)
    over = p >= thresholds[None, :] - 1e-12  # the mean itself must count as reaching it
    masked = np.where(over, p, -np.inf)
    best = masked.argmax(axis=1)
    return np.where(over.any(axis=1), best, -1)


def confident_joint(probs, labels) -> np.ndarray:
    """C[i, j]: how many items labelled i confidently belong to j (the diagonal agrees with the labels)."""
    p, y = _check(probs, labels)
    k = p.shape[1]
    confident = confident_labels(p, y)
    counted = confident >= 0
    joint = np.zeros((k, k), dtype=np.int64)
    np.add.at(joint, (y[counted], confident[counted]), 1)
    return joint


def find_label_issues(probs, labels, *, class_names: Sequence[str] | None = None) -> list[LabelIssue]:
    """Items in the off-diagonal of the confident joint, most suspect first (lowest self-confidence)."""
    p, y = _check(probs, labels)
    confident = confident_labels(p, y)
    flagged = np.flatnonzero((confident >= 0) & (confident != y))
    self_confidence = p[flagged, y[flagged]]
    flagged = flagged[np.lexsort((flagged, self_confidence))]
    names = [str(n) for n in class_names] if class_names is not None and len(class_names) == p.shape[1] else \
        [str(i) for i in range(p.shape[1])]
    issues = []
    for i in flagged:
        given, suggested = int(y[i]), int(confident[i])
        issues.append(LabelIssue(
            index=int(i), given_label=given, suggested_label=suggested,
            self_confidence=float(p[i, given]), suggested_confidence=float(p[i, suggested]),
            reason=f"labelled '{names[given]}' ({p[i, given]:.2f}) but the model confidently says "
                   f"'{names[suggested]}' ({p[i, suggested]:.2f})",
        ))
    return issues


def cross_val_probs(embeddings, labels, *, folds: int = 5, seed: int = 0, C: float = 1.0) -> np.ndarray:
    """Out-of-sample probabilities: each item scored by a logistic head trained on the other folds.

    ``labels`` are class indices 0..k-1; a class missing from a fold's training part gets probability 0.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import KFold, StratifiedKFold
    from threadpoolctl import threadpool_limits

    x = np.asarray(embeddings, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    k = int(y.max()) + 1
    counts = np.bincount(y, minlength=k)
    smallest = counts[counts > 0].min()
    splits = max(2, min(folds, len(y)))
    if smallest >= splits:
        splitter = StratifiedKFold(n_splits=splits, shuffle=True, random_state=seed).split(x, y)
    else:
        splitter = KFold(n_splits=splits, shuffle=True, random_state=seed).split(x)
    out = np.zeros((len(y), k))
    with threadpool_limits(limits=1, user_api="blas"):  # small fits: threaded BLAS only adds overhead
        for train, test in splitter:
            present = np.unique(y[train])
            if len(present) == 1:
                out[np.ix_(test, present)] = 1.0
                continue
            head = LogisticRegression(C=C, max_iter=1000).fit(x[train], y[train])
            out[np.ix_(test, head.classes_)] = head.predict_proba(x[test])
    return out
