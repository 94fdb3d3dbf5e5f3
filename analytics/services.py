"""Writes of the analytics app: the daily statistics rows (history for the dashboards) and the compaction
of the trigger-kept item counts."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from analytics import counters
from analytics.models import ItemCount, ProjectDailyStats
from analytics.selectors.progress import DONE_STATES, day_start
from labeling.models import Item
from projects.models import Project
from review.models import ReviewDecision

STATE_FIELDS = tuple(Item.State.values)
DECIDED_FIELDS = ("decided_auto", "decided_human", "reviews", "review_seconds")


def _states_now() -> dict[int, dict[str, int]]:
    """Items per state of every project, now (from the item counts on PostgreSQL: no scan of the items)."""
    if counters.enabled():
        rows = ItemCount.objects.order_by().values_list("project_id", "state").annotate(n=Sum("n"))
    else:
        rows = Item.objects.order_by().values_list("project_id", "state").annotate(n=Count("id"))
    states: dict[int, dict[str, int]] = {}
    for project_id, state, n in rows:
        states.setdefault(project_id, dict.fromkeys(STATE_FIELDS, 0))[state] = n
    return states


def _decided(project_id: int, first: date) -> dict[date, dict]:
    """Per day since ``first``: items decided (by the model, by people) and review decisions with their seconds.
    Two aggregate queries on the ``(project, decided_at)`` and ``(project, created_at)`` indexes."""
    per_day: dict[date, dict] = {}
    decided = (Item.objects.filter(project_id=project_id, decided_at__gte=day_start(first), state__in=DONE_STATES)
               .annotate(day=TruncDate("decided_at")).order_by().values("day")
               .annotate(auto=Count("id", filter=Q(final_source=Item.FinalSource.AUTO)),
                         human=Count("id", filter=~Q(final_source=Item.FinalSource.AUTO))))
    for row in decided:
        per_day.setdefault(row["day"], {})
        per_day[row["day"]].update(decided_auto=row["auto"], decided_human=row["human"])
    reviews = (ReviewDecision.objects.filter(project_id=project_id, created_at__gte=day_start(first),
                                             undone_at__isnull=True, is_gold=False)
               .annotate(day=TruncDate("created_at")).order_by().values("day")
               .annotate(n=Count("id"), seconds=Sum("seconds_spent")))
    for row in reviews:
        per_day.setdefault(row["day"], {})
        per_day[row["day"]].update(reviews=row["n"], review_seconds=row["seconds"] or 0.0)
    return per_day


@transaction.atomic
def daily_stats_record(*, today: date | None = None) -> int:
    """Write today's row of every project (items per state now, what was decided today) and bring
    yesterday's decided counts up to date (its states stay as last recorded before midnight).
    Safe to run any number of times: rows are upserted. Returns the rows written."""
    today = today or timezone.localdate()
    yesterday = today - timedelta(days=1)
    states = _states_now()
    written = 0
    for project_id in Project.objects.order_by("id").values_list("id", flat=True):
        per_day = _decided(project_id, yesterday)
        counts = states.get(project_id, dict.fromkeys(STATE_FIELDS, 0))
        figures = {field: 0 for field in DECIDED_FIELDS} | per_day.get(today, {})
        ProjectDailyStats.objects.update_or_create(
            project_id=project_id, day=today,
            defaults={**counts, "total": sum(counts.values()), **figures})
        earlier = {field: 0 for field in DECIDED_FIELDS} | per_day.get(yesterday, {})
        ProjectDailyStats.objects.filter(project_id=project_id, day=yesterday).update(**earlier)
        written += 1
    return written


def stats_housekeeping() -> dict:
    """The periodic job: record the daily statistics, then compact the item counts."""
    return {"projects": daily_stats_record(), "count_rows": counters.counts_compact()}
