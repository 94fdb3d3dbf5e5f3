"""Celery tasks of the exports app (``exports`` queue): each loads ids, calls a service and records failure."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="exports.tasks.export_run", acks_late=True, ignore_result=True)
def export_run(export_id: int) -> None:
    """Write one export. A finished export is skipped and a running one restarts, so redelivery is harmless."""
    from exports.formats import ExportError
    from exports.services import export_fail
    from exports.services import export_run as run

    try:
        run(export_id=export_id)
    except ExportError as exc:  # the data cannot be written in this format: recorded, nothing to retry
        export_fail(export_id=export_id, error=exc)
    except Exception as exc:
        export_fail(export_id=export_id, error=exc)
        raise


@shared_task(name="exports.tasks.exports_expire", acks_late=True, ignore_result=True)
def exports_expire() -> int:
    """Delete the files of exports past their time and mark them expired (schedule it, e.g. hourly)."""
    from exports.services import exports_expire as expire

    return expire()
