"""Figures over the whole platform, for staff: organizations, users, projects, items, jobs and workers."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils import timezone

from accounts.models import Organization, User
from analytics import counters
from analytics.models import ItemCount
from labeling.models import Item, Job
from modelship.models import WorkerHeartbeat
from projects.models import Project

UTILISATION_WINDOW = timedelta(hours=24)
UTILISATION_FORMULA = ("worker utilisation = seconds jobs were running in the last 24 h "
                       "÷ (live workers × 86400 s)")


def _busy_seconds(now, since) -> float:
    """Seconds of job running time inside [since, now] (a running job counts up to now)."""
    busy = 0.0
    running = Job.objects.filter(Q(finished_at__isnull=True) | Q(finished_at__gte=since),
                                 started_at__isnull=False, started_at__lte=now).values_list("started_at",
                                                                                            "finished_at")
    for started, finished in running:  # jobs, not items: a few per project and day
        busy += max(0.0, ((finished or now) - max(started, since)).total_seconds())
    return busy


def platform_overview(*, now=None) -> dict:
    """Counts of organizations, users, projects and items (per state), jobs (per status, last 24 h),
    and live workers with their utilisation over the last 24 hours."""
    now = now or timezone.now()
    since = now - UTILISATION_WINDOW
    users = User.objects.aggregate(total=Count("id"), active=Count("id", filter=Q(is_active=True)),
                                   joined_last_30_days=Count("id", filter=Q(date_joined__gte=now - timedelta(days=30))),
                                   staff=Count("id", filter=Q(is_staff=True)))
    organizations = Organization.objects.aggregate(total=Count("id"), personal=Count("id", filter=Q(is_personal=True)))
    projects = Project.objects.aggregate(total=Count("id"), active=Count("id", filter=Q(status=Project.Status.ACTIVE)))
    by_state = dict.fromkeys(Item.State.values, 0)
    if counters.enabled():  # the trigger-kept counts: no pass over every item of the platform
        by_state.update(ItemCount.objects.order_by().values_list("state").annotate(n=Sum("n")))
    else:
        by_state.update(Item.objects.order_by().values_list("state").annotate(n=Count("id")))
    jobs_by_status = dict.fromkeys(Job.Status.values, 0)
    jobs_by_status.update(Job.objects.order_by().values_list("status").annotate(n=Count("id")))
    recent = Job.objects.filter(created_at__gte=since).aggregate(jobs=Count("id"), items=Sum("done", default=0))
    window = timedelta(seconds=settings.MODELSHIP_HEARTBEAT_SECONDS * 3)
    workers = list(WorkerHeartbeat.objects.filter(last_seen__gte=now - window).order_by("hostname")
                   .values("hostname", "queues", "started_at", "last_seen"))
    busy = _busy_seconds(now, since)
    available = len(workers) * UTILISATION_WINDOW.total_seconds()
    utilisation = min(busy / available, 1.0) if available else None
    return {
        "organizations": organizations,
        "users": users,
        "projects": projects,
        "items": {"total": sum(by_state.values()), "by_state": by_state},
        "jobs": {"by_status": jobs_by_status, "last_24_hours": recent["jobs"],
                 "items_scored_last_24_hours": recent["items"]},
        "workers": {
            "live": workers,
            "busy_seconds_last_24_hours": busy,
            "utilisation": utilisation,
            "formula": f"{UTILISATION_FORMULA} = {busy:.0f} ÷ ({len(workers)} × 86400)",
        },
    }
