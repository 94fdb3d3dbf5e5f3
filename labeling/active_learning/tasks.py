"""Celery tasks of labeling.active_learning (the ``inference`` queue)."""

from __future__ import annotations

from celery import shared_task

from labeling import task_names
from labeling.active_learning.services import label_issues_find
from projects.models import Project


@shared_task(name=task_names.INFERENCE_LABEL_ISSUES, acks_late=True, ignore_result=True)
def inference_label_issues(project_id: int) -> None:
    """Re-scan the project's human labels for likely mistakes (enqueued after each learning round)."""
    project = Project.objects.filter(pk=project_id).first()
    if project is not None:
        label_issues_find(project=project)
