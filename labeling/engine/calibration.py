"""Calibration math: temperature scaling fitted by negative log-likelihood, and expected calibration error.

Fit on a project's audit slice (items drawn at random and labelled by people), never on items
picked for review because they were uncertain: those are biased toward hard cases.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

TEMPERATURE_BOUNDS = (0.05, 20.0)
ECE_BINS = 15

BAD_LABELS = "labels must be {n} class indices in [0, {k}), got {got}."
NOT_ENOUGH_ITEMS = "Temperature scaling needs at least one labelled item."


def softmax(logits, axis: int = -1) -> np.ndarray:
    """Probabilities from logits, numerically stable; rows of -inf logits become 0."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - np.max(z, axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(logits, axis: int = -1) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    z = z - np.max(z, axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def sigmoid(logits) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def apply_temperature(logits, temperature: float, *, multi_label: bool = False) -> np.ndarray:
    """Calibrated probabilities: softmax(logits / T) (sigmoid per label for multi-label logits)."""
    z = np.asarray(logits, dtype=np.float64) / float(temperature)
    return sigmoid(z) if multi_label else softmax(z)


def _check(logits, labels) -> tuple[np.ndarray, np.ndarray]:
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels)
    if z.ndim != 2 or y.shape != (z.shape[0],) or (y.size and (y.min() < 0 or y.max() >= z.shape[1])):
        raise ValueError(BAD_LABELS.format(n=z.shape[0] if z.ndim else 0, k=z.shape[-1] if z.ndim else 0,
                                           got=y.shape))
    return z, y.astype(np.int64)


def negative_log_likelihood(logits, labels, temperature: float = 1.0) -> float:
    """Mean NLL of the true labels under softmax(logits / T)."""
    z, y = _check(logits, labels)
    return float(-log_softmax(z / temperature)[np.arange(len(y)), y].mean())


def expected_calibration_error(probs, labels, n_bins: int = ECE_BINS) -> float:
    """ECE: sum over equal-width confidence bins of |bin| / n * |accuracy(bin) - mean confidence(bin)|.

    Confidence is the top-1 probability; bin b holds confidences in ((b-1)/n_bins, b/n_bins].
    """
    p, y = _check(probs, labels)
    if len(y) == 0:
        return 0.0
    confidence = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(np.float64)
    bins = np.clip(np.ceil(confidence * n_bins).astype(np.int64) - 1, 0, n_bins - 1)
    ece = 0.0
    for b in np.unique(bins):
        in_bin = bins == b
        ece += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(ece)


@dataclass(frozen=True)
class TemperatureFit:
    """A fitted temperature, what it was fitted on, and what it changed."""

    temperature: float
    n_items: int
    nll_before: float
    nll_after: float
    ece_before: float
    ece_after: float

    def as_dict(self) -> dict:
        return asdict(self)


def fit_temperature(logits, labels, *, bounds: tuple[float, float] = TEMPERATURE_BOUNDS,
                    n_bins: int = ECE_BINS) -> TemperatureFit:
    """The T in [bounds] minimising the NLL of ``labels`` under softmax(logits / T), searched on log T."""
    from scipy.optimize import minimize_scalar

    z, y = _check(logits, labels)
    if len(y) == 0:
        raise ValueError(NOT_ENOUGH_ITEMS)
    rows = np.arange(len(y))

    def nll(log_t: float) -> float:
        return float(-log_softmax(z / np.exp(log_t))[rows, y].mean())

    found = minimize_scalar(nll, bounds=(np.log(bounds[0]), np.log(bounds[1])), method="bounded",
                            options={"xatol": 1e-6})
    temperature = float(np.exp(found.x))
    return TemperatureFit(
        temperature=temperature,
        n_items=len(y),
        nll_before=nll(0.0),
        nll_after=float(found.fun),
        ece_before=expected_calibration_error(softmax(z), y, n_bins),
        ece_after=expected_calibration_error(softmax(z / temperature), y, n_bins),
    )


KEPT_NOT_BETTER = "kept: a new fit is not better on held-out NLL ({new:.4f} vs {old:.4f})"
KEPT_TOO_FEW = "kept: {n} audited items are too few to judge a new fit (at least {need})"
REFITTED = "refitted: held-out NLL {new:.4f} vs {old:.4f} with the previous temperature"
MIN_REFIT_ITEMS = 20
REFIT_FOLDS = 5


@dataclass(frozen=True)
class TemperatureDecision:
    """Whether a new temperature replaces the previous one, judged on held-out NLL, and why."""

    temperature: float  # the temperature in force after the decision
    previous: float
    refitted: bool
    reason: str
    heldout_nll_new: float | None
    heldout_nll_previous: float | None
    fit: TemperatureFit | None  # the fit on every item (set only when refitted)

    def as_dict(self) -> dict:
        out = asdict(self)
        out["fit"] = None if self.fit is None else self.fit.as_dict()
        return out


def temperature_update(logits, labels, *, previous: float = 1.0, folds: int = REFIT_FOLDS, seed: int = 0,
                       min_items: int = MIN_REFIT_ITEMS, margin: float = 1e-4) -> TemperatureDecision:
    """Refit the temperature only if that is better than keeping ``previous``, judged out of fold.

    The items are split into ``folds``; for each, a temperature is fitted on the other folds and its
    NLL measured on that one; summed over folds, that held-out NLL is compared with ``previous``'s on
    the same items. The new fit (on every item) replaces ``previous`` only when it is lower by more
    than ``margin`` per item, so calibration never gets worse on data it was not fitted on.
    """
    z, y = _check(logits, labels)
    if len(y) < min_items:
        return TemperatureDecision(previous, previous, False, KEPT_TOO_FEW.format(n=len(y), need=min_items),
                                   None, None, None)
    order = np.random.default_rng(seed).permutation(len(y))
    held_new = 0.0
    for k in range(folds):
        test = order[k::folds]
        train = np.setdiff1d(order, test)
        t = fit_temperature(z[train], y[train]).temperature
        held_new += negative_log_likelihood(z[test], y[test], t) * len(test)
    held_new /= len(y)
    held_old = negative_log_likelihood(z, y, previous)
    if held_new < held_old - margin:
        fit = fit_temperature(z, y)
        return TemperatureDecision(fit.temperature, previous, True, REFITTED.format(new=held_new, old=held_old),
                                   held_new, held_old, fit)
    return TemperatureDecision(previous, previous, False, KEPT_NOT_BETTER.format(new=held_new, old=held_old),
                               held_new, held_old, None)
