"""Reviewer figures for a project and each reviewer: counts and rates, speed, agreement, gold accuracy.

A constant number of queries whatever the project's size. On PostgreSQL the counts, seconds and
medians come from the trigger-kept ``ReviewCount`` and ``ReviewSeconds`` (rows per reviewer and day,
not per decision; see ``analytics.counters``), and agreement from ``ReviewAgreement`` (pairs of
answers per reviewer pair). Elsewhere (SQLite) the same figures are aggregated from the decisions.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from itertools import chain

from django.db import connection
from django.db.models import Aggregate, Count, FloatField, Q, Subquery, Sum

from accounts.models import User
from analytics import counters
from analytics.metrics import (
    cohens_kappa_from_table,
    krippendorff_alpha_from_pairs,
    krippendorff_alpha_nominal,
    pairwise_kappa,
)
from analytics.models import ReviewAgreement, ReviewCount, ReviewSeconds
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
    if counters.enabled():
        return _agreement_counted(project)
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


def _kept_answer(text: str | None) -> object:
    return _REJECTED if text is None else tuple(json.loads(text))


def _agreement_counted(project: Project) -> dict:
    """``_agreement`` from the trigger-kept ``ReviewAgreement`` pairs (one row per reviewer pair, answers and
    raters: no decision is read)."""
    rows = [(a, b, _kept_answer(x), _kept_answer(y), m, n) for a, b, x, y, m, n in (
        ReviewAgreement.objects.filter(project_id=project.pk).order_by()
        .values_list("reviewer_a", "reviewer_b", "answer_a", "answer_b", "raters").annotate(total=Sum("n"))
        .filter(total__gt=0))]
    tables: dict[tuple[int, int], dict] = defaultdict(lambda: defaultdict(int))
    pairs_per_raters: dict[int, int] = defaultdict(int)
    for a, b, x, y, m, n in rows:
        tables[(a, b)][(x, y)] += n
        pairs_per_raters[m] += n
    return {
        # an item with m raters gave m × (m − 1) ÷ 2 pairs
        "items": sum(n // (m * (m - 1) // 2) for m, n in pairs_per_raters.items()),
        "alpha": krippendorff_alpha_from_pairs((x, y, m, n) for _, _, x, y, m, n in rows),
        "pairs": [{"reviewers": [a, b], "kappa": cohens_kappa_from_table(table), "items": sum(table.values())}
                  for (a, b), table in sorted(tables.items())],
    }


def _median(histogram: list[tuple[float, int]]) -> float | None:
    """The median of values given as (value, how many) in ascending order: the mean of the two middle
    values for an even count, as PERCENTILE_CONT(0.5)."""
    total = sum(n for _, n in histogram)
    if not total:
        return None
    low, high = (total - 1) // 2, total // 2
    below, found = 0, {}
    for value, n in histogram:
        for position in (low, high):
            if below <= position < below + n:
                found[position] = value
        below += n
        if high in found:
            break
    return (found[low] + found[high]) / 2


def _medians_counted(project: Project) -> tuple[dict[int, float | None], float | None]:
    """Median seconds per reviewer and for the project, from the ``ReviewSeconds`` histogram."""
    per_reviewer: dict[int, list[tuple[float, int]]] = defaultdict(list)
    overall: dict[float, int] = defaultdict(int)
    for reviewer_id, seconds, n in (ReviewSeconds.objects.filter(project_id=project.pk).order_by()
                                    .values_list("reviewer_id", "seconds").annotate(total=Sum("n"))
                                    .filter(total__gt=0).order_by("seconds")):
        per_reviewer[reviewer_id].append((seconds, n))
        overall[seconds] += n
    return ({reviewer_id: _median(values) for reviewer_id, values in per_reviewer.items()},
            _median(sorted(overall.items())))


def _rows_counted(project: Project, counts: dict[str, Q]) -> list[dict]:
    """Per reviewer: each count (the ``n`` of the groups matching its filter) and the seconds, from ``ReviewCount``."""
    sums = {key: Sum("n", filter=condition, default=0) for key, condition in counts.items()}
    rows = list(ReviewCount.objects.filter(project_id=project.pk).order_by().values("reviewer_id")
                .annotate(**sums, review_seconds=Sum("seconds", filter=Q(is_gold=False), default=0),
                          all_seconds=Sum("seconds", default=0), live=Sum("n"))
                .filter(live__gt=0))
    for row in rows:
        row["seconds"], row["seconds_with_gold"] = float(row.pop("review_seconds")), float(row.pop("all_seconds"))
        del row["live"]
    return rows


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
    review = Q(is_gold=False)
    conditions = {
        "reviewed": review,
        "approve": review & Q(decision=ReviewDecision.Decision.APPROVE),
        "modify": review & Q(decision=ReviewDecision.Decision.MODIFY),
        "reject": review & Q(decision=ReviewDecision.Decision.REJECT),
        "adjudicated": review & Q(is_adjudication=True),
        "gold_answered": Q(is_gold=True),
        "gold_correct": Q(is_gold=True, gold_correct=True),
        "model_compared": review & Q(agrees_with_model__isnull=False),
        "model_agreed": review & Q(agrees_with_model=True),
    }
    if counters.enabled():
        rows = _rows_counted(project, conditions)
        medians, project_median = _medians_counted(project)
        for row in rows:
            row["median_seconds"] = medians.get(row["reviewer_id"])
    else:
        rows, project_median = _rows_from_decisions(project, conditions)
    # Names come in a second, small query.
    people = {user["id"]: user for user in User.objects.filter(id__in=[row["reviewer_id"] for row in rows])
              .values("id", "email", "full_name")}
    for row in rows:
        row["reviewer__email"] = people[row["reviewer_id"]]["email"]
        row["reviewer__full_name"] = people[row["reviewer_id"]]["full_name"]
    rows.sort(key=lambda row: row["reviewer__email"])
    counts = [*conditions, "seconds", "seconds_with_gold"]

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
    totals = {key: sum(row[key] for row in rows) for key in counts}
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


def _rows_from_decisions(project: Project, conditions: dict[str, Q]) -> tuple[list[dict], float | None]:
    """``reviewer_figures``' rows and the project's median aggregated from the live decisions themselves
    (where the counters are not kept: SQLite)."""
    live = ReviewDecision.objects.filter(project=project, undone_at__isnull=True)
    review = Q(is_gold=False)
    counts: dict = {key: Count("decision", filter=condition) for key, condition in conditions.items()}
    counts["seconds"] = Sum("seconds_spent", filter=review, default=0.0)
    counts["seconds_with_gold"] = Sum("seconds_spent", default=0.0)
    on_postgres = connection.vendor == "postgresql"
    if on_postgres:
        counts["median_seconds"] = Median("seconds_spent", filter=review)
    rows = list(live.order_by().values("reviewer_id").annotate(**counts))
    if on_postgres:
        return rows, live.filter(review).aggregate(m=Median("seconds_spent"))["m"]
    seconds: dict[int, list[float]] = defaultdict(list)
    for reviewer_id, spent in live.filter(review).values_list("reviewer_id", "seconds_spent"):
        seconds[reviewer_id].append(spent)
    for row in rows:
        values = seconds.get(row["reviewer_id"])
        row["median_seconds"] = statistics.median(values) if values else None
    return rows, statistics.median(chain.from_iterable(seconds.values())) if seconds else None
