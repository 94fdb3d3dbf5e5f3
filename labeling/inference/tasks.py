"""Celery tasks of labeling.inference (the ``inference`` queue): each loads ids, calls a service and
records failure."""

from __future__ import annotations

from celery import shared_task

from labeling import task_names
from labeling.engine import LabelSetError, ModelUnavailableError, UnknownModelError
from labeling.inference.jobs import chunk_run, job_fail


@shared_task(name=task_names.INFERENCE_CHUNK, acks_late=True, ignore_result=True)
def inference_chunk(job_id: int, index: int) -> None:
    """Classify one chunk of a job (``inference`` queue). Safe to deliver twice."""
    try:
        chunk_run(job_id=job_id, index=index)
    except (LabelSetError, ModelUnavailableError, UnknownModelError) as exc:
        job_fail(job_id=job_id, error=exc)
