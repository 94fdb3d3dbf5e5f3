"""Learning from people: calibration and the auto-accept threshold fitted on the random audit slice,
and what the project shows about them. The learning round itself is ``labeling.learning.rounds``.

The audit slice is a uniform random sample of the project. Items picked for review because the model
was unsure are biased toward hard cases; a temperature or threshold fitted on them misses its target,
so neither is ever fitted on them.
"""

from __future__ import annotations

import numpy as np
from django.db.models import Count, Q
from django.utils import timezone

from labeling.engine.calibration import apply_temperature, temperature_update
from labeling.engine.precision import fewest_to_certify, ltt_threshold
from labeling.inference.scoring import (
    HUMAN_SOURCES,
    active_head_version,
    effective_model_name,
)
from labeling.learning.rounds import live_statement, project_round
from labeling.models import Item, LearningRound, ModelCalibration
from projects.models import Project
from projects.selectors import schema_current

MIN_AUDIT_LABELS = 30  # below this the audit slice says too little to fit a threshold
FOLDS = 5
WAITING_STATES = (Item.State.PREDICTED, Item.State.NEEDS_REVIEW, Item.State.AUTO_ACCEPTED)


def calibration_fit(*, project: Project, model_name: str, audit_logits: np.ndarray, audit_labels: np.ndarray,
                    pool_logits: np.ndarray | None = None) -> ModelCalibration:
    """Refit the temperature on the audit slice's out-of-fold logits only if that beats the previous
    fit on held-out NLL, then choose the threshold for the project's target precision by Learn-then-Test
    on the same items; store both with how many items they were judged on."""
    calibration, _ = ModelCalibration.objects.get_or_create(project=project, model_name=model_name)
    decision = temperature_update(audit_logits, audit_labels, previous=calibration.temperature)
    if decision.fit is not None:
        fit = decision.fit
        calibration.temperature = fit.temperature
        calibration.ece_before, calibration.ece_after = fit.ece_before, fit.ece_after
        calibration.nll_before, calibration.nll_after = fit.nll_before, fit.nll_after
    calibration.fitted_on = len(audit_labels)
    probabilities = apply_temperature(audit_logits, calibration.temperature)
    confidences = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == audit_labels
    pool = None if pool_logits is None or not len(pool_logits) else apply_temperature(
        pool_logits, calibration.temperature).max(axis=1)
    guarantee = ltt_threshold(audit_confidences=confidences, audit_correct=correct, pool_confidences=pool,
                              target=project.target_precision, delta=project.precision_delta,
                              strict=project.strict_precision)
    calibration.threshold = guarantee.threshold if len(audit_labels) >= MIN_AUDIT_LABELS else None
    calibration.precision = guarantee.as_dict() | {"calibration": decision.reason}
    calibration.fitted_at = timezone.now()
    calibration.save()
    return calibration


def project_learn(*, project_id: int) -> dict:
    """The learning loop, run by a task when the project's human labels reach the cadence."""
    return project_round(project_id=project_id, trigger=LearningRound.Trigger.SCHEDULE)


def audit_needed(project: Project) -> int:
    """The fewest audited items with which the project's guarantee can certify a threshold: the
    prediction-powered test's ``PPI_MIN_AUDITED`` (70) where that is fewer than the binomial test's need
    (99 all correct at 97% / δ 5%), the binomial test's in strict mode or with a threshold set by hand."""
    return fewest_to_certify(project.target_precision, project.precision_delta,
                             strict=project.strict_precision or project.auto_accept_threshold is not None)


def audit_slice_counts(*, project: Project) -> dict:
    """The audit slice's size, how many of its items people labelled, how many must be (``audit_needed``)
    before anything is auto-accepted, and how many of those remain: what every page and report says."""
    audit = Item.objects.filter(project=project, in_audit_slice=True).aggregate(
        size=Count("id"), labelled=Count("id", filter=Q(final_source__in=HUMAN_SOURCES)))
    needed = audit_needed(project)
    return {"size": audit["size"], "labelled": audit["labelled"], "needed": needed,
            "remaining": max(needed - audit["labelled"], 0)}


def audit_progress(*, project: Project) -> dict:
    """What the job page says comes next: the audit slice's size, how many of its items people labelled
    and how many must be before anything is auto-accepted, and the precision statement once fitted
    (empty before the project has a schema and a model). The full calibration report is a report:
    ``analytics.selectors.calibration_report``."""
    schema = schema_current(project=project)
    if schema is None or not project.default_model:
        return {}
    name = effective_model_name(project.default_model, active_head_version(
        project=project, base_model=project.default_model, schema=schema))
    calibration = ModelCalibration.objects.filter(project=project, model_name=name).first()
    precision = live_statement(project=project, schema=schema, calibration=calibration)
    return {"precision": {"statement": precision.get("statement")}, "audit_slice": audit_slice_counts(project=project)}
