"""Learning from people: calibration and the auto-accept threshold fitted on the random audit slice,
few-shot heads trained on human labels (a version is promoted only if it beats the active model on
held-out items), and re-scoring the items still waiting.

The audit slice is a uniform random sample of the project. Items picked for review because the model
was unsure are biased toward hard cases; a temperature or threshold fitted on them misses its target,
so neither is ever fitted on them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from celery import current_app
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from labeling import task_names
from labeling.engine import FewShotHead, enough_labels, fit_temperature, model_spec
from labeling.engine.calibration import apply_temperature
from labeling.engine.precision import choose_threshold
from labeling.inference.jobs import audit_slice_ensure, predictions_write
from labeling.inference.scoring import (
    HUMAN_SOURCES,
    ProjectScorer,
    active_head,
    effective_model_name,
    human_labelled,
    stored_embeddings,
)
from labeling.models import HeadVersion, Item, Job, ModelCalibration, Prediction
from projects.models import LabelSchema, Project
from projects.selectors import schema_current

MIN_AUDIT_LABELS = 30  # below this the audit slice says too little to fit a threshold
FOLDS = 5
WAITING_STATES = (Item.State.PREDICTED, Item.State.NEEDS_REVIEW, Item.State.AUTO_ACCEPTED)


def _stored_logits(item_ids, model_name: str) -> dict[int, np.ndarray]:
    """Each item's latest logits from ``model_name`` (predictions made before a person labelled it)."""
    latest = (Prediction.objects.filter(item_id__in=list(item_ids), model_name=model_name)
              .values("item_id").annotate(last=Max("id")).values_list("last", flat=True))
    return {item_id: np.asarray(logits, dtype=np.float64)
            for item_id, logits in Prediction.objects.filter(id__in=list(latest)).values_list("item_id", "logits")
            if logits}


def _out_of_fold_logits(x: np.ndarray, y: np.ndarray, n_categories: int, seed: int = 0) -> np.ndarray | None:
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
        head = FewShotHead(n_categories).fit(x[train], y[train])
        out[test] = head.decision_function(x[test])
    return out


def calibration_fit(*, project: Project, model_name: str, audit_logits: np.ndarray, audit_labels: np.ndarray,
                    pool_logits: np.ndarray | None = None) -> ModelCalibration:
    """Fit the temperature on the audit slice's logits and choose the threshold for the project's
    target precision on the same items; store both with how many items they were fitted on."""
    calibration, _ = ModelCalibration.objects.get_or_create(project=project, model_name=model_name)
    fit = fit_temperature(audit_logits, audit_labels)
    probabilities = apply_temperature(audit_logits, fit.temperature)
    confidences = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == audit_labels
    pool = None if pool_logits is None or not len(pool_logits) else apply_temperature(
        pool_logits, fit.temperature).max(axis=1)
    choice = choose_threshold(audit_confidences=confidences, audit_correct=correct, target=project.target_precision,
                              pool_confidences=pool, strict=project.strict_precision)
    calibration.temperature = fit.temperature
    calibration.fitted_on = fit.n_items
    calibration.ece_before, calibration.ece_after = fit.ece_before, fit.ece_after
    calibration.nll_before, calibration.nll_after = fit.nll_before, fit.nll_after
    calibration.threshold = choice.threshold if len(audit_labels) >= MIN_AUDIT_LABELS else None
    calibration.precision = choice.as_dict()
    calibration.fitted_at = timezone.now()
    calibration.save()
    return calibration


@dataclass
class HeadCandidate:
    """A trained head's stored version, and the out-of-fold logits it was judged (and is calibrated) on."""

    version: HeadVersion
    oof_logits: np.ndarray
    labels: np.ndarray
    audit: np.ndarray


def _train_head(project, schema, base_model, paths, ids, labels, audit) -> HeadCandidate | None:
    """Train a candidate head; promote it if it beats the active model on the held-out audit items."""
    vectors = stored_embeddings(ids, base_model)
    keep = np.array([i in vectors for i in ids], dtype=bool)
    ids, labels, audit = ids[keep], labels[keep], audit[keep]
    if not enough_labels(labels.tolist()):
        return None
    x = np.stack([vectors[i] for i in ids])
    oof = _out_of_fold_logits(x, labels, len(paths))
    if oof is None:
        return None
    evaluate = audit if audit.sum() >= 10 else np.ones_like(audit)
    candidate_accuracy = float((oof[evaluate].argmax(axis=1) == labels[evaluate]).mean())
    current = active_head(project=project, base_model=base_model, schema=schema)
    if current is not None:
        # The active head was trained on these items: its own out-of-fold accuracy is the fair bar.
        baseline = current.heldout_accuracy or 0.0
    else:
        # The base model predicted these items before anyone labelled them: a genuine held-out score.
        stored = _stored_logits(ids[evaluate], base_model)
        hits = [int(np.argmax(stored[i])) == y for i, y in zip(ids[evaluate], labels[evaluate], strict=True)
                if i in stored]
        baseline = float(np.mean(hits)) if hits else 0.0
    head = FewShotHead(len(paths)).fit(x, labels)
    version = (HeadVersion.objects.filter(project=project).aggregate(v=Max("version"))["v"] or 0) + 1
    promoted = candidate_accuracy > baseline
    with transaction.atomic():
        if promoted:
            HeadVersion.objects.filter(project=project, is_active=True).update(is_active=False)
        record = HeadVersion.objects.create(
            project=project, base_model=base_model, version=version, schema=schema, head=head.to_bytes(),
            classes=paths, trained_on=len(labels), evaluated_on=int(evaluate.sum()),
            heldout_accuracy=candidate_accuracy, baseline_accuracy=baseline, is_active=promoted,
        )
    return HeadCandidate(version=record, oof_logits=oof, labels=labels, audit=audit)


def project_learn(*, project_id: int) -> dict:
    """The learning loop, run by a task after every ``learn_every`` new human labels."""
    project = Project.objects.select_related("organization").filter(pk=project_id).first()
    schema = schema_current(project=project) if project else None
    if project is None or schema is None or not project.default_model:
        return {"skipped": "no project or schema"}
    base_model = project.default_model
    paths, ids, labels, audit = human_labelled(project, schema)
    summary: dict = {"labelled": int(len(ids)), "audited": int(audit.sum())}
    spec = model_spec(base_model)
    head = None
    if spec.embedding_dim is not None and not schema.multi_label:
        head = _train_head(project, schema, base_model, paths, ids, labels, audit)
        if head is not None:
            summary.update(head_version=head.version.version, promoted=head.version.is_active,
                           heldout_accuracy=head.version.heldout_accuracy,
                           baseline_accuracy=head.version.baseline_accuracy)
    if schema.multi_label:
        return summary
    scorer = ProjectScorer(project=project, schema=schema, base_model=base_model)
    if head is not None and head.version.is_active:
        audit_logits, audit_labels = head.oof_logits[head.audit], head.labels[head.audit]
    else:
        stored = _stored_logits(ids[audit], scorer.model_name)
        keep = [k for k, i in enumerate(ids[audit]) if i in stored]
        audit_logits = np.array([stored[ids[audit][k]] for k in keep]).reshape(len(keep), len(paths))
        audit_labels = labels[audit][keep]
    if len(audit_labels) >= 2:
        calibration = calibration_fit(project=project, model_name=scorer.model_name, audit_logits=audit_logits,
                                      audit_labels=audit_labels)
        summary.update(temperature=calibration.temperature, threshold=calibration.threshold,
                       ece_before=calibration.ece_before, ece_after=calibration.ece_after)
    if head is not None and head.version.is_active:
        summary["audit_added"] = audit_slice_ensure(project=project, model_changed=True)
        summary["rescored"] = waiting_rescore(project=project, schema=schema, base_model=base_model)
    if spec.embedding_dim is not None:  # the new head may see label mistakes the old one did not
        transaction.on_commit(lambda: current_app.send_task(task_names.INFERENCE_LABEL_ISSUES, args=[project.pk]))
    return summary


def waiting_rescore(*, project: Project, schema: LabelSchema, base_model: str, batch: int = 2000) -> int:
    """Fresh predictions from the active head for every item still waiting for a person (or
    auto-accepted), from stored embeddings: no forward pass. Recorded as a re-score job."""
    scorer = ProjectScorer(project=project, schema=schema, base_model=base_model)
    if scorer.head is None:
        return 0
    waiting = (Item.objects.filter(project=project, state__in=WAITING_STATES)
               .exclude(final_source__in=HUMAN_SOURCES).order_by("id"))
    total = waiting.count()
    job = Job.objects.create(project=project, kind=Job.Kind.RESCORE, model_name=base_model, schema=schema,
                             total=total, status=Job.Status.RUNNING, started_at=timezone.now())
    done = 0
    ids = list(waiting.values_list("id", flat=True))
    for start in range(0, len(ids), batch):
        part = ids[start:start + batch]
        vectors = stored_embeddings(part, base_model)
        items = list(Item.objects.filter(pk__in=[i for i in part if i in vectors]).only("id").order_by("id"))
        if not items:
            continue
        scored = scorer.score_embeddings(np.stack([vectors[i.id] for i in items]))
        predictions_write(job=job, scorer=scorer, items=items, scored=scored)
        done += len(items)
    Job.objects.filter(pk=job.pk).update(total=done, status=Job.Status.SUCCEEDED, finished_at=timezone.now())
    return done


def audit_progress(*, project: Project) -> dict:
    """What the job page says comes next: the audit slice's size, how many of its items people labelled
    and how many must be before anything is auto-accepted, and the precision statement once fitted
    (empty before the project has a schema and a model). The full calibration report is a report:
    ``analytics.selectors.calibration_report``."""
    schema = schema_current(project=project)
    if schema is None or not project.default_model:
        return {}
    name = effective_model_name(project.default_model,
                                active_head(project=project, base_model=project.default_model, schema=schema))
    precision = ModelCalibration.objects.filter(project=project, model_name=name).values_list(
        "precision", flat=True).first() or {}
    audit = Item.objects.filter(project=project, in_audit_slice=True).aggregate(
        size=Count("id"), labelled=Count("id", filter=Q(final_source__in=HUMAN_SOURCES)))
    return {"precision": {"statement": precision.get("statement")},
            "audit_slice": {"size": audit["size"], "labelled": audit["labelled"], "needed": MIN_AUDIT_LABELS}}
