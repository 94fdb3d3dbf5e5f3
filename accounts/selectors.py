"""Reads for accounts, always scoped to what the caller may see."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from accounts.models import AuditEvent, Invitation, Membership, Organization, User
from modelship.exceptions import NotFound

ORGANIZATION_NOT_FOUND = "Organization not found."


def organizations_for(*, user: User) -> QuerySet[Organization]:
    return Organization.objects.filter(memberships__user=user).order_by("id")


def memberships_for(*, user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("organization").order_by("created_at", "id")


def membership_get(*, user: User, organization_id: int | str) -> Membership:
    """The caller's membership in an organization; 404 when they are not a member (never a leak)."""
    try:
        organization_id = int(organization_id)
    except (TypeError, ValueError):
        raise NotFound(ORGANIZATION_NOT_FOUND) from None
    membership = (
        Membership.objects.select_related("organization")
        .filter(user=user, organization_id=organization_id).first()
    )
    if membership is None:
        raise NotFound(ORGANIZATION_NOT_FOUND)
    return membership


def default_membership(*, user: User) -> Membership | None:
    """The membership used when a request names no organization: the oldest one."""
    return memberships_for(user=user).first()


def members_of(*, organization: Organization) -> QuerySet[Membership]:
    return Membership.objects.filter(organization=organization).select_related("user").order_by("id")


def audit_events_for(
    *,
    organization: Organization,
    actor_id: int | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.filter(organization=organization).select_related("actor")
    if actor_id is not None:
        events = events.filter(actor_id=actor_id)
    if action:
        events = events.filter(action=action)
    if since is not None:
        events = events.filter(created_at__gte=since)
    if until is not None:
        events = events.filter(created_at__lt=until)
    return events.order_by("-created_at", "-id")


def invitations_of(*, organization: Organization) -> QuerySet[Invitation]:
    """The organization's invitations, newest first, with who sent them."""
    return Invitation.objects.filter(organization=organization).select_related("invited_by").order_by(
        "-created_at", "-id")
