"""Health of the parts ModelShip runs on: database, broker, and live workers per queue."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone
from kombu import Connection

from modelship.celery import QUEUES
from modelship.models import WorkerHeartbeat


def _database_ok() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True, "ok"
    except Exception as exc:  # any driver error means "down"
        return False, f"{type(exc).__name__}: {exc}".strip()


def _broker_ok() -> tuple[bool, str]:
    try:
        with Connection(
            settings.CELERY_BROKER_URL,
            transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
            connect_timeout=2,
        ) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
        return True, "ok"
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}".strip()


def _live_heartbeats():
    """Workers whose last heartbeat is recent (within three beats)."""
    window = timedelta(seconds=settings.MODELSHIP_HEARTBEAT_SECONDS * 3)
    return WorkerHeartbeat.objects.filter(last_seen__gte=timezone.now() - window)


def live_workers() -> dict[str, list[str]]:
    """Hostnames with a recent heartbeat, per queue they consume."""
    per_queue: dict[str, list[str]] = {name: [] for name in QUEUES}
    for beat in _live_heartbeats().order_by("hostname"):
        for queue in beat.queues:
            per_queue.setdefault(queue, []).append(beat.hostname)
    return per_queue


def live_processes(*, queue: str) -> int:
    """Pool processes of the live workers that consume ``queue``: how many of its tasks can run at once."""
    return sum(processes for queues, processes in _live_heartbeats().values_list("queues", "processes")
               if queue in queues)


def platform_health() -> dict:
    """A report of each part and a list of what is down (empty when everything is up)."""
    db_ok, db_detail = _database_ok()
    broker_ok, broker_detail = _broker_ok()
    workers = live_workers() if db_ok else {name: [] for name in QUEUES}
    down = []
    if not db_ok:
        down.append("database")
    if not broker_ok:
        down.append("broker")
    down.extend(f"workers:{queue}" for queue in QUEUES if not workers.get(queue))
    return {
        "status": "ok" if not down else "degraded",
        "database": {"ok": db_ok, "detail": db_detail},
        "broker": {"ok": broker_ok, "detail": broker_detail},
        "workers": workers,
        "down": down,
    }
