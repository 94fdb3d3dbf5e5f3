"""Project-level roles, on top of ``accounts.permissions``.

A member's role in a project: organization admins are managers of every project of their
organization; otherwise a ``ProjectAssignment`` gives the role; otherwise the organization role
carries over (labeler, reviewer, viewer). Every member of the organization can read its
projects. A project of an organization the caller is not in is a 404, never a 403.

Views declare ``project_roles`` per HTTP method (like ``required_roles``) and call
``project_for_request``.
"""

from __future__ import annotations

from collections.abc import Iterable

from rest_framework.exceptions import PermissionDenied

from accounts.models import Membership, Role
from projects.models import Project, ProjectAssignment, ProjectRole

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


def project_role_for(*, user, project: Project, membership: Membership | None = None) -> str | None:
    """The caller's effective role in a project, or None when they cannot see it at all."""
    if not (user and user.is_authenticated):
        return None
    if membership is None:
        membership = Membership.objects.filter(user=user, organization_id=project.organization_id).first()
    if membership is None:
        return None
    assigned = None
    if membership.role != Role.ADMIN:
        assigned = ProjectAssignment.objects.filter(project=project, user=user).values_list("role", flat=True).first()
    return effective_project_role(organization_role=membership.role, assigned_role=assigned)


def require_project_role(*, user, project: Project, roles: Iterable[str]) -> str:
    """Raise 403 unless the caller's role in the project is one of ``roles``; return the role."""
    role = getattr(project, "caller_role", None)
    if role is None:
        role = project_role_for(user=user, project=project)
    if role not in set(roles):
        raise PermissionDenied(PROJECT_ROLE_REQUIRED)
    return role


def project_roles_for(view, method: str) -> frozenset[str]:
    required = getattr(view, "project_roles", ANY_PROJECT_ROLE)
    if isinstance(required, dict):
        return frozenset(required.get(method, required.get("*", ANY_PROJECT_ROLE)))
    return frozenset(required)


def project_for_request(request, view, project_id) -> Project:
    """The project, if the caller can see it (else 404) and their role allows this method (else 403)."""
    from projects.selectors import project_get_for_user

    project = project_get_for_user(user=request.user, project_id=project_id)
    require_project_role(user=request.user, project=project, roles=project_roles_for(view, request.method))
    return project
