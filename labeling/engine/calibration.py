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
