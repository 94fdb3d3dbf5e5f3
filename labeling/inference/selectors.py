"""Reads for inference jobs and their predictions, scoped to the caller's organizations."""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet

from accounts.models import User
from labeling.items.selectors import organization_ids
from labeling.models import Job, Prediction
from modelship.exceptions import NotFound
from projects.models import Project

JOB_NOT_FOUND = "Job not found."


def job_get_for_user(*, user: User, job_id: int) -> Job:
    """A job of a project in one of the caller's organizations; 404 otherwise (never a leak)."""
    job = (Job.objects.select_related("project", "project__organization")
           .filter(pk=job_id, project__organization_id__in=organization_ids(user)).first())
    if job is None:
        raise NotFound(JOB_NOT_FOUND)
    return job


def job_results(*, job: Job, label: str | None = None, min_confidence: float | None = None,
                max_confidence: float | None = None, state: str | None = None) -> QuerySet[Prediction]:
    """A job's predictions with their items, filtered; one query per page."""
    predictions = Prediction.objects.filter(job=job).select_related("item")
    if label:
        predictions = predictions.filter(labels__contains=[label]) if connection.vendor == "postgresql" else \
            predictions.filter(labels__icontains=f'"{label}"')
    if min_confidence is not None:
        predictions = predictions.filter(confidence__gte=min_confidence)
    if max_confidence is not None:
        predictions = predictions.filter(confidence__lte=max_confidence)
    if state:
        predictions = predictions.filter(item__state=state)
    return predictions.order_by("item_id")


def jobs_for(*, project: Project) -> QuerySet[Job]:
    return Job.objects.filter(project=project).order_by("-created_at", "-id")
