"""A person's own figures: their decisions per day and per project, speed, gold accuracy, what waits for them."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import Membership
from analytics import counters
from analytics.models import ReviewCount
from analytics.selectors.progress import day_start
from projects.models import Project, ProjectAssignment
from projects.permissions import effective_project_role
from review.models import ReviewDecision

USER_DAYS = 14


def _rate(part, whole):
    return part / whole if whole else None


def user_projects(*, user) -> list[Project]:
    """The active projects of every organization the user belongs to, each with ``caller_role``."""
    roles = dict(Membership.objects.filter(user=user).values_list("organization_id", "role"))
    assigned = dict(ProjectAssignment.objects.filter(user=user).values_list("project_id", "role"))
    projects = list(Project.objects.filter(organization_id__in=list(roles), status=Project.Status.ACTIVE)
                    .select_related("organization").order_by("organization_id", "name"))
    for project in projects:
        project.caller_role = effective_project_role(organization_role=roles[project.organization_id],
                                                     assigned_role=assigned.get(project.pk))
    return projects


def user_dashboard(*, user, today: date | None = None, days: int = USER_DAYS) -> dict:
    """The caller's review decisions (live ones; gold checks apart): totals, per day over ``days`` days,
    per project, their speed and gold accuracy, in the projects they can still see."""
    today = today or timezone.localdate()
    first = today - timedelta(days=days - 1)
    projects = user_projects(user=user)
    visible = [p.pk for p in projects]
    if counters.enabled():
        totals, per_day, per_project = _figures_counted(user=user, projects=visible, first=first)
    else:
        totals, per_day, per_project = _figures_from_decisions(user=user, projects=visible, first=first)
    return {
        "user": {"id": user.pk, "email": user.email, "name": user.full_name},
        "reviewed": totals["reviewed"],
        "reviewed_today": per_day.get(today, 0),
        "seconds": totals["seconds"],
        "items_per_hour": _rate(totals["reviewed"] * 3600, totals["seconds"]),
        "gold": {"answered": totals["gold_answered"], "correct": totals["gold_correct"],
                 "accuracy": _rate(totals["gold_correct"], totals["gold_answered"])},
        "model_agreement": _rate(totals["model_agreed"], totals["model_compared"]),
        "days": [{"day": first + timedelta(days=n), "reviewed": per_day.get(first + timedelta(days=n), 0)}
                 for n in range(days)],
        "projects": [{"id": p.pk, "name": p.name, "organization": p.organization.name, "role": p.caller_role,
                      "reviewed": per_project.get(p.pk, {}).get("reviewed", 0),
                      "seconds": per_project.get(p.pk, {}).get("seconds", 0.0)} for p in projects],
    }


def _figures_counted(*, user, projects: list[int], first: date) -> tuple[dict, dict, dict]:
    """``user_dashboard``'s totals, reviews per day and per project from the trigger-kept ``ReviewCount``."""
    mine = ReviewCount.objects.filter(reviewer_id=user.pk, project_id__in=projects)
    review = Q(is_gold=False)
    totals = mine.aggregate(
        reviewed=Sum("n", filter=review, default=0),
        review_seconds=Sum("seconds", filter=review, default=0),
        gold_answered=Sum("n", filter=Q(is_gold=True), default=0),
        gold_correct=Sum("n", filter=Q(is_gold=True, gold_correct=True), default=0),
        model_compared=Sum("n", filter=review & Q(agrees_with_model__isnull=False), default=0),
        model_agreed=Sum("n", filter=review & Q(agrees_with_model=True), default=0),
    )
    totals["seconds"] = float(totals.pop("review_seconds"))
    per_day = dict(mine.filter(review, day__gte=first).order_by().values_list("day").annotate(n=Sum("n")))
    per_project = {row["project_id"]: {"reviewed": row["reviewed"], "seconds": float(row["spent"])}
                   for row in mine.filter(review).order_by().values("project_id")
                   .annotate(reviewed=Sum("n"), spent=Sum("seconds")).filter(reviewed__gt=0)}
    return totals, per_day, per_project


def _figures_from_decisions(*, user, projects: list[int], first: date) -> tuple[dict, dict, dict]:
    """The same figures aggregated from the caller's live decisions (where the counters are not kept)."""
    mine = ReviewDecision.objects.filter(reviewer=user, undone_at__isnull=True, project_id__in=projects)
    review = Q(is_gold=False)
    totals = mine.aggregate(
        reviewed=Count("id", filter=review),
        seconds=Sum("seconds_spent", filter=review, default=0.0),
        gold_answered=Count("id", filter=Q(is_gold=True)),
        gold_correct=Count("id", filter=Q(is_gold=True, gold_correct=True)),
        model_compared=Count("id", filter=review & Q(agrees_with_model__isnull=False)),
        model_agreed=Count("id", filter=review & Q(agrees_with_model=True)),
    )
    per_day = dict(mine.filter(review, created_at__gte=day_start(first)).annotate(day=TruncDate("created_at"))
                   .order_by().values_list("day").annotate(n=Count("id")))
    per_project = {row["project_id"]: row for row in mine.filter(review).order_by().values("project_id").annotate(
        reviewed=Count("id"), seconds=Sum("seconds_spent", default=0.0))}
    return totals, per_day, per_project
