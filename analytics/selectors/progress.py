"""How far a project is: items per state now and over time, throughput per day, and when it will finish.

Now is aggregated live (one GROUP BY over the project's items); the past comes from
``ProjectDailyStats`` (written by ``analytics.tasks.daily_stats_record``), and today is counted live
from the ``(project, decided_at)`` index, so the cost does not grow with the project's history.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta

from django.db.models import Case, Count, F, JSONField, Q, Sum, When
from django.utils import timezone

from analytics import counters
from analytics.models import ItemCount, ProjectDailyStats
from labeling.models import Item
from projects.models import LabelSchema, Project
from projects.selectors import schema_current

DONE_STATES = (Item.State.AUTO_ACCEPTED, Item.State.REVIEWED)
PACE_DAYS = 7  # the pace behind the ETA: items decided per day over the last week, today included
HISTORY_DAYS = 30

AUTO_ACCEPT_FORMULA = "auto-accept rate = items auto-accepted ÷ items the model has labelled (all but unlabelled)"
PACE_FORMULA = "pace = items decided in the last 7 days (today included) ÷ 7"
ETA_FORMULA = "ETA = today + ⌈items remaining ÷ pace⌉ days"
NEEDED_FORMULA = "needed per day = ⌈items remaining ÷ days left to the deadline⌉"


def day_start(day: date) -> datetime:
    """The first instant of ``day`` in the current time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def item_groups(*, project: Project) -> list[tuple]:
    """The project's items grouped by (state, final source, final labels, model labels of items settled in
    review), with their counts: summed from the trigger-kept ``ItemCount`` rows on PostgreSQL (tens of
    rows whatever the project's size), else aggregated from the items."""
    if counters.enabled():
        return list(ItemCount.objects.filter(project_id=project.pk).order_by()
                    .values_list("state", "final_source", "final_labels", "predicted_labels")
                    .annotate(total=Sum("n")).filter(total__gt=0))
    return item_groups_counted(project=project)


def item_groups_counted(*, project: Project) -> list[tuple]:
    """``item_groups`` aggregated from the items table itself (one pass over the project's items)."""
    settled = Q(state=Item.State.REVIEWED, final_source=Item.FinalSource.REVIEW)
    return list(Item.objects.filter(project=project).order_by()
                .annotate(model_labels=Case(When(settled, then=F("predicted_labels")), default=None,
                                            output_field=JSONField()))
                .values_list("state", "final_source", "final_labels", "model_labels").annotate(total=Count("id")))


def state_counts(*, project: Project, groups: list[tuple] | None = None) -> dict:
    """Items per state, per final source and per final label (the latter in first-seen order)."""
    groups = item_groups(project=project) if groups is None else groups
    by_state = dict.fromkeys(Item.State.values, 0)
    by_source = dict.fromkeys(Item.FinalSource.values, 0)
    by_label: dict[str, int] = {}
    for state, source, final_labels, _model, n in groups:
        by_state[state] = by_state.get(state, 0) + n
        by_source[source] = by_source.get(source, 0) + n
        if isinstance(final_labels, list):
            for label in final_labels:
                by_label[str(label)] = by_label.get(str(label), 0) + n
    return {"by_state": by_state, "by_source": by_source, "by_label": by_label, "total": sum(by_state.values())}


def decided_today(*, project: Project, today: date) -> dict:
    """Items decided today, by the model and by a person (index range on ``(project, decided_at)``)."""
    counts = Item.objects.filter(project=project, decided_at__gte=day_start(today),
                                 state__in=DONE_STATES).aggregate(
        # Counting a column of the index (not the id) keeps it an index-only scan of item_decided_cover.
        auto=Count("state", filter=Q(final_source=Item.FinalSource.AUTO)),
        human=Count("state", filter=~Q(final_source=Item.FinalSource.AUTO)))
    return {"auto": counts["auto"], "human": counts["human"]}


def history(*, project: Project, today: date, days: int = HISTORY_DAYS, now_counts: dict | None = None,
            today_decided: dict | None = None) -> list[dict]:
    """One row per day of the last ``days`` days: items per state at the end of the day and items decided
    that day. Past days come from the daily stats (days the task has not recorded are left out); today is
    live."""
    first = today - timedelta(days=days - 1)
    rows = []
    for stats in ProjectDailyStats.objects.filter(project=project, day__gte=first, day__lt=today).order_by("day"):
        rows.append({"day": stats.day, "total": stats.total,
                     "by_state": {state: getattr(stats, state) for state in Item.State.values},
                     "decided_auto": stats.decided_auto, "decided_human": stats.decided_human,
                     "decided": stats.decided, "reviews": stats.reviews})
    now_counts = now_counts or state_counts(project=project)
    today_decided = today_decided or decided_today(project=project, today=today)
    rows.append({"day": today, "total": now_counts["total"], "by_state": dict(now_counts["by_state"]),
                 "decided_auto": today_decided["auto"], "decided_human": today_decided["human"],
                 "decided": today_decided["auto"] + today_decided["human"], "reviews": None})
    return rows


def _pace(rows: list[dict], today: date) -> tuple[int, float]:
    since = today - timedelta(days=PACE_DAYS - 1)
    decided = sum(row["decided"] for row in rows if row["day"] >= since)
    return decided, decided / PACE_DAYS


def _num(value: float) -> str:
    return f"{value:,.1f}" if value % 1 else f"{value:,.0f}"


def eta(*, project: Project, today: date, remaining: int, decided_last_week: int) -> dict:
    """When the project finishes at the current pace, against its deadline."""
    per_day = decided_last_week / PACE_DAYS
    days_left = (project.deadline - today).days if project.deadline else None
    needed = math.ceil(remaining / max(days_left, 1)) if days_left is not None and remaining else 0
    if remaining == 0:
        eta_days, eta_date = 0, today
    elif decided_last_week > 0:
        eta_days = -(-remaining * PACE_DAYS // decided_last_week)  # ⌈remaining ÷ pace⌉ in integers
        eta_date = today + timedelta(days=eta_days)
    else:
        eta_days = eta_date = None
    finishes_in_time = None
    if project.deadline is not None:
        finishes_in_time = eta_date is not None and eta_date <= project.deadline
    if eta_date is None:
        worked = f"{remaining:,} items remaining at 0 items/day: no ETA"
    else:
        worked = f"{today.isoformat()} + ⌈{remaining:,} ÷ {_num(per_day)}⌉ = {eta_date.isoformat()}"
    return {
        "remaining": remaining,
        "pace_per_day": per_day,
        "eta_days": eta_days,
        "eta_date": eta_date,
        "deadline": project.deadline,
        "days_left": days_left,
        "needed_per_day": needed,
        "finishes_in_time": finishes_in_time,
        "formula": f"{ETA_FORMULA}; {PACE_FORMULA}: {worked}",
    }


def project_summary(*, project: Project, today: date | None = None, schema: LabelSchema | None = None,
                    groups: list[tuple] | None = None) -> dict:
    """Items per state and per final label, progress against the deadline (``/api/projects/{id}/analytics``),
    with the auto-accept rate, the pace and the ETA."""
    return summary_and_history(project=project, today=today, schema=schema, groups=groups, days=PACE_DAYS)[0]


def summary_and_history(*, project: Project, today: date | None = None, schema: LabelSchema | None = None,
                        groups: list[tuple] | None = None, days: int = HISTORY_DAYS) -> tuple[dict, list[dict]]:
    """``project_summary`` and the ``history`` of the last ``days`` days, from one read of the daily stats."""
    today = today or timezone.localdate()
    schema = schema if schema is not None else schema_current(project=project)
    counts = state_counts(project=project, groups=groups)
    by_state, total = counts["by_state"], counts["total"]
    done = sum(by_state[state] for state in DONE_STATES)
    today_decided = decided_today(project=project, today=today)
    rows = history(project=project, today=today, days=max(days, PACE_DAYS), now_counts=counts,
                   today_decided=today_decided)
    decided_last_week, per_day = _pace(rows, today)
    first_shown = today - timedelta(days=days - 1)
    shown = [row for row in rows if row["day"] >= first_shown]

    found = dict(counts["by_label"])
    by_label = {}
    if schema is not None:
        by_label = {path: found.pop(path, 0) for path in
                    schema.categories.order_by("order", "id").values_list("path", flat=True)}
    by_label.update(sorted(found.items()))  # labels of older versions, no longer in the schema

    remaining = total - done
    finish = eta(project=project, today=today, remaining=remaining, decided_last_week=decided_last_week)
    predicted = total - by_state[Item.State.UNLABELLED]
    days_left = finish["days_left"]
    summary = {
        "total_items": total,
        "by_state": by_state,
        "by_label": by_label,
        "schema_version": schema.version if schema else None,
        "progress": {
            "done": done,
            "remaining": remaining,
            "percent_done": round(100 * done / total, 1) if total else 0.0,
            "deadline": project.deadline,
            "days_left": days_left,
            "needed_per_day": finish["needed_per_day"],
            "decided_per_day_last_7_days": round(per_day, 1),
            "on_track": None if days_left is None else (remaining == 0 or (days_left > 0
                                                                          and per_day >= finish["needed_per_day"])),
        },
        "by_source": counts["by_source"],
        "today_decided": today_decided,
        "auto_accept": {"auto_accepted": by_state[Item.State.AUTO_ACCEPTED], "labelled_by_model": predicted,
                        "rate": by_state[Item.State.AUTO_ACCEPTED] / predicted if predicted else None,
                        "formula": AUTO_ACCEPT_FORMULA},
        "eta": finish,
    }
    return summary, shown


def throughput(*, rows: list[dict]) -> dict:
    """Items decided per day (model and people) over the history rows, with the mean per day."""
    days = [{"day": row["day"], "auto": row["decided_auto"], "human": row["decided_human"],
             "total": row["decided"]} for row in rows]
    decided = sum(day["total"] for day in days)
    return {"days": days, "decided": decided, "mean_per_day": decided / len(days) if days else 0.0,
            "formula": "throughput = items whose final label was decided that day (by decided_at)"}

