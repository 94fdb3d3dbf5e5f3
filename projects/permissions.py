"""Project-level roles, on top of ``accounts.permissions``.

A member's role in a project: organization admins are managers of every project of their
organization; otherwise a ``ProjectAssignment`` gives the role; otherwise the organization role
carries over (labeler, reviewer, viewer). Every member of the organization can read its
projects. A project of an organization the caller is not in is a 404, never a 403.

The rule is applied in one place, ``projects.selectors.project_get_for_user(require=...)``; views declare
``project_roles`` per HTTP method (like ``required_roles``) and reach their project through
``projects.scoping.ProjectScopedView.get_project``.
"""

from __future__ import annotations

from collections.abc import Iterable

from accounts.models import Role
from modelship.exceptions import Forbidden
from projects.models import Project, ProjectRole

PROJECT_ROLE_REQUIRED = "Your role in this project does not allow this action."

ANY_PROJECT_ROLE = frozenset(ProjectRole.values)
MANAGERS = frozenset({ProjectRole.MANAGER})
UPLOADERS = frozenset({ProjectRole.MANAGER, ProjectRole.LABELER})
PROJECT_REVIEWERS = frozenset({ProjectRole.MANAGER, ProjectRole.REVIEWER})

_FROM_ORG_ROLE = {
    Role.LABELER: ProjectRole.LABELER,
    Role.REVIEWER: ProjectRole.REVIEWER,
    Role.VIEWER: ProjectRole.VIEWER,
}


def effective_project_role(*, organization_role: str, assigned_role: str | None) -> str:
    """Admins manage every project; else the assignment decides; else the organization role carries over."""
    if organization_role == Role.ADMIN:
        return ProjectRole.MANAGER
    return assigned_role or _FROM_ORG_ROLE[organization_role]


def require_project_role(*, project: Project, roles: Iterable[str]) -> str:
    """Raise 403 unless the caller's role in a project read through ``project_get_for_user`` (which set
    ``caller_role``) is one of ``roles``; return the role."""
    role = project.caller_role
    if role not in set(roles):
        raise Forbidden(PROJECT_ROLE_REQUIRED)
    return role


def project_roles_for(view, method: str) -> frozenset[str]:
    required = getattr(view, "project_roles", ANY_PROJECT_ROLE)
    if isinstance(required, dict):
        return frozenset(required.get(method, required.get("*", ANY_PROJECT_ROLE)))
    return frozenset(required)
