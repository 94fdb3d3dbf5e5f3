"""Celery tasks of labeling.inference (the ``inference`` queue): each loads ids, calls a service, and
fails the job under the one failure rule (modelship.failures)."""

from __future__ import annotations

from celery import shared_task

from labeling import task_names
from labeling.inference.jobs import EXPECTED_ERRORS, chunk_run, job_fail
from labeling.inference.selectors import chunk_attempts
from modelship.failures import run_or_fail


@shared_task(bind=True, name=task_names.INFERENCE_CHUNK, acks_late=True, ignore_result=True)
def inference_chunk(self, job_id: int, index: int) -> None:
    """Classify one chunk of a job. Safe to deliver twice; its attempts are counted on the chunk."""
    run_or_fail(self, run=lambda: chunk_run(job_id=job_id, index=index),
                fail=lambda error, attempts: job_fail(job_id=job_id, error=error, attempts=attempts),
                expected=EXPECTED_ERRORS, attempts=lambda: chunk_attempts(job_id=job_id, index=index))
