"""Reads for the label-issue queue, scoped to the caller's organizations."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from accounts.models import User
from labeling.items.selectors import organization_ids
from labeling.models import LabelIssue
from modelship.exceptions import NotFound
from projects.models import Project
from projects.permissions import ANY_PROJECT_ROLE
from projects.selectors import project_get_for_user

LABEL_ISSUE_NOT_FOUND = "Label issue not found."


def label_issues_open(*, project: Project) -> QuerySet[LabelIssue]:
    return (LabelIssue.objects.filter(project=project, status=LabelIssue.Status.OPEN).select_related("item")
            .order_by("self_confidence", "id"))


def label_issue_get_for_user(*, user: User, issue_id: int, require: Iterable[str] = ANY_PROJECT_ROLE) -> LabelIssue:
    """A label issue in one of the caller's organizations (else 404), its project read through the one
    access rule (``require``: the roles allowed, else 403)."""
    issue = (LabelIssue.objects.select_related("item")
             .filter(pk=issue_id, project__organization_id__in=organization_ids(user)).first())
    if issue is None:
        raise NotFound(LABEL_ISSUE_NOT_FOUND)
    issue.project = project_get_for_user(user=user, project_id=issue.project_id, require=require)
    return issue
