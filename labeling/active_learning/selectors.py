"""Reads for the label-issue queue, scoped to the caller's organizations."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from labeling.items.selectors import organization_ids
from labeling.models import LabelIssue
from modelship.exceptions import NotFound
from projects.models import Project

LABEL_ISSUE_NOT_FOUND = "Label issue not found."


def label_issues_open(*, project: Project) -> QuerySet[LabelIssue]:
    return (LabelIssue.objects.filter(project=project, status=LabelIssue.Status.OPEN).select_related("item")
            .order_by("self_confidence", "id"))


def label_issue_get_for_user(*, user: User, issue_id: int) -> LabelIssue:
    issue = (LabelIssue.objects.select_related("project", "item")
             .filter(pk=issue_id, project__organization_id__in=organization_ids(user)).first())
    if issue is None:
        raise NotFound(LABEL_ISSUE_NOT_FOUND)
    return issue
