"""The ML engine: plain Python, importable and testable without Django.

It takes items (image bytes or texts) and returns predictions (probability vectors over a
label set). Django code in ``labeling`` adapts it to projects, jobs and predictions.

    model = get_classifier("minilm-zero-shot")           # loaded once per process
    result = model.classify(texts, categories)            # ClassificationResult, one row per item
    result[0].label, result[0].confidence, result.errors  # a bad item fails alone, with its reason
    vectors = model.embed(texts).vectors                  # for few-shot heads and active learning

Importing this package loads no model and no torch.
"""

from labeling.engine.calibration import (
    TemperatureFit,
    apply_temperature,
    expected_calibration_error,
    fit_temperature,
)
from labeling.engine.errors import (
    EngineError,
    InputKindError,
    LabelSetError,
    LiteActivationError,
    ModelUnavailableError,
    UnknownModelError,
)
from labeling.engine.heads import FewShotHead, FewShotModel, enough_labels
from labeling.engine.registry import (
    MODELS,
    ModelSpec,
    clear_cache,
    few_shot_classifier,
    get_classifier,
    list_models,
    model_spec,
)
from labeling.engine.results import Category, ClassificationResult, EmbeddingResult, ItemPrediction

__all__ = [
    "MODELS",
    "Category",
    "ClassificationResult",
    "EmbeddingResult",
    "EngineError",
    "FewShotHead",
    "FewShotModel",
    "InputKindError",
    "ItemPrediction",
    "LabelSetError",
    "LiteActivationError",
    "ModelSpec",
    "ModelUnavailableError",
    "TemperatureFit",
    "UnknownModelError",
    "apply_temperature",
    "clear_cache",
    "enough_labels",
    "expected_calibration_error",
    "few_shot_classifier",
    "fit_temperature",
    "get_classifier",
    "list_models",
    "model_spec",
]
