"""Auto-labeling jobs: create one, split it into chunks on the ``inference`` queue, run a chunk
(one batched forward pass, one bulk upsert), and finish the job exactly once.

A chunk delivered twice (``acks_late`` after a worker died) upserts the same predictions and
counts once: ``JobChunk.done`` flips inside the same transaction as the writes.
"""

from __future__ import annotations

import queue
import random
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Length
from django.utils import timezone

from accounts.models import AuditEvent, User
from accounts.services import audit_record
from billing import services as billing
from labeling import task_names
from labeling.engine import (
    MODELS,
    LabelSetError,
    ModelSpec,
    ModelUnavailableError,
    UnknownModelError,
    get_classifier,
    model_spec,
)
from labeling.engine.base import Prepared
from labeling.engine.precision import audit_top_up
from labeling.inference.scoring import EMBEDDING_DTYPE, ProjectScorer, Scored, decide, item_input
from labeling.lifecycle import FreshPrediction, items_predicted
from labeling.models import Item as ItemModel
from labeling.models import ItemEmbedding, Job, JobChunk, JobItemError, Prediction
from modelship import bulk
from modelship.exceptions import DomainError
from modelship.selectors import live_processes
from projects.models import Project
from projects.selectors import schema_category_count, schema_current

UNKNOWN_MODEL = "Unknown model {name!r}. Available models: {available}."
MODEL_UNAVAILABLE = "The model {name!r} cannot be loaded here: {reason}"
WRONG_MODALITY = "The model {name!r} classifies {modality}s; this project holds {kind}s."
NO_SCHEMA = "The project has no label schema yet; create one first."
NO_ITEMS = "There are no items to classify."
JOB_ALREADY_FINISHED = "The job has already finished ({status})."
JOB_STOPPED = "The job stopped: a chunk failed {attempts} times ({error}). Predictions already written are kept."
WORKER_LOST = "the worker stopped while running it"
ITEM_GONE = "The item was deleted before it was classified."


# Errors a chunk meets that no retry can fix: the job fails at once with the message.
EXPECTED_ERRORS = (LabelSetError, ModelUnavailableError, UnknownModelError)


class WorkerLost(Exception):
    """A chunk's attempt ended without an error being raised: its worker process died."""


INFERENCE_QUEUE = "inference"  # where chunks go (modelship/celery.py routes labeling.tasks.inference_*)
THROUGHPUT_KEY = "modelship:items-per-second:{model}"
THROUGHPUT_TTL = 30 * 24 * 3600
THROUGHPUT_MIN_ITEMS = 16  # a chunk smaller than this measures its overhead more than the model


def throughput_record(*, model_name: str, items: int, seconds: float) -> None:
    """Fold one chunk's items/s (scoring and writing, the model already loaded) into the model's measured
    throughput: the mean of the last measurement and this one, shared by every worker through the cache."""
    if items < THROUGHPUT_MIN_ITEMS or seconds <= 0:
        return
    key = THROUGHPUT_KEY.format(model=model_name)
    rate = items / seconds
    previous = cache.get(key)
    cache.set(key, rate if previous is None else (float(previous) + rate) / 2, timeout=THROUGHPUT_TTL)


def throughput(*, model_name: str) -> float | None:
    """The model's measured items/s on this deployment's workers (None until a chunk has run)."""
    value = cache.get(THROUGHPUT_KEY.format(model=model_name))
    return None if value is None else float(value)


def chunk_size_for(*, model_name: str, total: int, width: int, requested: int | None = None) -> int:
    """Items per chunk: ``requested`` if given, else about INFERENCE_CHUNK_SECONDS of the model's measured
    throughput (INFERENCE_CHUNK_SIZE before it is measured), at most a share of the job that leaves a chunk
    for each live worker process taking inference tasks (INFERENCE_CHUNKS_PER_JOB if set) and
    INFERENCE_CHUNK_VALUES stored numbers per chunk; within 64 and INFERENCE_CHUNK_MAX."""
    low, high = settings.INFERENCE_CHUNK_MIN, settings.INFERENCE_CHUNK_MAX
    if requested:
        return max(low, min(high, requested))
    rate = throughput(model_name=model_name)
    size = settings.INFERENCE_CHUNK_SIZE if rate is None else int(rate * settings.INFERENCE_CHUNK_SECONDS)
    shares = settings.INFERENCE_CHUNKS_PER_JOB or live_processes(queue=INFERENCE_QUEUE)
    size = min(size, -(-total // max(1, shares)), settings.INFERENCE_CHUNK_VALUES // (2 * max(1, width)))
    return max(low, min(high, size))


def model_check(*, name: str, kind: str, mismatch: str = WRONG_MODALITY) -> ModelSpec:
    """The spec of a registered model, hub id or model directory, checked to exist, to classify ``kind``
    items (``mismatch`` says so otherwise) and to load here; a DomainError (400) names the problem."""
    try:
        spec = model_spec(name)
    except UnknownModelError:
        raise DomainError(UNKNOWN_MODEL.format(name=name, available=", ".join(sorted(MODELS))), field="model") from None
    if spec.modality != kind and name in MODELS:  # a hub model's modality is known only once it loads
        raise DomainError(mismatch.format(name=name, modality=spec.modality, kind=kind), field="model")
    reason = spec.unavailable_reason()
    if reason is not None:
        raise DomainError(MODEL_UNAVAILABLE.format(name=name, reason=reason), field="model")
    return spec


def model_resolve(*, project: Project, model_name: str | None = None) -> str:
    """The model a job uses (the project's default unless named), checked by ``model_check``."""
    name = (model_name or project.default_model or "").strip()
    model_check(name=name, kind=project.item_kind)
    return name


def audit_slice_ensure(*, project: Project, model_changed: bool = False, seed: int | None = None) -> int:
    """Keep the project's random audit slice honest as the project and its model change (the rule is
    ``labeling.engine.precision.audit_top_up``): at least ``audit_slice_size`` items, new arrivals sampled
    at the slice's rate, a few fresh items per new model. Drawn uniformly from items not yet in it."""
    pool = ItemModel.objects.filter(project=project).count()
    audited = ItemModel.objects.filter(project=project, in_audit_slice=True).count()
    added = max(0, pool - project.audit_pool_size) if project.audit_pool_size else 0
    want = audit_top_up(audited=audited, pool_size=pool, items_added=added, model_changed=model_changed,
                        base_size=project.audit_slice_size, per_model=10 if project.audit_slice_size else 0)
    chosen = []
    if want > 0:
        candidates = list(ItemModel.objects.filter(project=project, in_audit_slice=False).values_list("id", flat=True))
        chosen = random.Random(seed).sample(candidates, min(want, len(candidates)))
        ItemModel.objects.filter(pk__in=chosen).update(in_audit_slice=True)
    Project.objects.filter(pk=project.pk).update(audit_pool_size=pool)
    project.audit_pool_size = pool
    return len(chosen)


@transaction.atomic
def job_create(*, project: Project, created_by: User | None, model_name: str | None = None,
               item_ids: Iterable[int] | None = None, chunk_size: int | None = None,
               kind: str = Job.Kind.CLASSIFY) -> Job:
    """A job over ``item_ids`` (default: every unlabelled item of the project), enqueued after commit."""
    name = model_resolve(project=project, model_name=model_name)
    schema = schema_current(project=project)
    if schema is None:
        raise DomainError(NO_SCHEMA)
    audit_slice_ensure(project=project)
    items = ItemModel.objects.filter(project=project)
    if item_ids is not None:
        items = items.filter(pk__in=list(item_ids))
    else:
        items = items.filter(state=ItemModel.State.UNLABELLED)
    # Texts of similar length share a chunk, so the model's batches pad little (as a bare sorted loop does).
    order = (Length("text"), "id") if project.item_kind == ItemModel.Kind.TEXT else ("id",)
    ids = list(items.order_by(*order).values_list("id", flat=True))
    if not ids:
        raise DomainError(NO_ITEMS)
    size = chunk_size_for(model_name=name, total=len(ids), requested=chunk_size,
                          width=schema_category_count(schema=schema))
    job = Job.objects.create(project=project, kind=kind, model_name=name, schema=schema, total=len(ids),
                             chunk_size=size, created_by=created_by)
    # Its cost is held before any work; a 402 (credits missing) rolls the whole job back.
    billing.job_hold(project=project, job_id=job.pk, model_name=name, items=len(ids), actor=created_by)
    JobChunk.objects.bulk_create(
        [JobChunk(job=job, index=i, item_ids=ids[start:start + size]) for i, start in enumerate(range(0, len(ids), size))],
        batch_size=1000,
    )
    audit_record(actor=created_by, organization=project.organization, action=AuditEvent.Action.JOB_CREATED, target=job,
                 metadata={"project": project.id, "model": name, "items": len(ids)})
    n_chunks = (len(ids) + size - 1) // size
    transaction.on_commit(lambda: _enqueue_chunks(job.id, n_chunks))
    return job


def _enqueue_chunks(job_id: int, n_chunks: int) -> None:
    for index in range(n_chunks):
        current_app.send_task(task_names.INFERENCE_CHUNK, args=[job_id, index])


@transaction.atomic
def job_cancel(*, job: Job, actor: User) -> Job:
    """Stop a job: chunks not yet run are skipped; predictions already written stay."""
    updated = Job.objects.filter(pk=job.pk, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).update(
        status=Job.Status.CANCELLED, finished_at=timezone.now()
    )
    job.refresh_from_db()
    if not updated:
        raise DomainError(JOB_ALREADY_FINISHED.format(status=job.status), status_code=409)
    billing.job_release(organization_id=job.project.organization_id, job_id=job.pk, reason="cancelled")
    audit_record(actor=actor, organization=job.project.organization, action=AuditEvent.Action.JOB_CANCELLED, target=job)
    return job


def chunk_run(*, job_id: int, index: int) -> None:
    """Classify one chunk and write its predictions; safe to run twice."""
    job = Job.objects.select_related("project", "schema").filter(pk=job_id).first()
    if job is None or job.is_finished:
        return
    chunk = JobChunk.objects.filter(job=job, index=index).first()
    if chunk is None or chunk.done:
        return
    if chunk.attempts >= settings.TASK_MAX_ATTEMPTS:
        # Delivered again after its last allowed attempt never finished: the worker running it died
        # (killed for memory, say) before it could record anything.
        job_fail(job_id=job.pk, error=WorkerLost(WORKER_LOST), attempts=chunk.attempts)
        return
    JobChunk.objects.filter(pk=chunk.pk).update(attempts=F("attempts") + 1)
    Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(status=Job.Status.RUNNING, started_at=timezone.now())
    items = list(ItemModel.objects.filter(pk__in=chunk.item_ids, project_id=job.project_id)
                 .only("id", "kind", "text", "file"))
    position = {item_id: i for i, item_id in enumerate(chunk.item_ids)}
    items.sort(key=lambda item: position[item.id])  # the job's order: texts by length, so batches pad little
    scorer = ProjectScorer(project=job.project, schema=job.schema, base_model=job.model_name)
    get_classifier(scorer.base_model)  # loaded (once per process) before the throughput is timed
    started = time.monotonic()
    found = {item.id for item in items}
    gone = [item_id for item_id in chunk.item_ids if item_id not in found]
    if writes_beside_scoring():
        _score_and_write_beside(job=job, scorer=scorer, items=items, gone=gone, chunk=chunk)
    else:
        scored = [s for _, batch in _scored_batches(job_id=job.pk, scorer=scorer, items=items) for s in batch]
        predictions_write(job=job, scorer=scorer, items=items, scored=scored, gone=gone, chunk=chunk)
    throughput_record(model_name=job.model_name, items=len(items), seconds=time.monotonic() - started)


def _scored_batches(*, job_id: int, scorer: ProjectScorer, items: list[ItemModel]):
    """Score a chunk one model batch at a time, yielding (items, their scores) per batch: the next batch's
    files are read and decoded (``prepare``) on a thread while the model runs this one, and the job's
    ``scored`` count moves after each batch."""
    size = get_classifier(scorer.base_model).batch_size
    batches = [items[start:start + size] for start in range(0, len(items), size)]
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="read-ahead") as reader:
        ahead = reader.submit(_inputs, scorer, batches[0]) if batches else None
        for index, batch in enumerate(batches):
            inputs = ahead.result()
            if index + 1 < len(batches):
                ahead = reader.submit(_inputs, scorer, batches[index + 1])
            scored = scorer.score(inputs)
            job_scored_add(job_id=job_id, count=len(batch))
            yield batch, scored


def writes_beside_scoring() -> bool:
    """Whether a chunk's predictions are written batch by batch on a second connection while the model scores
    the next batch: on PostgreSQL (whose transactions do not block one another), unless the caller already
    holds a transaction (which a second connection could not see into). SQLite writes the chunk at once,
    after scoring: its single write lock must not be held for a whole chunk."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


class _Abandoned(Exception):
    """Scoring failed: the writer rolls the chunk's transaction back."""


_ABANDON = object()
_END = object()


def _score_and_write_beside(*, job: Job, scorer: ProjectScorer, items: list[ItemModel], gone: Sequence[int],
                            chunk: JobChunk) -> None:
    """Score the chunk here while a writer thread writes each scored batch (``_write_beside``): the chunk is
    still one transaction, so a chunk delivered twice still counts once; the wall time of the writes
    (PostgreSQL parsing a thousand probabilities and logits per image) overlaps the forward passes."""
    batches: queue.SimpleQueue = queue.SimpleQueue()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="chunk-writer") as pool:
        writing = pool.submit(_write_beside, job=job, scorer=scorer, batches=batches, gone=gone, chunk=chunk)
        try:
            for batch in _scored_batches(job_id=job.pk, scorer=scorer, items=items):
                if writing.done():  # the writer failed: its error is raised below
                    break
                batches.put(batch)
        except BaseException:
            batches.put(_ABANDON)
            raise
        batches.put(_END)
        writing.result()


def _write_beside(*, job: Job, scorer: ProjectScorer, batches: queue.SimpleQueue, gone: Sequence[int],
                  chunk: JobChunk) -> None:
    """The writer thread: on its own connection, one transaction that upserts each batch as it arrives and
    then settles the chunk (``_chunk_settle``), as ``predictions_write`` does in one go."""
    try:
        with transaction.atomic():
            prediction_ids: dict[int, int] = {}
            good: list[tuple[ItemModel, Scored]] = []
            failed = len(gone)
            while (batch := batches.get()) is not _END:
                if batch is _ABANDON:
                    raise _Abandoned
                batch_ids, batch_good, batch_bad = _predictions_upsert(job=job, scorer=scorer, items=batch[0],
                                                                       scored=batch[1])
                prediction_ids.update(batch_ids)
                good.extend(batch_good)
                failed += len(batch_bad)
            _chunk_settle(job=job, scorer=scorer, good=good, prediction_ids=prediction_ids, failed=failed,
                          chunk=chunk)
    except _Abandoned:
        pass
    finally:
        connection.close()


def _inputs(scorer: ProjectScorer, items: list[ItemModel]) -> list[str | bytes | Prepared | None]:
    return scorer.prepare([item_input(item) for item in items])


SCORED_KEY = "modelship:job-scored:{job_id}"
SCORED_TTL = 7 * 24 * 3600


def job_scored_add(*, job_id: int, count: int) -> None:
    """Count items the model has scored for a job, batch by batch, in the cache (a progress hint for
    GET /api/jobs/{id}; ``done`` stays the committed count)."""
    key = SCORED_KEY.format(job_id=job_id)
    try:
        cache.incr(key, count)
    except ValueError:  # the first batch of the job
        cache.set(key, count, timeout=SCORED_TTL)


def job_scored(*, job_id: int) -> int:
    return int(cache.get(SCORED_KEY.format(job_id=job_id)) or 0)


# A prediction's columns as ``predictions_write`` gives them; all but the first two are updated when the
# same job predicts the same item again (a chunk delivered twice).
PREDICTION_COLUMNS = ("job_id", "item_id", "model_name", "schema_id", "labels", "confidence", "probabilities", "logits",
                      "temperature", "calibrated")


@transaction.atomic
def predictions_write(*, job: Job, scorer: ProjectScorer, items: list[ItemModel], scored: list[Scored],
                      gone: Sequence[int] = (), chunk: JobChunk | None = None) -> None:
    """One transaction: upsert predictions and embeddings, record failures, move items to their
    state under the review policy (never touching a label a person decided), count progress once."""
    prediction_ids, good, bad = _predictions_upsert(job=job, scorer=scorer, items=items, scored=scored)
    _chunk_settle(job=job, scorer=scorer, good=good, prediction_ids=prediction_ids, failed=len(bad) + len(gone),
                  chunk=chunk)


def _predictions_upsert(*, job: Job, scorer: ProjectScorer, items: list[ItemModel], scored: list[Scored]
                        ) -> tuple[dict[int, int], list[tuple[ItemModel, Scored]], list[tuple[ItemModel, Scored]]]:
    """Upsert the predictions and embeddings of scored items and record the failed ones: (item id ->
    prediction id, the scored items, the failed ones). Inside the caller's transaction."""
    good = [(item, s) for item, s in zip(items, scored, strict=True) if s.error is None]
    bad = [(item, s) for item, s in zip(items, scored, strict=True) if s.error is not None]
    prediction_ids = dict(bulk.rows_upsert(
        model=Prediction, columns=PREDICTION_COLUMNS, unique=("job_id", "item_id"), update=PREDICTION_COLUMNS[2:],
        returning=("item_id", "id"),
        rows=[(job.pk, item.id, scorer.model_name, job.schema_id, s.labels, s.confidence, s.probabilities, s.logits,
               scorer.temperature, scorer.calibrated) for item, s in good]))
    embedded = [(item, s) for item, s in good if s.embedding is not None]
    if embedded:
        bulk.rows_upsert(model=ItemEmbedding, columns=("item_id", "model_name", "vector"), unique=("item_id", "model_name"),
                         update=("vector",), rows=[(item.id, scorer.embedding_model,
                                                    np.asarray(s.embedding, dtype=EMBEDDING_DTYPE).tobytes())
                                                   for item, s in embedded])
    if bad:
        JobItemError.objects.bulk_create(
            [JobItemError(job=job, item=item, reason=s.error) for item, s in bad], ignore_conflicts=True
        )
    return prediction_ids, good, bad


def _chunk_settle(*, job: Job, scorer: ProjectScorer, good: list[tuple[ItemModel, Scored]],
                  prediction_ids: dict[int, int], failed: int, chunk: JobChunk | None) -> None:
    """Move the scored items to their state under the review policy, then count the chunk once (a chunk
    delivered twice counts only where ``JobChunk.done`` flips), finish the job if it was the last, and
    settle its credits. Inside the caller's transaction."""
    items_predicted(
        predictions=[FreshPrediction(item_id=item.id, prediction_id=prediction_ids[item.id], labels=s.labels,
                                     confidence=s.confidence) for item, s in good if item.id in prediction_ids],
        schema_id=job.schema_id,
        decide=lambda item_id, in_audit_slice, confidence: decide(
            project=job.project, threshold=scorer.threshold, item_id=item_id, in_audit_slice=in_audit_slice,
            confidence=confidence),
    )
    if chunk is not None:
        if not JobChunk.objects.filter(pk=chunk.pk, done=False).update(done=True):
            return  # another delivery of this chunk already counted it
    Job.objects.filter(pk=job.pk).update(done=F("done") + len(good), failed=F("failed") + failed)
    job_finish_if_complete(job_id=job.pk)
    if chunk is not None:  # last: the organization's credit row stays locked until this commits
        billing.chunk_settle(organization_id=job.project.organization_id, project_id=job.project_id, job_id=job.pk,
                             model_name=job.model_name, used_items=len(good), failed_items=failed)


def job_finish_if_complete(*, job_id: int) -> bool:
    """Mark the job succeeded once every item is counted; exactly one caller wins."""
    finished = Job.objects.filter(pk=job_id, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).filter(
        Q(done__gte=F("total") - F("failed"))
    ).update(status=Job.Status.SUCCEEDED, finished_at=timezone.now())
    return bool(finished)


@transaction.atomic
def job_fail(*, job_id: int, error: BaseException, attempts: int = 1) -> None:
    """A chunk met an error that is not one item's fault: the job fails with the reason. A refusal
    (``EXPECTED_ERRORS``: the model's labels don't fit the schema, the model cannot load) as written;
    anything else (database, memory) once the chunk has had its last attempt, named with its type.
    What the job held in credits and did not use is released."""
    if isinstance(error, EXPECTED_ERRORS):
        message = str(error) or type(error).__name__
    else:
        message = JOB_STOPPED.format(attempts=attempts, error=f"{type(error).__name__}: {error}"[:500])
    failed = Job.objects.filter(pk=job_id, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).update(
        status=Job.Status.FAILED, error=message[:2000], finished_at=timezone.now()
    )
    if failed:
        organization_id = Job.objects.filter(pk=job_id).values_list("project__organization_id", flat=True).get()
        billing.job_release(organization_id=organization_id, job_id=job_id, reason="failed")
