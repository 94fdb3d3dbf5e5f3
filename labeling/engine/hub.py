"""Any Hugging Face model, by hub id or local directory, through transformers pipelines: text classification,
image classification, zero-shot text (NLI models) and zero-shot image (CLIP, SigLIP).

Hub downloads are off unless ``MODELSHIP_HUB_DOWNLOADS=1``: a hub id is loadable only when it is in
the local Hugging Face cache already (and then loads from its snapshot directory), and otherwise
reports that it needs the network.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from labeling.engine.base import Classifier
from labeling.engine.errors import NEEDS_NETWORK, EngineError, ModelUnavailableError
from labeling.engine.images import decode_image
from labeling.engine.results import Category
from labeling.engine.runtime import hub_downloads_allowed, select_device, stay_offline, uses_half_precision

TEXT_CLASSIFICATION = "text-classification"
IMAGE_CLASSIFICATION = "image-classification"
ZERO_SHOT_TEXT = "zero-shot-classification"
ZERO_SHOT_IMAGE = "zero-shot-image-classification"
HUB_TASKS = (TEXT_CLASSIFICATION, IMAGE_CLASSIFICATION, ZERO_SHOT_TEXT, ZERO_SHOT_IMAGE)
IMAGE_TASKS = (IMAGE_CLASSIFICATION, ZERO_SHOT_IMAGE)
FIXED_LABEL_TASKS = (TEXT_CLASSIFICATION, IMAGE_CLASSIFICATION)
ZERO_SHOT_IMAGE_TYPES = ("clip", "siglip", "siglip2", "chinese_clip", "altclip", "blip")
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
PROBABILITY_FLOOR = 1e-9

UNKNOWN_TASK = ("Can't tell what {source!r} does from its config (architectures: {architectures}); "
                f"pass one of: {', '.join(HUB_TASKS)}.")
NO_CONFIG = "{source} has no config.json"


def looks_like_hub_source(name: str) -> bool:
    """A local model directory, or an ``owner/name`` hub id."""
    return Path(name).is_dir() or bool(HUB_ID.match(name))


def _config_path(source: str) -> str | None:
    local = Path(source) / "config.json"
    if local.is_file():
        return str(local)
    if Path(source).is_dir() or not HUB_ID.match(source):
        return None
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(source, "config.json")
    return cached if isinstance(cached, str) else None


def hub_unavailable_reason(source: str) -> str | None:
    """None when ``source`` can be loaded here; otherwise why not."""
    if _config_path(source) is not None or (HUB_ID.match(source) and hub_downloads_allowed()):
        return None
    if Path(source).is_dir():
        return NO_CONFIG.format(source=source)
    return NEEDS_NETWORK.format(source=source)


def infer_task(config: dict, source: str = "") -> str:
    """The pipeline task a model config implies."""
    architectures = config.get("architectures") or []
    model_type = str(config.get("model_type", "")).lower()
    if any(a.endswith("ForImageClassification") for a in architectures):
        return IMAGE_CLASSIFICATION
    if model_type in ZERO_SHOT_IMAGE_TYPES:
        return ZERO_SHOT_IMAGE
    if any(a.endswith("ForSequenceClassification") for a in architectures):
        labels = {str(v).lower() for v in (config.get("id2label") or {}).values()}
        return ZERO_SHOT_TEXT if "entailment" in labels else TEXT_CLASSIFICATION
    raise EngineError(UNKNOWN_TASK.format(source=source, architectures=architectures or "none"))


class HubModel(Classifier):
    """A transformers pipeline behind the classifier interface."""

    def __init__(self, *, name: str, source: str, task: str | None = None, device: str | None = None,
                 batch_size: int | None = None, **_):
        super().__init__(name=name, batch_size=batch_size)
        reason = hub_unavailable_reason(source)
        if reason is not None:
            raise ModelUnavailableError(name, reason)
        config_path = _config_path(source)
        config = json.loads(Path(config_path).read_text()) if config_path else {}
        self.source = source
        # Offline, a cached hub model loads from its snapshot directory, so nothing reaches for the network.
        load_from = str(Path(config_path).parent) if config_path and not hub_downloads_allowed() else source
        self.task = task or infer_task(config, source)
        self.modality = "image" if self.task in IMAGE_TASKS else "text"
        self.device = select_device(device)

        stay_offline()
        import torch
        from transformers import pipeline
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        dtype = torch.float16 if uses_half_precision(self.device) else torch.float32
        self._pipeline = pipeline(self.task, model=load_from, device=self.device, dtype=dtype)
        self._lock = threading.Lock()  # a pipeline keeps per-call state: one call at a time
        if self.task in FIXED_LABEL_TASKS:
            id2label = self._pipeline.model.config.id2label
            self.fixed_labels = tuple(str(id2label[i]) for i in range(len(id2label)))
            self._column = {label: i for i, label in enumerate(self.fixed_labels)}

    def _prepare(self, item):
        return decode_image(item) if self.modality == "image" else super()._prepare(item)

    def _logits(self, batch: list, categories: tuple[Category, ...] | None) -> np.ndarray:
        with self._lock:
            return self._pipeline_logits(batch, categories)

    def _pipeline_logits(self, batch: list, categories: tuple[Category, ...] | None) -> np.ndarray:
        size = len(batch)
        if self.task in FIXED_LABEL_TASKS:
            # raw logits, every label: the pipeline's own softmax/sigmoid would hide them from calibration
            outputs = self._pipeline(batch, top_k=len(self.fixed_labels), function_to_apply="none", batch_size=size)
            outputs = _per_item(outputs, size)
            logits = np.empty((size, len(self.fixed_labels)))
            for row, scores in enumerate(outputs):
                for entry in scores:
                    logits[row, self._column[entry["label"]]] = entry["score"]
            return logits
        names = [c.name for c in categories]
        column = {name: i for i, name in enumerate(names)}
        if self.task == ZERO_SHOT_TEXT:
            outputs = _per_item(self._pipeline(batch, candidate_labels=names, multi_label=False), size)
            pairs: list[Iterable[tuple[str, float]]] = [zip(o["labels"], o["scores"], strict=True) for o in outputs]
        else:
            outputs = _per_item(self._pipeline(batch, candidate_labels=names, batch_size=size), size)
            pairs = [((e["label"], e["score"]) for e in o) for o in outputs]
        probabilities = np.full((size, len(names)), PROBABILITY_FLOOR)
        for row, scores in enumerate(pairs):
            for label, score in scores:
                probabilities[row, column[label]] = max(float(score), PROBABILITY_FLOOR)
        return np.log(probabilities)  # the pipelines only give probabilities; their logs are logits up to a constant


def _per_item(outputs, size: int) -> list:
    """Pipelines unwrap a batch of one (to a dict, or a list of label dicts); wrap it back."""
    if isinstance(outputs, dict) or (size == 1 and outputs and isinstance(outputs[0], dict)
                                     and "labels" not in outputs[0]):
        return [outputs]
    return list(outputs)
