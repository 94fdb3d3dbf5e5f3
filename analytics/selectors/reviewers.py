"""Reviewer figures for a project and each reviewer: counts and rates, speed, agreement, gold accuracy.

A constant number of queries whatever the project's size: counts and medians are aggregated in the
database, and only the decisions on overlapped items (for agreement) come back to Python.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from itertools import chain

from django.db import connection
from django.db.models import Aggregate, Count, FloatField, Q, Subquery, Sum

from accounts.models import User
from analytics.metrics import krippendorff_alpha_nominal, pairwise_kappa
from analytics.selectors.quality import model_accuracy
from projects.models import Project
from review.models import ReviewDecision
from review.selectors import review_progress
from review.services import REJECTED as _REJECTED  # a rejection's answer when comparing reviewers


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
    overlapped = reviews.order_by().values("item_id").annotate(n=Count("item_id")).filter(n__gte=2).values("item_id")
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


SPEED_FORMULA = "items per hour = decisions × 3600 ÷ seconds spent on them (gold checks left out)"


def review_stats(*, project: Project, schema=None) -> dict:
    """``GET /api/review/stats``: the reviewer figures, the project's review progress and the model's
    accuracy against people."""
    figures = reviewer_figures(project=project)
    figures["project"] = {"id": project.pk, "items": review_progress(project=project), **figures["project"],
                          "model": model_accuracy(project=project, schema=schema)}
    return figures


def reviewer_figures(*, project: Project) -> dict:
    """Per project and per reviewer: reviewed count, approve/modify/reject rates, median seconds per
    item and items per hour, agreement and gold accuracy. Gold checks count only towards gold
    accuracy; undone decisions count nowhere."""
    live = ReviewDecision.objects.filter(project=project, undone_at__isnull=True)
    review = Q(is_gold=False)
    # Every column counted is in the review_live_figures index: an index-only scan per project.
    counts = {
        "reviewed": Count("decision", filter=review),
        "approve": Count("decision", filter=review & Q(decision=ReviewDecision.Decision.APPROVE)),
        "modify": Count("decision", filter=review & Q(decision=ReviewDecision.Decision.MODIFY)),
        "reject": Count("decision", filter=review & Q(decision=ReviewDecision.Decision.REJECT)),
        "adjudicated": Count("decision", filter=review & Q(is_adjudication=True)),
        "gold_answered": Count("decision", filter=Q(is_gold=True)),
        "gold_correct": Count("decision", filter=Q(is_gold=True, gold_correct=True)),
        "model_compared": Count("decision", filter=review & Q(agrees_with_model__isnull=False)),
        "model_agreed": Count("decision", filter=review & Q(agrees_with_model=True)),
        "seconds": Sum("seconds_spent", filter=review, default=0.0),
        "seconds_with_gold": Sum("seconds_spent", default=0.0),
    }
    on_postgres = connection.vendor == "postgresql"
    if on_postgres:
        counts["median_seconds"] = Median("seconds_spent", filter=review)
    # Grouped by the reviewer's id alone (an index-only aggregate); names come in a second, small query.
    rows = list(live.order_by().values("reviewer_id").annotate(**counts))
    people = {user["id"]: user for user in User.objects.filter(id__in=[row["reviewer_id"] for row in rows])
              .values("id", "email", "full_name")}
    for row in rows:
        row["reviewer__email"] = people[row["reviewer_id"]]["email"]
        row["reviewer__full_name"] = people[row["reviewer_id"]]["full_name"]
    rows.sort(key=lambda row: row["reviewer__email"])
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
            "seconds": row["seconds"],
            "items_per_hour": _rate(row["reviewed"] * 3600, row["seconds"]),
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
            **summary(totals),
            "median_seconds": project_median,
            "seconds_with_gold": totals["seconds_with_gold"],
            "agreement": agreement,
            "speed_formula": SPEED_FORMULA,
        },
        "reviewers": reviewers,
    }
