"""Celery tasks of the exports app (``exports`` queue): each loads ids, calls a service, and fails the
export under the one failure rule (modelship.failures)."""

from __future__ import annotations

from celery import shared_task

from exports import selectors, services
from exports.formats import ExportError
from modelship.exceptions import DomainError
from modelship.failures import run_or_fail


@shared_task(bind=True, name=services.EXPORT_RUN_TASK, acks_late=True, ignore_result=True)
def export_run(self, export_id: int) -> None:
    """Write one export. A finished export is skipped and a running one restarts, so redelivery is harmless;
    its attempts are counted on the export."""
    run_or_fail(self, run=lambda: services.export_run(export_id=export_id),
                fail=lambda error, attempts: services.export_fail(export_id=export_id, error=error),
                expected=(ExportError, DomainError), attempts=lambda: selectors.export_attempts(export_id=export_id))


@shared_task(name="exports.tasks.exports_expire", acks_late=True, ignore_result=True)
def exports_expire() -> int:
    """Delete the files of exports past their time and mark them expired (schedule it, e.g. hourly)."""
    return services.exports_expire()
