"""What can go wrong in the engine, and the messages a user may read about it.

Two kinds of failure: a caller's mistake or a model that can't run raises one of the exceptions
below (the API answers 400); a bad item (an unreadable image, an empty text) does not raise but
comes back as that item's error string, so the rest of its batch still gets predictions.
"""

from __future__ import annotations

UNKNOWN_MODEL = "Unknown model {name!r}; available: {available}."
MODEL_UNAVAILABLE = "The model {name!r} can't be loaded here: {reason}."
NEEDS_NETWORK = "needs network: {source} is not in the local Hugging Face cache"
PACKAGE_MISSING = "the package {package!r} is not installed"
WRONG_INPUT_KIND = "The model {name!r} classifies {expected}; item {index} is {got}."
LABEL_NOT_SUPPORTED = "The model {name!r} can't predict {labels}; it predicts: {supported}."
NO_CATEGORIES = "The model {name!r} works with any label set: pass the categories to classify into."
HEAD_MISMATCH = "The few-shot head was trained on {trained} categories, not {given}."
SWISH_ON_LITE = (
    "EfficientNet-Lite models use ReLU6; set_swish() would replace it with Swish and silently wreck every "
    "prediction, so it is refused."
)
LITE_ACTIVATION_CHANGED = "EfficientNet-Lite activation {where} is {found}, not ReLU6: the model's predictions are wrong."

# Per-item errors: stored with the item's failed prediction, shown to the user.
EMPTY_TEXT = "The text is empty."
UNREADABLE_IMAGE = "The file is not an image that can be read ({reason})."
IMAGE_TOO_LARGE = "The image is too large to decode safely ({reason})."
ITEM_FAILED = "The model failed on this item ({reason})."


class EngineError(Exception):
    """Base class: a request the engine can't serve at all."""


class UnknownModelError(EngineError, KeyError):
    def __init__(self, name: str, available: list[str]):
        self.name = name
        self.available = available
        super().__init__(UNKNOWN_MODEL.format(name=name, available=", ".join(available)))

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]


class ModelUnavailableError(EngineError):
    """The model is known but can't be loaded on this machine (no network, missing package)."""

    def __init__(self, name: str, reason: str):
        self.name = name
        self.reason = reason
        super().__init__(MODEL_UNAVAILABLE.format(name=name, reason=reason))


class InputKindError(EngineError, TypeError):
    """Text sent to an image model or bytes to a text model."""


class LabelSetError(EngineError, ValueError):
    """The label set doesn't fit the model (a category a fixed-label model can't predict, none given...)."""


class LiteActivationError(EngineError, RuntimeError):
    """An EfficientNet-Lite model lost its ReLU6 activations (see SWISH_ON_LITE)."""


class ItemError(Exception):
    """Raised while preparing one item; caught by the batch and stored as that item's error."""
