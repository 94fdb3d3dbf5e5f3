"""Reads for items and imports, always scoped to the organizations the caller belongs to."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Membership, User
from labeling.models import ImportJob, Item
from modelship.exceptions import NotFound
from projects.models import Project
from projects.selectors import project_get_for_user

ITEM_NOT_FOUND = "File not found."
USER_NOT_FOUND = "User not found."
IMPORT_NOT_FOUND = "Upload not found."


def organization_ids(user: User) -> QuerySet:
    return Membership.objects.filter(user=user).values("organization_id")


def items_uploaded_by(
    *, viewer: User, user_id: int, project: Project | None = None, kind: str | None = None,
    state: str | None = None, import_job_id: int | None = None,
) -> QuerySet[Item]:
    """The items a user uploaded, in the organizations the viewer belongs to; 404 for a stranger."""
    shares_an_organization = Membership.objects.filter(
        user_id=user_id, organization_id__in=organization_ids(viewer)
    ).exists()
    if not shares_an_organization:
        raise NotFound(USER_NOT_FOUND)
    items = Item.objects.filter(uploaded_by_id=user_id, project__organization_id__in=organization_ids(viewer))
    if project is not None:
        items = items.filter(project=project)
    if kind:
        items = items.filter(kind=kind)
    if state:
        items = items.filter(state=state)
    if import_job_id is not None:
        items = items.filter(import_job_id=import_job_id)
    return items.order_by("-id")


def item_get_for_user(*, user: User, item_id: int) -> Item:
    """An item of a project the caller can see, with ``project.caller_role`` set; else 404."""
    item = Item.objects.filter(pk=item_id, project__organization_id__in=organization_ids(user)).first()
    if item is None:
        raise NotFound(ITEM_NOT_FOUND)
    item.project = project_get_for_user(user=user, project_id=item.project_id)
    return item


def import_job_get_for_user(*, user: User, import_job_id: int) -> ImportJob:
    job = (ImportJob.objects.select_related("created_by")
           .filter(pk=import_job_id, project__organization_id__in=organization_ids(user)).first())
    if job is None:
        raise NotFound(IMPORT_NOT_FOUND)
    job.project = project_get_for_user(user=user, project_id=job.project_id)
    return job


def import_jobs_for(*, project: Project) -> QuerySet[ImportJob]:
    return ImportJob.objects.filter(project=project).select_related("created_by").order_by("-created_at", "-id")
