"""Celery tasks of labeling.items: each loads ids, calls a service and records failure."""

from __future__ import annotations

from celery import shared_task

from labeling import task_names
from labeling.items.imports import import_job_fail, import_job_run


@shared_task(name=task_names.IMPORT_RUN, acks_late=True, ignore_result=True)
def import_run(import_job_id: int) -> None:
    """Import a staged upload (``default`` queue). A finished job is skipped, so redelivery is harmless."""
    try:
        import_job_run(import_job_id=import_job_id)
    except Exception as exc:
        import_job_fail(import_job_id=import_job_id, error=exc)
        raise
