"""Celery tasks of labeling.learning (the ``inference`` queue)."""

from __future__ import annotations

from celery import shared_task

from labeling import task_names
from labeling.learning.calibration import project_learn


@shared_task(name=task_names.INFERENCE_LEARN, acks_late=True, ignore_result=True)
def inference_learn(project_id: int) -> None:
    """Refit calibration on the audit slice, retrain the few-shot head, re-score waiting items."""
    project_learn(project_id=project_id)
