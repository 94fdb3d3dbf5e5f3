"""Few-shot heads: logistic regression on a model's embeddings, trained on a project's labelled items.

A head may also take a prior's log-probabilities as extra features (a lexicon or zero-shot model's
own scores of the same items, ``prior_dims`` columns beside the embedding): with few labels it then
leans on the prior instead of starting from nothing, so it never starts worse than the prior.

A head is plain arrays once fitted (weights, biases, which categories it saw), so it predicts
with numpy alone and is stored as bytes (an .npz, no pickle) or as a dict of arrays.
Single-label heads are multinomial (softmax over categories); multi-label heads are one-vs-rest
(an independent sigmoid per category).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np

from labeling.engine.base import Classifier
from labeling.engine.calibration import sigmoid, softmax
from labeling.engine.errors import HEAD_MISMATCH, LabelSetError
from labeling.engine.results import Category

NEEDS_TWO_CATEGORIES = "A few-shot head needs labelled items from at least two categories; got {found}."
BAD_LABELS = "Labels must be {expected}; got {got}."
NOT_FITTED = "The few-shot head has not been fitted."
# A category with no labelled item can't be learned: its logit sits this far below the row's lowest,
# so it gets a probability near zero but a finite logit that calibration can still work with.
ABSENT_LOGIT_GAP = 10.0
DEFAULT_C = 10.0  # inverse L2 strength; inputs are unit vectors, so weights must grow to separate them
PRIOR_FLOOR = -10.0  # a prior's log-probabilities are clipped here: a lexicon's 0 must not become -inf
BAD_PRIOR = "The prior's scores must be an ({n}, {k}) array; got shape {got}."


def enough_labels(label_indices: Sequence[int], *, min_per_category: int = 2, min_categories: int = 2) -> bool:
    """Whether a single-label head is worth fitting: at least ``min_categories`` categories with
    ``min_per_category`` labelled items each."""
    _, counts = np.unique(np.asarray(label_indices, dtype=np.int64), return_counts=True)
    return int((counts >= min_per_category).sum()) >= min_categories


def _unit_rows(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


class FewShotHead:
    """Logistic regression over unit-normalised embeddings, for ``n_categories`` categories."""

    def __init__(self, n_categories: int, *, multi_label: bool = False, C: float = DEFAULT_C, prior_dims: int = 0):
        self.n_categories = int(n_categories)
        self.multi_label = bool(multi_label)
        self.C = float(C)
        self.prior_dims = int(prior_dims)  # columns of a prior's logits taken as extra features (0: none)
        self.weights: np.ndarray | None = None  # (n_categories, dim)
        self.biases: np.ndarray | None = None  # (n_categories,)
        self.present: np.ndarray | None = None  # (n_categories,) bool: seen in training (single-label)
        self.n_trained = 0
        self.iterations = 0  # optimiser iterations of the last warm-started fit

    # Training.

    def features(self, embeddings, prior=None) -> np.ndarray:
        """The head's inputs: unit-normalised embeddings, then (``prior_dims`` > 0) the prior's
        log-probabilities from its (n, prior_dims) logits, clipped at PRIOR_FLOOR; rows without a
        prior (NaN, or ``prior`` None) get the uniform distribution's, which carries no information."""
        x = _unit_rows(np.atleast_2d(np.asarray(embeddings, dtype=np.float64)))
        if not self.prior_dims:
            return x
        z = np.zeros((len(x), self.prior_dims)) if prior is None else np.atleast_2d(np.asarray(prior, np.float64))
        if z.shape != (len(x), self.prior_dims):
            raise ValueError(BAD_PRIOR.format(n=len(x), k=self.prior_dims, got=z.shape))
        z = np.where(np.isfinite(z).all(axis=1, keepdims=True), z, 0.0)
        z = z - z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        # unscaled: a log-probability's unit weight costs little under the L2 penalty, so the head leans on the prior
        return np.hstack([x, np.maximum(log_p, PRIOR_FLOOR)])

    def fit(self, embeddings, labels, *, init: FewShotHead | None = None, prior=None) -> FewShotHead:
        """Fit on (n, dim) embeddings and their labels: for single-label, n category indices; for multi-label,
        an (n, n_categories) 0/1 matrix or n lists of category indices. ``prior``: the prior's (n,
        prior_dims) logits of the same items, when the head takes them as features.

        ``init`` (a fitted single-label head of the same shape, e.g. the previous round's) starts the
        optimiser at its weights: the same objective and optimum, reached in a few iterations as labels
        arrive (an incremental head), where at least three categories are labelled."""
        x = self.features(embeddings, prior)
        if self.multi_label:
            self._fit_one_vs_rest(x, self._indicator(labels, len(x)))
        else:
            y = self._indices(labels, len(x))
            if init is not None and self._warm_startable(init, x, y):
                self._fit_warm(x, y, init)
            else:
                self._fit_multinomial(x, y)
        self.n_trained = len(x)
        return self

    def _warm_startable(self, init: FewShotHead, x: np.ndarray, y: np.ndarray) -> bool:
        return (init.weights is not None and not init.multi_label and init.n_categories == self.n_categories
                and init.prior_dims == self.prior_dims and init.weights.shape[1] == x.shape[1]
                and len(np.unique(y)) >= 3)

    def _fit_warm(self, x: np.ndarray, y: np.ndarray, init: FewShotHead) -> None:
        """Multinomial logistic regression (sklearn's objective: C * cross-entropy + ||W||^2 / 2, intercepts
        unpenalised) over the labelled categories, by L-BFGS from ``init``'s weights."""
        from scipy.optimize import minimize

        seen = np.unique(y)
        k, d = len(seen), x.shape[1]
        target = np.zeros((len(y), k))
        target[np.arange(len(y)), np.searchsorted(seen, y)] = 1.0
        start = np.concatenate([init.weights[seen].ravel(), init.biases[seen]])

        def objective(theta: np.ndarray):
            weights, biases = theta[:k * d].reshape(k, d), theta[k * d:]
            z = x @ weights.T + biases
            z -= z.max(axis=1, keepdims=True)
            log_norm = np.log(np.exp(z).sum(axis=1, keepdims=True))
            p = np.exp(z - log_norm)
            loss = self.C * float(-(target * (z - log_norm)).sum()) + 0.5 * float((weights ** 2).sum())
            residual = self.C * (p - target)
            grad = np.concatenate([(residual.T @ x + weights).ravel(), residual.sum(axis=0)])
            return loss, grad

        found = minimize(objective, start, jac=True, method="L-BFGS-B", options={"maxiter": 2000, "gtol": 1e-4})
        self.weights = np.zeros((self.n_categories, d))
        self.biases = np.zeros(self.n_categories)
        self.weights[seen] = found.x[:k * d].reshape(k, d)
        self.biases[seen] = found.x[k * d:]
        self.present = np.zeros(self.n_categories, dtype=bool)
        self.present[seen] = True
        self.iterations = int(found.nit)

    def _indices(self, labels, n: int) -> np.ndarray:
        y = np.asarray(labels, dtype=np.int64)
        if y.shape != (n,) or (n and (y.min() < 0 or y.max() >= self.n_categories)):
            raise ValueError(BAD_LABELS.format(expected=f"{n} category indices in [0, {self.n_categories})",
                                               got=f"shape {y.shape}"))
        return y

    def _indicator(self, labels, n: int) -> np.ndarray:
        if len(labels) and not np.isscalar(labels[0]) and not isinstance(labels, np.ndarray):
            y = np.zeros((len(labels), self.n_categories))
            for row, indices in enumerate(labels):
                y[row, list(indices)] = 1.0
        else:
            y = np.asarray(labels, dtype=np.float64)
        if y.shape != (n, self.n_categories):
            raise ValueError(BAD_LABELS.format(expected=f"an ({n}, {self.n_categories}) 0/1 matrix",
                                               got=f"shape {y.shape}"))
        return y

    def _fit_multinomial(self, x: np.ndarray, y: np.ndarray) -> None:
        from sklearn.linear_model import LogisticRegression

        seen = np.unique(y)
        if len(seen) < 2:
            raise ValueError(NEEDS_TWO_CATEGORIES.format(found=len(seen)))
        model = LogisticRegression(C=self.C, max_iter=2000).fit(x, y)
        coef, intercept = model.coef_, model.intercept_
        if len(seen) == 2:  # sklearn keeps one row for two classes: softmax([-z/2, z/2]) == sigmoid(z)
            coef = np.vstack([-coef[0] / 2, coef[0] / 2])
            intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
        self.weights = np.zeros((self.n_categories, x.shape[1]))
        self.biases = np.zeros(self.n_categories)
        self.weights[seen], self.biases[seen] = coef, intercept
        self.present = np.zeros(self.n_categories, dtype=bool)
        self.present[seen] = True

    def _fit_one_vs_rest(self, x: np.ndarray, y: np.ndarray) -> None:
        from sklearn.linear_model import LogisticRegression

        self.weights = np.zeros((self.n_categories, x.shape[1]))
        self.biases = np.zeros(self.n_categories)
        for k in range(self.n_categories):
            column = y[:, k]
            if column.min() == column.max():  # all in or all out: a constant, smoothed rate
                rate = (column.sum() + 1) / (len(column) + 2)
                self.biases[k] = np.log(rate / (1 - rate))
                continue
            model = LogisticRegression(C=self.C, max_iter=2000).fit(x, column)
            self.weights[k], self.biases[k] = model.coef_[0], model.intercept_[0]
        self.present = np.ones(self.n_categories, dtype=bool)

    # Prediction.

    def decision_function(self, embeddings, prior=None) -> np.ndarray:
        """(n, n_categories) logits (``prior``: the prior's logits of the same items, see ``features``)."""
        if self.weights is None:
            raise ValueError(NOT_FITTED)
        z = self.features(embeddings, prior) @ self.weights.T + self.biases
        if not self.multi_label and not self.present.all():
            z[:, ~self.present] = z[:, self.present].min(axis=1, keepdims=True) - ABSENT_LOGIT_GAP
        return z

    def predict_proba(self, embeddings, prior=None) -> np.ndarray:
        """Single-label: rows sum to 1. Multi-label: an independent probability per category."""
        z = self.decision_function(embeddings, prior)
        return sigmoid(z) if self.multi_label else softmax(z)

    # Storage.

    def to_dict(self) -> dict[str, np.ndarray]:
        if self.weights is None:
            raise ValueError(NOT_FITTED)
        return {"weights": self.weights, "biases": self.biases, "present": self.present,
                "n_categories": np.array(self.n_categories), "multi_label": np.array(self.multi_label),
                "C": np.array(self.C), "n_trained": np.array(self.n_trained),
                "prior_dims": np.array(self.prior_dims)}

    @classmethod
    def from_dict(cls, arrays) -> FewShotHead:
        head = cls(int(arrays["n_categories"]), multi_label=bool(arrays["multi_label"]), C=float(arrays["C"]),
                   prior_dims=int(arrays["prior_dims"]) if "prior_dims" in arrays else 0)
        head.weights = np.asarray(arrays["weights"], dtype=np.float64)
        head.biases = np.asarray(arrays["biases"], dtype=np.float64)
        head.present = np.asarray(arrays["present"], dtype=bool)
        head.n_trained = int(arrays["n_trained"])
        return head

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **self.to_dict())  # type: ignore[arg-type]  # numpy's stub types **arrays as bool
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> FewShotHead:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            return cls.from_dict({k: arrays[k] for k in arrays.files})


class FewShotModel(Classifier):
    """A base model's embeddings through a fitted few-shot head: a classifier over the head's categories."""

    def __init__(self, *, name: str, base: Classifier, head: FewShotHead, categories: Sequence[Category | str],
                 batch_size: int | None = None):
        super().__init__(name=name, batch_size=batch_size or base.batch_size)
        names = tuple(c.name if isinstance(c, Category) else str(c) for c in categories)
        if len(names) != head.n_categories:
            raise LabelSetError(HEAD_MISMATCH.format(trained=head.n_categories, given=len(names)))
        self.base = base
        self.head = head
        self.modality = base.modality
        self.embedding_dim = base.embedding_dim
        self.fixed_labels = names
        self.multi_label = head.multi_label

    def _prepare(self, item):
        return self.base._prepare(item)

    def _length(self, item) -> int:
        return self.base._length(item)

    def _embed_batch(self, batch: list) -> np.ndarray:
        return self.base._embed_batch(batch)

    def _prior(self, batch: list, categories):
        return self.base._logits(batch, categories) if self.head.prior_dims else None

    def _logits(self, batch: list, categories) -> np.ndarray:
        return self.head.decision_function(self._embed_batch(batch), self._prior(batch, categories))

    def _logits_and_embeddings(self, batch, categories):
        embeddings = self._embed_batch(batch)
        return self.head.decision_function(embeddings, self._prior(batch, categories)), embeddings
