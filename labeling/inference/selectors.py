"""Reads for inference jobs and their predictions, scoped to the caller's organizations."""

from __future__ import annotations

from django.db import connection
from django.db.models import OuterRef, QuerySet, Subquery

from accounts.models import Membership, User
from labeling.items.selectors import organization_ids
from labeling.models import Job, Prediction
from modelship.exceptions import NotFound
from projects.models import Project, ProjectAssignment
from projects.permissions import effective_project_role

JOB_NOT_FOUND = "Job not found."


def job_get_for_user(*, user: User, job_id: int) -> Job:
    """A job of a project in one of the caller's organizations, with the caller's role on its project
    (``project.caller_role``), in one query: the job page is polled. 404 otherwise (never a leak)."""
    member_role = Membership.objects.filter(organization=OuterRef("project__organization_id"), user=user).values("role")
    assigned_role = ProjectAssignment.objects.filter(project=OuterRef("project_id"), user=user).values("role")
    job = (Job.objects.select_related("project", "project__organization")
           .annotate(member_role=Subquery(member_role[:1]), assigned_role=Subquery(assigned_role[:1]))
           .filter(pk=job_id, member_role__isnull=False).first())
    if job is None:
        raise NotFound(JOB_NOT_FOUND)
    job.project.caller_role = effective_project_role(organization_role=job.member_role,
                                                     assigned_role=job.assigned_role)
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


def jobs_visible_to(*, user: User, project: Project | None = None, status: str | None = None,
                    kind: str | None = None) -> QuerySet[Job]:
    """The jobs of every project in the caller's organizations (or of one project), newest first,
    with their project; a page costs one query."""
    jobs = Job.objects.select_related("project")
    jobs = jobs.filter(project=project) if project is not None else \
        jobs.filter(project__organization_id__in=organization_ids(user))
    if status:
        jobs = jobs.filter(status=status)
    if kind:
        jobs = jobs.filter(kind=kind)
    return jobs.order_by("-created_at", "-id")
