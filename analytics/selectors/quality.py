"""How good the model is: its labels against people's, per class with the confusion matrix, and calibration.

Every figure is one aggregate query: items are grouped in the database by (model label, people's
label) or by confidence bin, and only the groups come back to Python.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Avg, Count, F, IntegerField, Q, Value
from django.db.models.functions import Cast, Ceil, Greatest, Least

from analytics.metrics import OTHER_CLASSES, confusion
from analytics.selectors.progress import item_groups
from labeling.inference.scoring import HUMAN_SOURCES, active_head_version, effective_model_name
from labeling.learning.calibration import audit_slice_counts
from labeling.learning.rounds import live_statement
from labeling.models import Item, ModelCalibration
from projects.models import LabelSchema, Project
from projects.selectors import schema_category_paths, schema_current

REJECTED_CLASS = "(rejected)"  # the "truth" of items whose reviewers rejected the model's label
MATRIX_MAX_CLASSES = 20  # the matrix shows the most frequent classes; the rest fold into "(other)"
RELIABILITY_BINS = 15  # as labeling.engine.calibration.ECE_BINS: bin b holds confidences in ((b-1)/15, b/15]

ACCURACY_FORMULA = "accuracy = items where the model's top label equals the people's ÷ items settled in review"
ECE_FORMULA = "ECE = Σ over bins (items in bin ÷ items) × |accuracy in bin − mean confidence in bin|"


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _categories(schema: LabelSchema | None) -> list[str]:
    return schema_category_paths(schema=schema)


def model_accuracy(*, project: Project, schema: LabelSchema | None = None,
                   max_classes: int | None = MATRIX_MAX_CLASSES, groups: list[tuple] | None = None) -> dict:
    """The model's labels against people's final ones, on items settled in review.

    Single-label: accuracy, precision and recall per class and the confusion matrix (rows: the
    people's label, or ``(rejected)``; columns: the model's top label), at most ``max_classes``
    classes plus ``(other)``. Multi-label: exact-match accuracy and per-label precision and recall.
    """
    schema = schema if schema is not None else schema_current(project=project)
    groups = item_groups(project=project) if groups is None else groups
    grouped = [(model_labels, final_labels, n) for state, source, final_labels, model_labels, n in groups
               if state == Item.State.REVIEWED and source == Item.FinalSource.REVIEW and model_labels is not None]
    categories = _categories(schema)
    if schema is not None and schema.multi_label:
        return _multi_label_accuracy(grouped, categories)
    rows = [(final_labels[0] if final_labels else REJECTED_CLASS, model_labels[0], n)
            for model_labels, final_labels, n in grouped if model_labels]
    seen = {label for truth, predicted, _ in rows for label in (truth, predicted)}
    classes = categories + sorted(seen - set(categories) - {REJECTED_CLASS})
    if REJECTED_CLASS in seen:
        classes.append(REJECTED_CLASS)
    return {"multi_label": False, **confusion(rows, classes, max_classes=max_classes), "formula": ACCURACY_FORMULA}


def _multi_label_accuracy(grouped, categories: list[str]) -> dict:
    tp: dict[str, int] = defaultdict(int)
    predicted: dict[str, int] = defaultdict(int)
    actual: dict[str, int] = defaultdict(int)
    exact = total = 0
    for model_labels, final_labels, n in grouped:
        model, people = set(model_labels or []), set(final_labels or [])
        total += n
        exact += n if model == people else 0
        for label in model:
            predicted[label] += n
            tp[label] += n if label in people else 0
        for label in people:
            actual[label] += n
    labels = categories + sorted((set(predicted) | set(actual)) - set(categories))
    return {
        "multi_label": True,
        "count": total,
        "accuracy": _rate(exact, total),
        "per_label": {label: {"precision": _rate(tp[label], predicted[label]),
                              "recall": _rate(tp[label], actual[label]), "support": actual[label]}
                      for label in labels},
        "formula": "accuracy = items whose model label set equals the people's ÷ items settled in review",
    }


def reliability(*, project: Project, bins: int = RELIABILITY_BINS) -> dict:
    """The reliability diagram of the stored (calibrated) confidences on the audit slice's human-labelled
    items, and the ECE it gives. The audit slice is a uniform sample, so the figure is unbiased."""
    bin_expr = Greatest(Least(Cast(Ceil(F("confidence") * bins), IntegerField()) - 1, Value(bins - 1)), Value(0))
    rows = (
        Item.objects.filter(project=project, in_audit_slice=True, final_source__in=HUMAN_SOURCES,
                            confidence__isnull=False, predicted_labels__isnull=False)
        .order_by().annotate(bin=bin_expr).values("bin")
        .annotate(n=Count("id"), confidence=Avg("confidence"),
                  correct=Count("id", filter=Q(predicted_labels=F("final_labels"))))
        .order_by("bin")
    )
    out = []
    total = sum(row["n"] for row in rows)
    ece = 0.0
    for row in rows:
        accuracy = row["correct"] / row["n"]
        ece += row["n"] / total * abs(accuracy - row["confidence"])
        out.append({"bin": row["bin"], "lower": row["bin"] / bins, "upper": (row["bin"] + 1) / bins,
                    "items": row["n"], "correct": row["correct"], "accuracy": accuracy,
                    "confidence": row["confidence"]})
    return {"items": total, "bins": out, "ece": ece if total else None, "formula": ECE_FORMULA}


def calibration_report(*, project: Project, schema: LabelSchema | None = None) -> dict:
    """What the project shows about its model: temperature, ECE before and after the fit, the threshold
    and the precision statement; every field, with its empty value before a schema and a model exist."""
    schema = schema if schema is not None else schema_current(project=project)
    head = None
    if schema is not None and project.default_model:
        head = active_head_version(project=project, base_model=project.default_model, schema=schema)
    name = effective_model_name(project.default_model, head)
    calibration = ModelCalibration.objects.filter(project=project, model_name=name).first()
    return {
        "model": name,
        "head_version": head,
        "temperature": calibration.temperature if calibration else 1.0,
        "fitted_on": calibration.fitted_on if calibration else 0,
        "ece_before": calibration.ece_before if calibration else None,
        "ece_after": calibration.ece_after if calibration else None,
        "threshold": (project.auto_accept_threshold if project.auto_accept_threshold is not None
                      else (calibration.threshold if calibration else None)),
        "threshold_source": "manual" if project.auto_accept_threshold is not None else "audit slice",
        "audit_slice": audit_slice_counts(project=project),
        # the stored guarantee with the item counts as they are now: it never disagrees with the items
        "precision": live_statement(project=project, schema=schema, calibration=calibration),
    }


def quality_metrics(*, project: Project) -> dict:
    """Model accuracy against people (overall, per class, confusion matrix) and calibration."""
    schema = schema_current(project=project)
    return {
        "project": project.pk,
        "model": model_accuracy(project=project, schema=schema),
        "calibration": calibration_report(project=project, schema=schema),
        "reliability": reliability(project=project),
    }


__all__ = ["MATRIX_MAX_CLASSES", "OTHER_CLASSES", "REJECTED_CLASS", "calibration_report", "model_accuracy",
           "quality_metrics", "reliability"]
