"""Review statistics for a project and each reviewer: counts and rates, time, agreement, gold, model accuracy.

A constant number of queries whatever the project's size: counts are aggregated in the database,
and only the decisions on overlapped items (for agreement) and the distinct (predicted, final)
label pairs (for model accuracy) come back to Python.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from itertools import chain, repeat

from django.db import connection
from django.db.models import Aggregate, Count, FloatField, Q, Subquery

from labeling.models import Item
from projects.models import Project
from projects.selectors import schema_current
from review.metrics import confusion, krippendorff_alpha_nominal, pairwise_kappa
from review.models import ReviewDecision
from review.selectors.queue import review_progress

REJECTED_CLASS = "(rejected)"  # the "truth" of items whose reviewers rejected the model's label
_REJECTED = "rejected"  # a rejection's answer when comparing reviewers (review.services.REJECTED)


class Median(Aggregate):
    """PostgreSQL's continuous median (the mean of the two middle values for an even count)."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _answer(decision: str, labels) -> object:
    return _REJECTED if decision == ReviewDecision.Decision.REJECT else tuple(sorted(labels))


def _agreement(project: Project) -> dict:
    """Cohen's kappa per reviewer pair and Krippendorff's alpha over items with two or more reviews."""
    reviews = ReviewDecision.objects.filter(project=project, undone_at__isnull=True, is_gold=False,
                                            is_adjudication=False)
    overlapped = reviews.order_by().values("item_id").annotate(n=Count("id")).filter(n__gte=2).values("item_id")
    ratings: dict[int, dict[int, object]] = defaultdict(dict)
    for item_id, reviewer_id, decision, labels in (
        reviews.filter(item_id__in=Subquery(overlapped)).values_list("item_id", "reviewer_id", "decision", "labels")
    ):
        ratings[item_id][reviewer_id] = _answer(decision, labels)
    pairs = pairwise_kappa(ratings)
    return {
        "items": len(ratings),
        "alpha": krippendorff_alpha_nominal(by_rater.values() for by_rater in ratings.values()),
        "pairs": [{"reviewers": [a, b], "kappa": value["kappa"], "items": value["items"]}
                  for (a, b), value in sorted(pairs.items())],
    }


def _expanded(rows: Iterable[tuple[object, object, int]]) -> Iterable[tuple[object, object]]:
    return chain.from_iterable(repeat((truth, predicted), n) for truth, predicted, n in rows)


def _model_accuracy(project: Project) -> dict:
    """The model's labels against people's final ones, on items settled in review.

    Single-label: accuracy, precision and recall per class and the confusion matrix
    (rows: the people's label, or ``(rejected)``; columns: the model's top label). Multi-label:
    exact-match accuracy and per-label precision and recall.
    """
    schema = schema_current(project=project)
    grouped = list(
        Item.objects.filter(project=project, state=Item.State.REVIEWED, final_source=Item.FinalSource.REVIEW,
                            predicted_labels__isnull=False)
        .order_by().values_list("predicted_labels", "final_labels").annotate(n=Count("id"))
    )
    categories = list(schema.categories.order_by("order", "id").values_list("path", flat=True)) if schema else []
    multi_label = bool(schema and schema.multi_label)
    if multi_label:
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
        }
    rows = []
    for model_labels, final_labels, n in grouped:
        if not model_labels:
            continue
        truth = final_labels[0] if final_labels else REJECTED_CLASS
        rows.append((truth, model_labels[0], n))
    seen = {label for truth, predicted, _ in rows for label in (truth, predicted)}
    classes = categories + sorted(seen - set(categories) - {REJECTED_CLASS})
    if REJECTED_CLASS in seen:
        classes.append(REJECTED_CLASS)
    result = confusion(_expanded(rows), classes)
    return {"multi_label": False, **result}


def review_stats(*, project: Project) -> dict:
    """Per project and per reviewer: reviewed count, approve/modify/reject rates, median seconds per
    item, agreement, gold accuracy and the model's accuracy against people. Gold checks count only
    towards gold accuracy; undone decisions count nowhere."""
    live = ReviewDecision.objects.filter(project=project, undone_at__isnull=True)
    review = Q(is_gold=False)
    counts = {
        "reviewed": Count("id", filter=review),
        "approve": Count("id", filter=review & Q(decision=ReviewDecision.Decision.APPROVE)),
        "modify": Count("id", filter=review & Q(decision=ReviewDecision.Decision.MODIFY)),
        "reject": Count("id", filter=review & Q(decision=ReviewDecision.Decision.REJECT)),
        "adjudicated": Count("id", filter=review & Q(is_adjudication=True)),
        "gold_answered": Count("id", filter=Q(is_gold=True)),
        "gold_correct": Count("id", filter=Q(is_gold=True, gold_correct=True)),
        "model_compared": Count("id", filter=review & Q(agrees_with_model__isnull=False)),
        "model_agreed": Count("id", filter=review & Q(agrees_with_model=True)),
    }
    on_postgres = connection.vendor == "postgresql"
    if on_postgres:
        counts["median_seconds"] = Median("seconds_spent", filter=review)
    rows = list(live.order_by().values("reviewer_id", "reviewer__email", "reviewer__full_name").annotate(**counts)
                .order_by("reviewer__email"))
    if on_postgres:
        project_median = live.filter(review).aggregate(m=Median("seconds_spent"))["m"]
    else:
        seconds: dict[int, list[float]] = defaultdict(list)
        for reviewer_id, spent in live.filter(review).values_list("reviewer_id", "seconds_spent"):
            seconds[reviewer_id].append(spent)
        for row in rows:
            values = seconds.get(row["reviewer_id"])
            row["median_seconds"] = statistics.median(values) if values else None
        project_median = statistics.median(chain.from_iterable(seconds.values())) if seconds else None

    agreement = _agreement(project)
    kappas: dict[int, list[float]] = defaultdict(list)
    for pair in agreement["pairs"]:
        if pair["kappa"] is not None:
            for reviewer_id in pair["reviewers"]:
                kappas[reviewer_id].append(pair["kappa"])
    emails = {row["reviewer_id"]: row["reviewer__email"] for row in rows}
    for pair in agreement["pairs"]:
        pair["emails"] = [emails.get(r) for r in pair["reviewers"]]

    def summary(row: dict) -> dict:
        return {
            "reviewed": row["reviewed"],
            "approve": row["approve"], "modify": row["modify"], "reject": row["reject"],
            "approve_rate": _rate(row["approve"], row["reviewed"]),
            "modify_rate": _rate(row["modify"], row["reviewed"]),
            "reject_rate": _rate(row["reject"], row["reviewed"]),
            "adjudicated": row["adjudicated"],
            "gold": {"answered": row["gold_answered"], "correct": row["gold_correct"],
                     "accuracy": _rate(row["gold_correct"], row["gold_answered"])},
            "model_agreement": _rate(row["model_agreed"], row["model_compared"]),
        }

    reviewers = []
    for row in rows:
        mine = kappas.get(row["reviewer_id"], [])
        reviewers.append({
            "id": row["reviewer_id"], "email": row["reviewer__email"], "name": row["reviewer__full_name"],
            **summary(row), "median_seconds": row["median_seconds"],
            "kappa_mean": sum(mine) / len(mine) if mine else None,
        })
    totals = {key: sum(row[key] for row in rows) for key in counts if key != "median_seconds"}
    return {
        "project": {
            "id": project.pk,
            "items": review_progress(project=project),
            **summary(totals),
            "median_seconds": project_median,
            "agreement": agreement,
            "model": _model_accuracy(project),
        },
        "reviewers": reviewers,
    }
