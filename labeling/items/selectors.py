"""Reads for items and imports, always scoped to the organizations the caller belongs to."""

from __future__ import annotations

from django.db import connection
from django.db.models import F, Q, QuerySet

from accounts.models import Membership, User
from labeling.models import HumanLabel, ImportJob, Item
from modelship.exceptions import NotFound
from projects.models import Project
from projects.selectors import project_get_for_user, schema_categories

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


# How the data browser and ``GET /api/projects/{id}/items`` may sort: name -> (label, ordering).
ITEM_SORTS = {
    "newest": ("Newest first", ("-id",)),
    "oldest": ("Oldest first", ("id",)),
    "confidence": ("Least confident first", (F("confidence").asc(nulls_last=True), "id")),
    "-confidence": ("Most confident first", (F("confidence").desc(nulls_last=True), "-id")),
    "decided": ("Last decided first", (F("decided_at").desc(nulls_last=True), "-id")),
}
NO_SOURCE = "none"  # the source filter's value for items nobody (no person, no threshold) has decided


def _labels_contain(field: str, label: str) -> Q:
    if connection.vendor == "postgresql":
        return Q(**{f"{field}__contains": [label]})
    return Q(**{f"{field}__icontains": f'"{label}"'})


def items_browse(*, project: Project, state: str | None = None, label: str | None = None,
                 min_confidence: float | None = None, max_confidence: float | None = None,
                 source: str | None = None, sort: str = "newest") -> QuerySet[Item]:
    """A project's items for the data browser, filtered and sorted; a page costs one query.

    ``label`` matches the final label, or the model's label where nobody decided one yet;
    ``source`` is a final source (import, auto, review) or ``none``.
    """
    items = Item.objects.filter(project=project).select_related("final_schema")
    if state:
        items = items.filter(state=state)
    if label:
        items = items.filter(_labels_contain("final_labels", label)
                             | (Q(final_labels__isnull=True) & _labels_contain("predicted_labels", label)))
    if min_confidence is not None:
        items = items.filter(confidence__gte=min_confidence)
    if max_confidence is not None:
        items = items.filter(confidence__lte=max_confidence)
    if source:
        items = items.filter(final_source="" if source == NO_SOURCE else source)
    return items.order_by(*ITEM_SORTS[sort][1])


def items_unlabelled_count(*, project: Project) -> int:
    """How many items wait for a model's label (what an auto-label job would take)."""
    return Item.objects.filter(project=project, state=Item.State.UNLABELLED).count()


def item_detail_for_page(*, project: Project, item_id: int) -> Item:
    """One item of the project with its latest prediction, the model's five likeliest labels (``top``) and
    its human labels (``history``); else 404."""
    item = (Item.objects.select_related("final_schema", "decided_by", "prediction")
            .filter(project=project, pk=item_id).first())
    if item is None:
        raise NotFound(ITEM_NOT_FOUND)
    item.history = list(HumanLabel.objects.filter(item=item).select_related("schema", "created_by")
                        .order_by("-created_at", "-id")[:20])
    item.top = []
    prediction = item.prediction
    if prediction is not None:
        names = [c.path for c in schema_categories(schema=prediction.schema)]
        if len(names) == len(prediction.probabilities or []):
            ranked = sorted(zip(names, prediction.probabilities, strict=True), key=lambda pair: -pair[1])[:5]
            item.top = [{"label": label, "percent": 100 * float(p)} for label, p in ranked]
    return item
