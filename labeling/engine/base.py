"""The classifier interface every model implements, and the batching that makes a bad item fail alone."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from labeling.engine.calibration import apply_temperature
from labeling.engine.errors import (
    EMPTY_TEXT,
    ITEM_FAILED,
    LABEL_NOT_SUPPORTED,
    NO_CATEGORIES,
    WRONG_INPUT_KIND,
    EngineError,
    InputKindError,
    ItemError,
    LabelSetError,
)
from labeling.engine.results import (
    Category,
    ClassificationResult,
    EmbeddingResult,
    Item,
    Modality,
    as_categories,
)

NO_EMBEDDINGS = "The model {name!r} has no embeddings."
SHOWN_LABELS = 20  # how many supported labels an error message lists


@dataclass(frozen=True)
class Prepared:
    """An item already turned into model input by ``Classifier.prepare`` (decoded, resized), or why it could
    not be: ``classify`` and ``embed`` take it in place of the raw item and skip that work. A worker prepares
    the next batch on a thread while the model runs this one."""

    value: Any = None
    error: str | None = None
    length: int = 0


class Classifier(ABC):
    """A loaded model: ``classify`` a batch of items over a label set, and ``embed`` them if it can.

    Subclasses set ``modality``, ``fixed_labels`` (None: any label set, given as categories) and
    ``embedding_dim`` (None: no embeddings), and implement ``_logits`` (and ``_embed_batch``).
    Probabilities are always softmax(logits) (sigmoid for multi-label), so a calibration
    temperature applies to every model the same way.
    """

    modality: Modality = "text"
    fixed_labels: tuple[str, ...] | None = None
    label_aliases: Mapping[str, str] = {}
    embedding_dim: int | None = None
    multi_label: bool = False
    default_batch_size: int = 32

    def __init__(self, *, name: str, batch_size: int | None = None):
        self.name = name
        self.batch_size = batch_size or self.default_batch_size

    # Public surface.

    def classify(self, items: Sequence[Item | Prepared], categories: Sequence[Category | str | Mapping] | None = None, *,
                 batch_size: int | None = None, temperature: float = 1.0,
                 with_embeddings: bool = False) -> ClassificationResult:
        """One probability vector per item over ``categories`` (or the model's own labels when it has fixed
        ones and none are given). A fixed-label model given categories keeps just those labels, renormalised.
        ``with_embeddings`` also returns each item's embedding, from the same forward pass where the model allows."""
        cats = as_categories(categories)
        labels, columns = self._resolve_labels(cats)
        width = len(self.fixed_labels) if self.fixed_labels is not None else len(labels)
        self._check_kinds(items)
        errors: list[str | None] = [None] * len(items)
        embeddings = None
        if with_embeddings:
            if self.embedding_dim is None:
                raise EngineError(NO_EMBEDDINGS.format(name=self.name))
            both = self._run(items, errors,
                             lambda batch: np.concatenate(self._logits_and_embeddings(batch, cats), axis=1),
                             width + self.embedding_dim, batch_size)
            logits, embeddings = both[:, :width], both[:, width:].astype(np.float32)
        else:
            logits = self._run(items, errors, lambda batch: self._logits(batch, cats), width, batch_size)
        if columns is not None:
            logits = logits[:, columns]
        with np.errstate(invalid="ignore"):
            probabilities = apply_temperature(logits, temperature, multi_label=self.multi_label)
        return ClassificationResult(model=self.name, labels=labels, logits=logits, probabilities=probabilities,
                                    errors=tuple(errors), multi_label=self.multi_label, temperature=temperature,
                                    embeddings=embeddings)

    def embed(self, items: Sequence[Item | Prepared], *, batch_size: int | None = None) -> EmbeddingResult:
        """One embedding per item (NaN rows for items that failed, with their errors)."""
        if self.embedding_dim is None:
            raise EngineError(NO_EMBEDDINGS.format(name=self.name))
        self._check_kinds(items)
        errors: list[str | None] = [None] * len(items)
        vectors = self._run(items, errors, self._embed_batch, self.embedding_dim, batch_size)
        return EmbeddingResult(model=self.name, vectors=vectors.astype(np.float32), errors=tuple(errors))

    def prepare(self, items: Sequence[Item]) -> list[Prepared]:
        """Each raw item as this model's input (``_prepare``: an image decoded and resized, a text checked),
        or its error: the part of ``classify`` that needs no model, so it can run on another thread.
        Only this model (or one sharing its ``_prepare``) may be given the result."""
        self._check_kinds(items)
        out = []
        for item in items:
            try:
                out.append(Prepared(value=self._prepare(item), length=self._length(item)))
            except ItemError as exc:
                out.append(Prepared(error=str(exc)))
        return out

    @property
    def any_label_set(self) -> bool:
        return self.fixed_labels is None

    # For subclasses.

    def _prepare(self, item: Item) -> Any:
        """Turn one raw item into model input; raise ItemError to fail this item alone."""
        if not item.strip():
            raise ItemError(EMPTY_TEXT)
        return item

    @abstractmethod
    def _logits(self, batch: list, categories: tuple[Category, ...] | None) -> np.ndarray:
        """(len(batch), n_labels) logits: over ``fixed_labels`` for fixed-label models, else over categories."""

    def _embed_batch(self, batch: list) -> np.ndarray:
        raise EngineError(NO_EMBEDDINGS.format(name=self.name))

    def _logits_and_embeddings(self, batch: list, categories: tuple[Category, ...] | None
                               ) -> tuple[np.ndarray, np.ndarray]:
        """Both at once; models whose logits come from their embeddings override this to run once."""
        return self._logits(batch, categories), self._embed_batch(batch)

    def _length(self, item: Item) -> int:
        """Items are batched in order of this key: texts by length, so a batch pads little."""
        return len(item) if isinstance(item, str) else 0

    # Machinery.

    def _resolve_labels(self, cats: tuple[Category, ...] | None) -> tuple[tuple[str, ...], np.ndarray | None]:
        if self.fixed_labels is None:
            if not cats:
                raise LabelSetError(NO_CATEGORIES.format(name=self.name))
            return tuple(c.name for c in cats), None
        if cats is None:
            return self.fixed_labels, None
        index = {label.lower(): i for i, label in enumerate(self.fixed_labels)}
        for alias, label in self.label_aliases.items():
            index.setdefault(alias.lower(), index[label.lower()])
        columns = [index.get(c.name.strip().lower()) for c in cats]
        missing = [c.name for c, col in zip(cats, columns, strict=True) if col is None]
        if missing:
            shown = ", ".join(self.fixed_labels[:SHOWN_LABELS])
            if len(self.fixed_labels) > SHOWN_LABELS:
                shown += f", ... ({len(self.fixed_labels)} in all)"
            raise LabelSetError(LABEL_NOT_SUPPORTED.format(name=self.name, labels=", ".join(map(repr, missing)),
                                                           supported=shown))
        return tuple(c.name for c in cats), np.array(columns, dtype=np.int64)

    def _check_kinds(self, items: Sequence[Item | Prepared]) -> None:
        kind: type | tuple[type, ...]
        if self.modality == "text":
            kind, expected = str, "texts (str)"
        else:
            kind, expected = (bytes, bytearray, memoryview), "images (encoded bytes)"
        for index, item in enumerate(items):
            if not isinstance(item, Prepared) and not isinstance(item, kind):
                raise InputKindError(WRONG_INPUT_KIND.format(name=self.name, expected=expected, index=index,
                                                             got=type(item).__name__))

    def _run(self, items: Sequence[Item | Prepared], errors: list[str | None], forward: Callable[[list], np.ndarray],
             width: int, batch_size: int | None) -> np.ndarray:
        """Prepare and run the items batch by batch (so memory holds one batch of model inputs), in
        ``_length`` order, writing rows back in input order. An item that can't be prepared, or on which
        the model fails, gets its error in ``errors``; a batch that raises is retried item by item to find
        which; if every item of a batch fails, the model is broken and it raises."""
        out = np.full((len(items), width), np.nan, dtype=np.float64)
        order = sorted(range(len(items)), key=lambda i: _sort_key(self, items[i]))
        size = max(1, batch_size or self.batch_size)
        for start in range(0, len(order), size):
            prepared = {}
            for i in order[start:start + size]:
                item = items[i]
                if isinstance(item, Prepared):  # prepared ahead (``prepare``)
                    if item.error is not None:
                        errors[i] = item.error
                    else:
                        prepared[i] = item.value
                    continue
                try:
                    prepared[i] = self._prepare(item)
                except ItemError as exc:
                    errors[i] = str(exc)
            chunk = list(prepared)
            if not chunk:
                continue
            try:
                out[chunk] = forward([prepared[i] for i in chunk])
                continue
            except Exception as exc:
                if _is_systemic(exc):
                    raise
                if len(chunk) == 1:
                    errors[chunk[0]] = _item_error(exc)
                    continue
            failures: dict[int, Exception] = {}
            for i in chunk:
                try:
                    out[i] = forward([prepared[i]])[0]
                except Exception as exc:
                    if _is_systemic(exc):
                        raise
                    failures[i] = exc
            if len(failures) == len(chunk):
                raise next(iter(failures.values()))
            for i, failure in failures.items():
                errors[i] = _item_error(failure)
        return out


def _sort_key(model: Classifier, item: Item | Prepared) -> int:
    return item.length if isinstance(item, Prepared) else model._length(item)


def _item_error(exc: Exception) -> str:
    return str(exc) if isinstance(exc, ItemError) else ITEM_FAILED.format(reason=f"{type(exc).__name__}: {exc}")


def _is_systemic(exc: BaseException) -> bool:
    """Failures of the model or the machine, never of one item: they fail the whole call."""
    return isinstance(exc, EngineError | MemoryError) or type(exc).__name__ == "OutOfMemoryError"
