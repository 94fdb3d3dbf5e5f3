"""What goes into the engine (categories) and what comes out (per-batch results with per-item errors)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

Modality = Literal["text", "image"]
Item = str | bytes


@dataclass(frozen=True)
class Category:
    """One label of a label set. The description helps zero-shot models; fixed-label models match the name."""

    name: str
    description: str = ""

    @property
    def prompt(self) -> str:
        """The text a zero-shot model compares items with: "name: description", or the name alone."""
        return f"{self.name}: {self.description}" if self.description else self.name


def as_categories(categories: Sequence[Category | str | Mapping] | None) -> tuple[Category, ...] | None:
    """Accept Category objects, plain names or {"name", "description"} dicts."""
    if categories is None:
        return None
    out = []
    for c in categories:
        if isinstance(c, Category):
            out.append(c)
        elif isinstance(c, str):
            out.append(Category(c))
        else:
            out.append(Category(str(c["name"]), str(c.get("description") or "")))
    return tuple(out)


@dataclass(frozen=True)
class ItemPrediction:
    """One item's outcome: its top label and probabilities, or the reason it failed."""

    index: int
    error: str | None
    label: str | None
    confidence: float | None
    probabilities: np.ndarray | None
    logits: np.ndarray | None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class ClassificationResult:
    """Predictions for a batch, one row per item in input order.

    ``probabilities`` and ``logits`` are (n_items, n_labels) float arrays; the rows of failed items
    are NaN and ``errors[i]`` says why. Single-label rows sum to 1; multi-label rows hold one
    independent probability per label. ``probabilities`` already has ``temperature`` applied;
    ``logits`` never does, so calibration can be fitted on them.
    """

    model: str
    labels: tuple[str, ...]
    logits: np.ndarray
    probabilities: np.ndarray
    errors: tuple[str | None, ...]
    multi_label: bool = False
    temperature: float = 1.0
    embeddings: np.ndarray | None = None  # (n_items, dim) when asked for with_embeddings

    def __len__(self) -> int:
        return len(self.errors)

    @property
    def ok(self) -> np.ndarray:
        """Boolean mask of the items that got a prediction."""
        return np.array([e is None for e in self.errors], dtype=bool)

    def __getitem__(self, index: int) -> ItemPrediction:
        if self.errors[index] is not None:
            return ItemPrediction(index, self.errors[index], None, None, None, None)
        row = self.probabilities[index]
        top = int(np.argmax(row))
        return ItemPrediction(index, None, self.labels[top], float(row[top]), row, self.logits[index])

    def __iter__(self) -> Iterator[ItemPrediction]:
        return (self[i] for i in range(len(self)))


@dataclass(frozen=True)
class EmbeddingResult:
    """Embeddings for a batch: (n_items, dim) float32, NaN rows where ``errors[i]`` is set."""

    model: str
    vectors: np.ndarray
    errors: tuple[str | None, ...]

    def __len__(self) -> int:
        return len(self.errors)

    @property
    def ok(self) -> np.ndarray:
        return np.array([e is None for e in self.errors], dtype=bool)
