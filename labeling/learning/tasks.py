"""Celery tasks of labeling.learning (the ``inference`` queue)."""

from __future__ import annotations

from celery import shared_task

from labeling import task_names
from labeling.learning.rounds import project_round
from labeling.models import LearningRound


@shared_task(name=task_names.INFERENCE_LEARN, acks_late=True, ignore_result=True)
def inference_learn(project_id: int, trigger: str = LearningRound.Trigger.SCHEDULE) -> None:
    """One learning round: retrain the few-shot head, refit calibration if better, re-decide the items."""
    project_round(project_id=project_id, trigger=trigger)
