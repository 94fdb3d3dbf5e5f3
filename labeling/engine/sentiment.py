"""Sentiment with VADER (``vaderSentiment``): positive, negative, neutral.

VADER scores a text with ``pos``, ``neg`` and ``neu`` (the shares of its words that are positive,
negative and neutral; they sum to 1) and ``compound`` (overall polarity in [-1, 1]). The mapping
keeps the positive and negative shares and moves the neutral share toward the compound's side:

    p(positive) = pos + neu * max(compound, 0)
    p(negative) = neg + neu * max(-compound, 0)
    p(neutral)  = neu * (1 - |compound|)

These sum to 1. "I love this product!" (pos 0.6, neu 0.4, compound 0.67) gives 0.87 / 0 / 0.13;
a plain statement of fact (neu 1, compound 0) is neutral with probability 1.
"""

from __future__ import annotations

import numpy as np

from labeling.engine.base import Classifier
from labeling.engine.results import Category

SENTIMENT_LABELS = ("positive", "negative", "neutral")
PROBABILITY_FLOOR = 1e-6  # logits are log-probabilities: keep them finite so a temperature can act on them


def sentiment_probabilities(scores: dict) -> np.ndarray:
    """VADER's polarity scores mapped to (positive, negative, neutral) probabilities (see the module doc)."""
    compound, neutral = scores["compound"], scores["neu"]
    p = np.array([scores["pos"] + neutral * max(compound, 0.0),
                  scores["neg"] + neutral * max(-compound, 0.0),
                  neutral * (1.0 - abs(compound))])
    p = np.clip(p, PROBABILITY_FLOOR, None)
    return p / p.sum()


class SentimentModel(Classifier):
    modality = "text"
    fixed_labels = SENTIMENT_LABELS
    label_aliases = {"pos": "positive", "neg": "negative", "neu": "neutral"}
    default_batch_size = 256

    def __init__(self, *, name: str, batch_size: int | None = None, **_):
        super().__init__(name=name, batch_size=batch_size)
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._analyzer = SentimentIntensityAnalyzer()

    def _logits(self, batch: list[str], categories: tuple[Category, ...] | None) -> np.ndarray:
        return np.log(np.stack([sentiment_probabilities(self._analyzer.polarity_scores(t)) for t in batch]))
