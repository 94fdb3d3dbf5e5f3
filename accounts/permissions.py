"""The one permission layer every app uses.

A request works inside one *active organization*: the one named by the ``X-Organization``
header, or else the caller's oldest membership. Views declare which roles may call each
method with ``required_roles``; objects are looked up through selectors scoped to the
caller's organizations, so an id from another organization is a 404, never a 403.
"""

from __future__ import annotations

from collections.abc import Iterable

from rest_framework import permissions
from rest_framework.exceptions import PermissionDenied

from accounts.models import Membership, Organization, Role
from accounts.selectors import default_membership, membership_get

ORGANIZATION_HEADER = "HTTP_X_ORGANIZATION"
ROLE_REQUIRED = "Your role in this organization does not allow this action."
NO_ORGANIZATION = "You are not a member of any organization."

ALL_ROLES = frozenset(Role.values)
ADMIN = frozenset({Role.ADMIN})
WRITERS = frozenset({Role.ADMIN, Role.LABELER})
REVIEWERS = frozenset({Role.ADMIN, Role.REVIEWER})


def active_membership(request) -> Membership:
    """Resolve (once per request) the caller's membership in the active organization."""
    cached = getattr(request, "_modelship_membership", None)
    if cached is not None:
        return cached
    header = request.META.get(ORGANIZATION_HEADER)
    if header:
        membership = membership_get(user=request.user, organization_id=header)
    else:
        membership = default_membership(user=request.user)
        if membership is None:
            raise PermissionDenied(NO_ORGANIZATION)
    request._modelship_membership = membership
    return membership


def active_organization(request) -> Organization:
    return active_membership(request).organization


def require_role(membership: Membership, roles: Iterable[str]) -> None:
    if membership.role not in set(roles):
        raise PermissionDenied(ROLE_REQUIRED)


def roles_for(view, method: str) -> frozenset[str]:
    required = getattr(view, "required_roles", ALL_ROLES)
    if isinstance(required, dict):
        return frozenset(required.get(method, required.get("*", ALL_ROLES)))
    return frozenset(required)


class OrganizationRole(permissions.BasePermission):
    """Authenticated, a member of the active organization, and in a role the view allows."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        require_role(active_membership(request), roles_for(view, request.method))
        return True


def require_object_role(request, view, organization_id: int) -> Membership:
    """For objects found through a scoped selector: the caller's role in *their* organization."""
    membership = membership_get(user=request.user, organization_id=organization_id)
    require_role(membership, roles_for(view, request.method))
    return membership
