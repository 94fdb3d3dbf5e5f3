"""Celery tasks of the labeling app: each loads ids, calls a service and records failure."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="labeling.tasks.import_run", acks_late=True, ignore_result=True)
def import_run(import_job_id: int) -> None:
    """Import a staged upload (``default`` queue). A finished job is skipped, so redelivery is harmless."""
    from labeling.services.imports import import_job_fail, import_job_run

    try:
        import_job_run(import_job_id=import_job_id)
    except Exception as exc:
        import_job_fail(import_job_id=import_job_id, error=exc)
        raise


@shared_task(name="labeling.tasks.inference_learn", acks_late=True, ignore_result=True)
def inference_learn(project_id: int) -> None:
    """Refit calibration on the audit slice, retrain the few-shot head, re-score waiting items."""
    from labeling.services.calibration import project_learn

    project_learn(project_id=project_id)


@shared_task(name="labeling.tasks.inference_chunk", acks_late=True, ignore_result=True)
def inference_chunk(job_id: int, index: int) -> None:
    """Classify one chunk of a job (``inference`` queue). Safe to deliver twice."""
    from labeling.engine import LabelSetError, ModelUnavailableError, UnknownModelError
    from labeling.services.jobs import chunk_run, job_fail

    try:
        chunk_run(job_id=job_id, index=index)
    except (LabelSetError, ModelUnavailableError, UnknownModelError) as exc:
        job_fail(job_id=job_id, error=exc)
