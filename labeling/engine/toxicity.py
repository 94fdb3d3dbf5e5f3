"""Toxicity with ``alt-profanity-check`` (a linear model over word n-grams): toxic or non-toxic."""

from __future__ import annotations

import numpy as np

from labeling.engine.base import Classifier
from labeling.engine.results import Category

TOXICITY_LABELS = ("toxic", "non-toxic")
PROBABILITY_FLOOR = 1e-6


class ToxicityModel(Classifier):
    modality = "text"
    fixed_labels = TOXICITY_LABELS
    label_aliases = {"non_toxic": "non-toxic", "nontoxic": "non-toxic", "not toxic": "non-toxic",
                     "clean": "non-toxic", "profane": "toxic", "offensive": "toxic"}
    default_batch_size = 512

    def __init__(self, *, name: str, batch_size: int | None = None, **_):
        super().__init__(name=name, batch_size=batch_size)
        import profanity_check

        self._predict_prob = profanity_check.predict_prob

    def _logits(self, batch: list[str], categories: tuple[Category, ...] | None) -> np.ndarray:
        toxic = np.clip(np.asarray(self._predict_prob(batch), dtype=np.float64), PROBABILITY_FLOOR,
                        1 - PROBABILITY_FLOOR)
        return np.log(np.stack([toxic, 1 - toxic], axis=1))
