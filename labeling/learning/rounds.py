"""The trust loop: the items always follow the statement.

A *round* (after human labels on the adaptive cadence, through ``POST /learn``, or when a precision
setting changes) works only from stored outputs, never a forward pass:

1. trains a candidate few-shot head on the embeddings of every human-labelled item (out of fold),
   promoted only if it beats the active model (or the prior) on the audited items;
2. refits the temperature of the model in force on every audited item, each scored out of fold,
   and keeps the previous temperature unless the new one is better on held-out NLL;
3. re-scores every item no person decided, from stored embeddings (head) or stored logits (a model
   without embeddings), when the head or the temperature changed;
4. chooses the threshold by Learn-then-Test on the audit slice, with coverage over the eligible items;
5. re-decides every eligible item in one bulk pass (``labeling.lifecycle``): an auto-accepted item
   that no longer clears the threshold goes back to review, one that now clears is accepted;
6. records a ``LearningRound``: the statement, its coverage and the item counts, all from one fit.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace

import numpy as np
from celery import current_app
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from labeling import lifecycle, task_names
from labeling.engine import FewShotHead, enough_labels
from labeling.engine.calibration import apply_temperature, expected_calibration_error, temperature_update
from labeling.engine.precision import Guarantee, describe_guarantee, ltt_threshold, threshold_check
from labeling.inference.jobs import audit_slice_ensure
from labeling.inference.scoring import (
    HUMAN_SOURCES,
    ProjectScorer,
    active_head,
    effective_model_name,
    embedding_model_for,
    human_labelled,
    latest_logits,
    prior_logits,
    qa_sampled,
    stored_embedding_matrix,
    stored_embeddings,
)
from labeling.models import HeadVersion, Item, Job, LearningRound, ModelCalibration, Prediction
from modelship.bulk import EncodedJson, rows_insert_ids
from projects.models import LabelSchema, Project
from projects.selectors import schema_current

FOLDS = 5
PREDICTION_COLUMNS = ("item_id", "job_id", "model_name", "schema_id", "labels", "confidence", "probabilities", "logits",
                      "temperature", "calibrated")
INSERT_BATCH = 5000  # predictions per INSERT statement on PostgreSQL
MIN_EVALUATED = 10  # audited items needed to judge a head on the audit slice alone
ELIGIBLE_STATES = (Item.State.PREDICTED, Item.State.NEEDS_REVIEW, Item.State.AUTO_ACCEPTED)

PROMOTED = "promoted: {candidate:.1%} held-out accuracy on {n} audited items beats {baseline:.1%} ({against})"
NOT_PROMOTED = "kept {against}: {candidate:.1%} held-out accuracy on {n} audited items does not beat {baseline:.1%}"
NO_HEAD = "no head: {why}"
WHY_NO_EMBEDDINGS = "the project's items have no stored embeddings"
WHY_FEW_LABELS = "needs two labelled items in each of two categories"
WHY_MULTI_LABEL = "multi-label schemas keep the model's own scores"


# --- eligibility and the bulk decision ------------------------------------------------------------

def decidable_q() -> Q:
    """Item columns only (PostgreSQL re-checks them on a row a concurrent decision just changed, where a
    join's subquery would not): no person's label, not in the audit slice, no review part-way through."""
    return (Q(state__in=ELIGIBLE_STATES, in_audit_slice=False, review_count=0) & ~Q(final_source__in=HUMAN_SOURCES)
            & ~Q(queue_reason=Item.QueueReason.ADJUDICATION))


def eligible_q(schema: LabelSchema) -> Q:
    """Items a threshold decides: decidable, with a prediction under ``schema``."""
    return decidable_q() & Q(prediction__schema=schema)


def audit_waiting_q() -> Q:
    """Audit-slice items no person decided yet: always in review, whatever the threshold."""
    return Q(in_audit_slice=True, state__in=ELIGIBLE_STATES, review_count=0) & ~Q(final_source__in=HUMAN_SOURCES)


@dataclass
class Decision:
    eligible: int
    accepted: int
    accepted_now: int
    returned_to_review: int


def items_redecide(*, project: Project, schema: LabelSchema, threshold: float | None,
                   rescored: bool = True) -> Decision:
    """Re-decide every eligible item at ``threshold`` in one bulk pass (one SQL statement per transition).
    Only items whose decision changes are written: one already waiting for the same reason stays as it
    is, and so does one already auto-accepted, unless the round re-scored it and its final label is no
    longer its (new) prediction under ``schema``."""
    rows = list(Item.objects.filter(project=project).filter(eligible_q(schema))
                .values_list("id", "confidence", "state", "queue_reason"))
    policy = project.review_policy
    accept, review = [], {"uncertain": [], "policy": [], "qa": []}
    for item_id, confidence, _, _ in rows:
        if policy == Project.ReviewPolicy.ALL:
            review[Item.QueueReason.POLICY].append(item_id)
        elif threshold is None or confidence is None or confidence < threshold:
            review[Item.QueueReason.UNCERTAIN].append(item_id)
        elif policy == Project.ReviewPolicy.BELOW_THRESHOLD_PLUS_QA and qa_sampled(item_id, project.qa_sample_rate):
            review[Item.QueueReason.QA].append(item_id)
        else:
            accept.append(item_id)
    was_accepted = {item_id for item_id, _, state, _ in rows if state == Item.State.AUTO_ACCEPTED}
    waiting = {(item_id, reason) for item_id, _, state, reason in rows if state == Item.State.NEEDS_REVIEW}
    unchanged = _accepted_as_predicted(project=project, schema=schema, item_ids=was_accepted) if rescored \
        else was_accepted
    guard = Q(project=project) & decidable_q()  # re-checked row by row inside each UPDATE
    with transaction.atomic():
        lifecycle.items_audit_hold(project=project, waiting=audit_waiting_q())
        kept = len(unchanged.intersection(accept))
        accepted = kept + lifecycle.items_auto_accepted(item_ids=[i for i in accept if i not in unchanged],
                                                        schema=schema, guard=guard)
        for reason, ids in review.items():
            lifecycle.items_returned_to_review(item_ids=[i for i in ids if (i, reason) not in waiting],
                                               reason=reason, guard=guard)
    return Decision(eligible=len(rows), accepted=accepted,
                    accepted_now=len(set(accept) - was_accepted),
                    returned_to_review=len(was_accepted - set(accept)))


def _accepted_as_predicted(*, project: Project, schema: LabelSchema, item_ids: set[int]) -> set[int]:
    """Of the auto-accepted ``item_ids``, those whose final label already is their prediction under
    ``schema``: accepting them again would write what they hold, only with a later decision time (which
    would count them as decided again in the day's throughput and in exports of what changed since)."""
    if not item_ids:
        return set()
    rows = (Item.objects.filter(project=project, state=Item.State.AUTO_ACCEPTED, final_schema=schema,
                                final_source=Item.FinalSource.AUTO, decided_by__isnull=True,
                                queue_reason=Item.QueueReason.NONE)
            .values_list("id", "final_labels", "predicted_labels"))
    return {item_id for item_id, final, predicted in rows if item_id in item_ids and final == predicted}


# --- scores from stored outputs ---------------------------------------------------------------------

def _latest_logits(item_ids, model_name: str) -> dict[int, np.ndarray]:
    """Each item's latest stored logits from ``model_name``."""
    return {item_id: np.asarray(logits, dtype=np.float64)
            for item_id, logits in latest_logits(item_ids, model_name).items() if logits}


def _current_logits(scorer: ProjectScorer, embedding_model: str | None, item_ids: list[int]):
    """(ids, logits) of the model in force for ``item_ids``, from stored embeddings (a head, with the
    prior's stored logits where it takes them) or the stored logits of the items' current prediction
    (a model without a head): no forward pass."""
    if scorer.head is not None:
        ids, vectors = stored_embedding_matrix(item_ids, embedding_model)
        if not ids:
            return [], np.zeros((0, len(scorer.paths)))
        if vectors.dtype == object:
            vectors = np.stack([np.asarray(v, dtype=np.float32) for v in vectors])
        prior = (prior_logits(ids, scorer.base_model, scorer.head.prior_dims) if scorer.head.prior_dims else None)
        return ids, scorer.head.decision_function(vectors, prior)
    rows = (Item.objects.filter(pk__in=item_ids, prediction__model_name=scorer.model_name)
            .values_list("id", "prediction__logits"))
    pairs = [(i, z) for i, z in rows if z and len(z) == len(scorer.paths)]
    return [i for i, _ in pairs], np.array([z for _, z in pairs], dtype=np.float64).reshape(len(pairs), -1)


def items_rescore(*, project: Project, schema: LabelSchema, scorer: ProjectScorer,
                  embedding_model: str | None) -> int:
    """New predictions for every item no person decided (waiting, auto-accepted, audit-pending), from
    stored outputs through the model and temperature in force. Recorded as a re-score job."""
    waiting = (Item.objects.filter(project=project, state__in=ELIGIBLE_STATES, prediction__isnull=False)
               .exclude(final_source__in=HUMAN_SOURCES).order_by("id").values_list("id", flat=True))
    ids, logits = _current_logits(scorer, embedding_model, list(waiting))
    if not ids:
        return 0
    now = timezone.now()
    job = Job.objects.create(project=project, kind=Job.Kind.RESCORE, model_name=project.default_model,
                             schema=schema, total=len(ids), done=len(ids), status=Job.Status.SUCCEEDED,
                             started_at=now, finished_at=now)
    scored = scorer._finish(np.asarray(logits, dtype=np.float64), multi_label_logits=False)
    with transaction.atomic():
        created = _predictions_insert(job=job, scorer=scorer, schema=schema, ids=ids, scored=scored)
        lifecycle.items_rescored(predictions=[
            lifecycle.FreshPrediction(item_id=item_id, prediction_id=created[item_id], labels=s.labels,
                                      confidence=s.confidence) for item_id, s in zip(ids, scored, strict=True)])
    return len(ids)


def _json_rows(rows: list[list[float]]) -> list[str]:
    """``json.dumps`` of each row of numbers, from one ``json.dumps`` of them all (the same text, row for row)."""
    if not rows:
        return []
    text = json.dumps(rows)
    out = ["[" + part + "]" for part in text[2:-2].split("], [")]
    if len(out) != len(rows):  # a row json.dumps would write differently: encode one at a time
        return [json.dumps(row) for row in rows]
    return out


def _predictions_insert(*, job: Job, scorer: ProjectScorer, schema: LabelSchema, ids: list[int], scored) -> dict:
    """Insert one prediction per item; item id -> prediction id. Every value is encoded up front, each
    distinct label set once and the probabilities and logits with one ``json.dumps`` each; then on
    PostgreSQL one ``INSERT … SELECT FROM unnest(…) RETURNING`` per 5,000 rows, elsewhere one multi-row
    INSERT (``modelship.bulk``). Django's bulk_create spends longer preparing values than the database
    spends writing them, and a round must stay fast on ten thousand items."""
    labels_json: dict[tuple, str] = {}
    for s in scored:
        key = tuple(s.labels)
        if key not in labels_json:
            labels_json[key] = json.dumps(s.labels)
    labels = [labels_json[tuple(s.labels)] for s in scored]
    confidences = [s.confidence for s in scored]
    probabilities = _json_rows([s.probabilities for s in scored])
    logits = _json_rows([s.logits for s in scored])
    if connection.vendor != "postgresql":
        rows = [(item_id, job.pk, scorer.model_name, schema.pk, EncodedJson(label), confidence, EncodedJson(p),
                 EncodedJson(z), scorer.temperature, scorer.calibrated)
                for item_id, label, confidence, p, z in zip(ids, labels, confidences, probabilities, logits,
                                                            strict=True)]
        return rows_insert_ids(model=Prediction, columns=PREDICTION_COLUMNS, rows=rows, key="item_id",
                               equal={"job_id": job.pk})
    table = connection.ops.quote_name(Prediction._meta.db_table)
    out: dict[int, int] = {}
    now = timezone.now()
    with connection.cursor() as cursor:
        for start in range(0, len(ids), INSERT_BATCH):
            part = slice(start, start + INSERT_BATCH)
            cursor.execute(
                f"INSERT INTO {table} (item_id, job_id, model_name, schema_id, labels, confidence, probabilities, "
                "logits, temperature, calibrated, created_at) "
                "SELECT u.item_id, %s, %s, %s, u.labels::jsonb, u.confidence, u.probabilities::jsonb, u.logits::jsonb, "
                "%s, %s, %s FROM unnest(%s::bigint[], %s::text[], %s::float8[], %s::text[], %s::text[]) "
                "AS u(item_id, labels, confidence, probabilities, logits) RETURNING item_id, id",
                [job.pk, scorer.model_name, schema.pk, scorer.temperature, scorer.calibrated, now, ids[part],
                 labels[part], confidences[part], probabilities[part], logits[part]])
            out.update(cursor.fetchall())
    return out


# --- heads ----------------------------------------------------------------------------------------

def _out_of_fold_logits(x: np.ndarray, y: np.ndarray, n_categories: int, seed: int = 0,
                        init: FewShotHead | None = None, prior: np.ndarray | None = None) -> np.ndarray | None:
    """Logits for every labelled item from a head that never saw it (K-fold cross-fitting)."""
    folds = min(FOLDS, len(y))
    if folds < 2:
        return None
    order = np.random.default_rng(seed).permutation(len(y))
    out = np.full((len(y), n_categories), np.nan)
    for k in range(folds):
        test = order[k::folds]
        train = np.setdiff1d(order, test)
        if len(np.unique(y[train])) < 2:
            return None
        head = FewShotHead(n_categories, prior_dims=0 if prior is None else prior.shape[1])
        fold_prior = (None, None) if prior is None else (prior[train], prior[test])
        out[test] = head.fit(x[train], y[train], init=init, prior=fold_prior[0]).decision_function(
            x[test], fold_prior[1])
    return out


@dataclass
class HeadOutcome:
    version: HeadVersion | None
    reason: str
    oof_logits: np.ndarray | None = None
    ids: np.ndarray | None = None
    labels: np.ndarray | None = None
    audit: np.ndarray | None = None


def head_train(*, project: Project, schema: LabelSchema, embedding_model: str | None, paths, ids, labels,
               audit) -> HeadOutcome:
    """Train a candidate head on every human label, with the prior's log-probabilities as features beside
    the embeddings (where the prior stored logits for the categories); promote it only if its out-of-fold
    accuracy on the audited items beats both the prior's predictions of the same items, made before
    anyone labelled them, and the active head's own out-of-fold accuracy."""
    if embedding_model is None:
        return HeadOutcome(None, NO_HEAD.format(why=WHY_NO_EMBEDDINGS))
    base_model = project.default_model
    vectors = stored_embeddings(ids, embedding_model)
    keep = np.array([i in vectors for i in ids], dtype=bool)
    ids, labels, audit = ids[keep], labels[keep], audit[keep]
    if not len(ids):
        return HeadOutcome(None, NO_HEAD.format(why=WHY_NO_EMBEDDINGS))
    if not enough_labels(labels.tolist()):
        return HeadOutcome(None, NO_HEAD.format(why=WHY_FEW_LABELS))
    x = np.stack([vectors[i] for i in ids])
    prior = prior_logits(ids, base_model, len(paths))
    has_prior = ~np.isnan(prior).any(axis=1)
    if not has_prior.any():
        prior = None  # a prior that scored none of the items (or other categories) adds nothing
    # incremental: the optimiser starts from the previous round's head (same objective, fewer iterations)
    last = HeadVersion.objects.filter(project=project, schema=schema).order_by("-version").first()
    init = FewShotHead.from_bytes(bytes(last.head)) if last is not None else None
    head = FewShotHead(len(paths), prior_dims=0 if prior is None else len(paths)).fit(x, labels, init=init,
                                                                                       prior=prior)
    # the folds start from the head on every label (the same convex objectives, each optimum a few
    # iterations away): one cold fit per round instead of six
    oof = _out_of_fold_logits(x, labels, len(paths), init=head, prior=prior)
    if oof is None:
        return HeadOutcome(None, NO_HEAD.format(why=WHY_FEW_LABELS))
    evaluate = audit if audit.sum() >= MIN_EVALUATED else np.ones_like(audit)
    candidate = float((oof[evaluate].argmax(axis=1) == labels[evaluate]).mean())
    current = active_head(project=project, base_model=base_model, schema=schema)
    scored = evaluate & has_prior
    baseline = (float((np.argmax(prior[scored], axis=1) == labels[scored]).mean())
                if prior is not None and scored.any() else 0.0)
    against = f"the prior {base_model}"
    if current is not None:  # the candidate must beat the prior and the active head on the same items
        same_items = _head_out_of_sample_accuracy(current, ids[evaluate], labels[evaluate], x[evaluate],
                                                  None if prior is None else prior[evaluate]) \
            if evaluate is audit else None
        head_baseline = same_items if same_items is not None else (current.heldout_accuracy or 0.0)
        if head_baseline >= baseline:
            baseline, against = head_baseline, f"head v{current.version}"
    version = (HeadVersion.objects.filter(project=project).aggregate(v=Max("version"))["v"] or 0) + 1
    promoted = candidate > baseline
    n = int(evaluate.sum())
    reason = (PROMOTED if promoted else NOT_PROMOTED).format(candidate=candidate, baseline=baseline, n=n,
                                                              against=against)
    heldout = {str(int(i)): np.round(z, 5).tolist() for i, z in zip(ids[audit], oof[audit], strict=True)}
    with transaction.atomic():
        if promoted:
            HeadVersion.objects.filter(project=project, is_active=True).update(is_active=False)
        record = HeadVersion.objects.create(
            project=project, base_model=base_model, version=version, schema=schema, head=head.to_bytes(),
            classes=paths, trained_on=len(labels), evaluated_on=n, heldout_accuracy=candidate,
            baseline_accuracy=baseline, is_active=promoted, heldout_logits=heldout)
    return HeadOutcome(record, reason, oof, ids, labels, audit)


def _head_out_of_sample_accuracy(current: HeadVersion, ids: np.ndarray, labels: np.ndarray,
                                 x: np.ndarray, prior: np.ndarray | None = None) -> float | None:
    """The active head's accuracy on the same audited items a candidate is judged on, every one out of
    sample: its stored cross-fitted logits for the items it was trained on (every audited item labelled
    then), its own prediction for those audited after it was trained. Judging a candidate against the
    accuracy the active head had on the fewer items audited back then compares two different samples,
    and a lucky early estimate then blocks every better head for many rounds."""
    if not len(ids):
        return None
    held = current.heldout_logits or {}
    later = np.array([str(int(i)) not in held for i in ids], dtype=bool)
    predicted = np.empty(len(ids), dtype=np.int64)
    if later.any():
        active = FewShotHead.from_bytes(bytes(current.head))
        active_prior = prior[later] if active.prior_dims and prior is not None and prior.shape[1] == active.prior_dims \
            else None
        predicted[later] = active.decision_function(x[later], active_prior).argmax(axis=1)
    for k in np.flatnonzero(~later):
        predicted[k] = int(np.argmax(held[str(int(ids[k]))]))
    return float((predicted == labels).mean())


def _audit_logits(*, scorer: ProjectScorer, ids: np.ndarray, labels: np.ndarray, audit: np.ndarray):
    """Logits of the model in force for every audited human-labelled item, each scored out of fold: a
    head's cross-fitted logits stored when it was trained, else its (or the prior's) prediction made
    before a person labelled the item."""
    audit_ids, audit_labels = ids[audit], labels[audit]
    held = {int(k): v for k, v in (scorer.head_version.heldout_logits or {}).items()} if scorer.head_version else {}
    stored = _latest_logits([i for i in audit_ids if int(i) not in held], scorer.model_name)
    rows, keep = [], []
    for k, item_id in enumerate(audit_ids):
        z = held.get(int(item_id))
        if z is None:
            z = stored.get(int(item_id))
        if z is not None and len(z) == len(scorer.paths):
            rows.append(np.asarray(z, dtype=np.float64))
            keep.append(k)
    return np.array(rows).reshape(len(rows), len(scorer.paths)), audit_labels[keep]


# --- the round ------------------------------------------------------------------------------------

def project_round(*, project_id: int, trigger: str = LearningRound.Trigger.SCHEDULE, learn: bool = True) -> dict:
    """One round of the trust loop (see the module docstring). ``learn=False`` (a settings change)
    skips the head and the temperature and only re-chooses the threshold and re-decides the items.

    BLAS runs on one thread: the head's optimiser makes hundreds of tiny calls, and on a busy machine
    a thread pool's hand-offs cost more than the arithmetic (a round went from 19 s to 4 s)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return _round(project_id=project_id, trigger=trigger, learn=learn)


def _round(*, project_id: int, trigger: str, learn: bool) -> dict:
    started, clock = timezone.now(), time.perf_counter()
    project = Project.objects.select_related("organization").filter(pk=project_id).first()
    schema = schema_current(project=project) if project else None
    if project is None or schema is None or not project.default_model:
        return {"skipped": "no project, schema or model"}
    paths, ids, labels, audit = human_labelled(project, schema)
    summary: dict = {"labelled": int(len(ids)), "audited": int(audit.sum())}
    record = LearningRound(project=project, trigger=trigger, started_at=started, labels_used=len(ids),
                           audited=int(audit.sum()))
    embedding_model = embedding_model_for(project)
    outcome = HeadOutcome(None, NO_HEAD.format(why=WHY_MULTI_LABEL))
    if learn and not schema.multi_label:
        outcome = head_train(project=project, schema=schema, embedding_model=embedding_model, paths=paths,
                             ids=ids, labels=labels, audit=audit)
    promoted = outcome.version is not None and outcome.version.is_active
    record.promoted, record.promotion_reason = promoted, outcome.reason if learn else ""
    if outcome.version is not None:
        summary.update(head_version=outcome.version.version, promoted=promoted,
                       heldout_accuracy=outcome.version.heldout_accuracy,
                       baseline_accuracy=outcome.version.baseline_accuracy)
    if schema.multi_label:
        record.save()
        return summary
    scorer = ProjectScorer(project=project, schema=schema, base_model=project.default_model)
    record.model_name, record.head_version = scorer.model_name, (scorer.head_version.version
                                                                 if scorer.head_version else None)
    calibration, _ = ModelCalibration.objects.get_or_create(project=project, model_name=scorer.model_name)
    record.temperature_before = calibration.temperature
    audit_logits, audit_labels = _audit_logits(scorer=scorer, ids=ids, labels=labels, audit=audit)
    refitted = False
    if learn and len(audit_labels):
        decision = temperature_update(audit_logits, audit_labels, previous=calibration.temperature)
        record.calibration_reason = decision.reason
        if decision.fit is not None:
            refitted = True
            calibration.temperature = decision.temperature
            calibration.nll_before, calibration.nll_after = decision.fit.nll_before, decision.fit.nll_after
        calibration.fitted_on = len(audit_labels)
    if len(audit_labels):
        calibration.ece_before = expected_calibration_error(apply_temperature(audit_logits, 1.0), audit_labels)
        calibration.ece_after = expected_calibration_error(
            apply_temperature(audit_logits, calibration.temperature), audit_labels)
    scorer.temperature, scorer.calibrated = calibration.temperature, bool(calibration.fitted_on)
    if promoted:
        summary["audit_added"] = audit_slice_ensure(project=project, model_changed=True)
    if promoted or refitted:
        summary["rescored"] = items_rescore(project=project, schema=schema, scorer=scorer,
                                            embedding_model=embedding_model)
    guarantee = statement_fit(project=project, schema=schema, calibration=calibration, audit_logits=audit_logits,
                              audit_labels=audit_labels)
    decision = items_redecide(project=project, schema=schema, threshold=guarantee.threshold,
                              rescored=bool(summary.get("rescored")))
    guarantee = replace(guarantee, eligible=decision.eligible, accepted=decision.accepted)
    calibration.threshold = guarantee.threshold
    calibration.precision = guarantee.as_dict() | {"calibration": record.calibration_reason}
    calibration.fitted_at = timezone.now()
    calibration.save()
    record.temperature_after = calibration.temperature
    record.ece_before, record.ece_after = calibration.ece_before, calibration.ece_after
    record.threshold, record.statement, record.guarantee = guarantee.threshold, describe_guarantee(guarantee), \
        guarantee.as_dict()
    record.eligible, record.auto_accepted, record.coverage = decision.eligible, decision.accepted, guarantee.coverage
    record.accepted_now, record.returned_to_review = decision.accepted_now, decision.returned_to_review
    record.duration_ms = int(1000 * (time.perf_counter() - clock))
    record.save()
    summary.update(temperature=calibration.temperature, threshold=guarantee.threshold,
                   ece_before=calibration.ece_before, ece_after=calibration.ece_after,
                   auto_accepted=decision.accepted, eligible=decision.eligible, statement=record.statement,
                   round=record.pk)
    if learn and outcome.version is not None:  # a new head may see label mistakes the old one did not
        transaction.on_commit(lambda: current_app.send_task(task_names.INFERENCE_LABEL_ISSUES, args=[project.pk]))
    return summary


def statement_fit(*, project: Project, schema: LabelSchema, calibration: ModelCalibration,
                  audit_logits: np.ndarray, audit_labels: np.ndarray) -> Guarantee:
    """The threshold in force and what it guarantees: Learn-then-Test on the audit slice (or the check of
    a threshold set by hand), with the eligible items' calibrated confidences as the pool."""
    probabilities = apply_temperature(audit_logits, calibration.temperature) if len(audit_labels) else np.zeros((0, 1))
    confidences = probabilities.max(axis=1) if len(audit_labels) else np.zeros(0)
    correct = (probabilities.argmax(axis=1) == audit_labels) if len(audit_labels) else np.zeros(0, bool)
    pool = np.array([c for c in Item.objects.filter(project=project).filter(eligible_q(schema))
                     .values_list("confidence", flat=True) if c is not None], dtype=np.float64)
    if project.auto_accept_threshold is not None:
        return threshold_check(project.auto_accept_threshold, audit_confidences=confidences, audit_correct=correct,
                               pool_confidences=pool, target=project.target_precision,
                               delta=project.precision_delta)
    return ltt_threshold(audit_confidences=confidences, audit_correct=correct, pool_confidences=pool,
                         target=project.target_precision, delta=project.precision_delta,
                         strict=project.strict_precision)


def live_statement(*, project: Project, schema: LabelSchema, calibration: ModelCalibration | None) -> dict:
    """The stored guarantee with the item counts as they are now (jobs may have decided new items at the
    threshold in force since the round): the statement never disagrees with the items."""
    if calibration is None or not calibration.precision or "needed" not in calibration.precision:
        return calibration.precision if calibration else {}
    fields = {k: calibration.precision[k] for k in Guarantee.__dataclass_fields__}
    eligible = Item.objects.filter(project=project).filter(eligible_q(schema))
    fields["eligible"] = eligible.count()
    fields["accepted"] = eligible.filter(state=Item.State.AUTO_ACCEPTED).count()
    return Guarantee(**fields).as_dict() | {"calibration": calibration.precision.get("calibration", "")}


def effective_model(project: Project, schema: LabelSchema) -> str:
    return effective_model_name(project.default_model,
                                active_head(project=project, base_model=project.default_model, schema=schema))
