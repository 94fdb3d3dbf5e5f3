"""Celery tasks of labeling.items: each loads ids, calls a service, and fails the import under the one
failure rule (modelship.failures)."""

from __future__ import annotations

from celery import shared_task

from labeling import task_names
from labeling.items.imports import import_job_fail, import_job_run
from modelship.exceptions import DomainError
from modelship.failures import run_or_fail


@shared_task(bind=True, name=task_names.IMPORT_RUN, acks_late=True, ignore_result=True)
def import_run(self, import_job_id: int) -> None:
    """Import a staged upload (``default`` queue). A finished job is skipped, so redelivery is harmless;
    a retry keeps the items already committed and imports each of the rest once."""
    run_or_fail(self, run=lambda: import_job_run(import_job_id=import_job_id),
                fail=lambda error, attempts: import_job_fail(import_job_id=import_job_id, error=error),
                expected=(DomainError,))
