"""Celery tasks of the analytics app (``default`` queue); scheduled in ``CELERY_BEAT_SCHEDULE``."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="analytics.tasks.daily_stats_record", acks_late=True, ignore_result=True)
def daily_stats_record() -> dict:
    """Record every project's statistics for today and compact the item counts (idempotent)."""
    from analytics.services import stats_housekeeping

    return stats_housekeeping()
