"""Writes for users, organizations and memberships. Every state change leaves an AuditEvent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import IntegrityError, models, transaction
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import AuditEvent, Invitation, Membership, Organization, Role, User
from accounts.plans import limit_check
from modelship.exceptions import DomainError, NotFound

EMAIL_TAKEN = "A user with this email already exists."
ALREADY_MEMBER = "This user is already a member of the organization."
NO_SUCH_USER = "No user with this email exists; they must register first."
LAST_ADMIN = "The organization must keep at least one admin."
WRONG_PASSWORD = "The current password is wrong."
INVITATION_INVALID = "This invitation link is not valid."
INVITATION_USED = "This invitation has already been used."
INVITATION_EXPIRED = "This invitation has expired; ask for a new one."
INVITATION_REVOKED = "This invitation was withdrawn."
INVITATION_OTHER_EMAIL = "This invitation is for {email}; log in with that address to accept it."
INVITATION_NOT_FOUND = "Invitation not found."
INVITATION_PATH = "/invite/{token}"
INVITATION_SUBJECT = "You are invited to {organization} on ModelShip"
INVITATION_BODY = (
    "{inviter} invites you to join {organization} on ModelShip as {role}.\n\n"
    "Open this link to accept (you can create your account there): {link}\n\n"
    "The link works once and expires on {expires:%Y-%m-%d %H:%M} UTC."
)
RESET_LINK_INVALID = "This password reset link is invalid, already used or expired; ask for a new one."
RESET_MAIL_SUBJECT = "Reset your ModelShip password"
RESET_MAIL_BODY = """Someone (hopefully you) asked to reset the password of the ModelShip account {email}.

Choose a new password here (the link works once, for {minutes} minutes):

{link}

If you did not ask for this, ignore this mail: your password stays as it is.
"""
RESET_CONFIRM_PATH = "/password/reset/confirm/{uid}/{token}"


def audit_record(
    *,
    actor: User | None,
    organization: Organization | None,
    action: AuditEvent.Action,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str | int = "",
    metadata: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the audit log."""
    if target is not None:
        target_type = target._meta.label_lower
        target_id = target.pk
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        organization=organization,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        metadata=metadata or {},
    )


def audit_record_many(
    *,
    actor: User | None,
    organization_id: int | None,
    action: AuditEvent.Action,
    events: Sequence[tuple[models.Model, dict[str, Any]]],
) -> list[AuditEvent]:
    """Append one event per (target, metadata), all by one actor with one action, in one INSERT."""
    actor = actor if actor is not None and actor.is_authenticated else None
    return AuditEvent.objects.bulk_create([
        AuditEvent(actor=actor, organization_id=organization_id, action=action, target_type=target._meta.label_lower,
                   target_id=str(target.pk), metadata=metadata)
        for target, metadata in events
    ])


def _validate_password(password: str, user: User | None = None, *, field: str = "password") -> None:
    from django.core.exceptions import ValidationError

    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise DomainError(" ".join(exc.messages), field=field) from exc


@transaction.atomic
def user_register(*, email: str, password: str, full_name: str = "", personal_organization: bool = True) -> User:
    """Create a user and (unless ``personal_organization`` is false: they join by an invitation) a
    personal organization in which they are admin."""
    email = User.objects.normalize_email(email).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise DomainError(EMAIL_TAKEN, field="email")
    _validate_password(password, User(email=email, full_name=full_name))
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=password, full_name=full_name)
    except IntegrityError as exc:  # a concurrent registration won the race
        raise DomainError(EMAIL_TAKEN, field="email") from exc
    if not personal_organization:
        audit_record(actor=user, organization=None, action=AuditEvent.Action.USER_REGISTERED, target=user)
        return user
    organization = Organization.objects.create(
        name=f"{full_name or email.split('@')[0]}'s workspace", is_personal=True, created_by=user
    )
    Membership.objects.create(user=user, organization=organization, role=Role.ADMIN)
    audit_record(actor=user, organization=organization, action=AuditEvent.Action.USER_REGISTERED, target=user)
    return user


@transaction.atomic
def user_update_profile(*, user: User, full_name: str | None = None, email: str | None = None) -> User:
    changed = {}
    if full_name is not None and full_name != user.full_name:
        user.full_name = full_name
        changed["full_name"] = full_name
    if email is not None:
        email = User.objects.normalize_email(email).lower()
        if email != user.email:
            if User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
                raise DomainError(EMAIL_TAKEN, field="email")
            user.email = email
            changed["email"] = email
    if changed:
        user.save(update_fields=list(changed))
        for membership in user.memberships.select_related("organization"):
            audit_record(
                actor=user, organization=membership.organization,
                action=AuditEvent.Action.USER_PROFILE_UPDATED, target=user, metadata={"fields": sorted(changed)},
            )
    return user


@transaction.atomic
def user_change_password(*, user: User, current_password: str, new_password: str) -> None:
    """Set a new password and revoke every refresh token issued under the old one."""
    if not user.check_password(current_password):
        raise DomainError(WRONG_PASSWORD, field="current_password")
    _validate_password(new_password, user)
    user.set_password(new_password)
    user.save(update_fields=["password"])
    audit_record(actor=user, organization=None, action=AuditEvent.Action.USER_PASSWORD_CHANGED, target=user)
    user_sessions_revoke(user=user)


def user_sessions_revoke(*, user: User) -> int:
    """Blacklist every refresh token of the user still outstanding; returns how many were revoked.

    Access tokens already issued stay valid until they expire (``JWT_ACCESS_MINUTES``)."""
    live = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True).values_list("pk", flat=True)
    created = BlacklistedToken.objects.bulk_create([BlacklistedToken(token_id=pk) for pk in live],
                                                   ignore_conflicts=True)
    return len(created)


@transaction.atomic
def user_logout_everywhere(*, user: User) -> int:
    """Revoke every refresh token of the user ("log out everywhere"); returns how many were revoked."""
    revoked = user_sessions_revoke(user=user)
    audit_record(actor=user, organization=None, action=AuditEvent.Action.USER_LOGGED_OUT_EVERYWHERE, target=user,
                 metadata={"refresh_tokens": revoked})
    return revoked


def password_reset_request(*, email: str, site_url: str) -> None:
    """Mail a one-use reset link to the active account with this email, if there is one.

    The caller's answer must not depend on the outcome: an unknown email sends nothing and says nothing.
    ``site_url`` is the scheme and host the link points at (the request's own, checked by ALLOWED_HOSTS).
    """
    user = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
    if user is None or not user.has_usable_password():
        return
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    link = site_url.rstrip("/") + RESET_CONFIRM_PATH.format(uid=uid, token=token)
    body = RESET_MAIL_BODY.format(email=user.email, link=link, minutes=settings.PASSWORD_RESET_TIMEOUT // 60)
    send_mail(RESET_MAIL_SUBJECT, body, None, [user.email])
    audit_record(actor=None, organization=None, action=AuditEvent.Action.USER_PASSWORD_RESET_REQUESTED, target=user)


def password_reset_user(*, uid: str, token: str) -> User:
    """The user a reset link is for, while its token is valid; else the link is refused."""
    try:
        pk = int(force_str(urlsafe_base64_decode(uid)))
    except (TypeError, ValueError, OverflowError):
        pk = None
    user = User.objects.filter(pk=pk, is_active=True).first() if pk is not None else None
    if user is None or not default_token_generator.check_token(user, token):
        raise DomainError(RESET_LINK_INVALID, field="token")
    return user


@transaction.atomic
def password_reset_confirm(*, uid: str, token: str, new_password: str) -> User:
    """Set a new password from a reset link and end every session: the link then stops working
    (the token signs the old password hash) and every refresh token of the user is revoked."""
    user = password_reset_user(uid=uid, token=token)
    user = User.objects.select_for_update().get(pk=user.pk)  # two uses at once: the second sees the new hash
    if not default_token_generator.check_token(user, token):
        raise DomainError(RESET_LINK_INVALID, field="token")
    _validate_password(new_password, user, field="new_password")
    user.set_password(new_password)
    user.save(update_fields=["password"])
    revoked = user_sessions_revoke(user=user)
    audit_record(actor=user, organization=None, action=AuditEvent.Action.USER_PASSWORD_RESET, target=user,
                 metadata={"sessions_revoked": revoked})
    return user


@transaction.atomic
def organization_create(*, name: str, created_by: User) -> Organization:
    organization = Organization.objects.create(name=name, created_by=created_by)
    Membership.objects.create(user=created_by, organization=organization, role=Role.ADMIN)
    audit_record(actor=created_by, organization=organization, action=AuditEvent.Action.ORGANIZATION_CREATED,
                 target=organization, metadata={"name": name})
    return organization


@transaction.atomic
def organization_plan_change(*, organization: Organization, plan: str, reason: str, actor: User | None = None) -> bool:
    """Move the organization to ``plan`` (billing calls this as Stripe reports payments); audited.
    False when it already was on that plan."""
    previous = Organization.objects.select_for_update().values_list("plan", flat=True).get(pk=organization.pk)
    organization.plan = plan
    if previous == plan:
        return False
    Organization.objects.filter(pk=organization.pk).update(plan=plan)
    audit_record(actor=actor, organization=organization, action=AuditEvent.Action.ORGANIZATION_PLAN_CHANGED, target=organization,
                 metadata={"from": previous, "to": plan, "reason": reason})
    return True


@transaction.atomic
def member_add(*, organization: Organization, email: str, role: str, actor: User) -> Membership:
    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is None:
        raise DomainError(NO_SUCH_USER, field="email")
    if Membership.objects.filter(organization=organization, user=user).exists():
        raise DomainError(ALREADY_MEMBER, field="email")
    limit_check(organization=organization, what="members", existing=Membership.objects.filter(organization=organization))
    membership = Membership.objects.create(organization=organization, user=user, role=role)
    audit_record(actor=actor, organization=organization, action=AuditEvent.Action.MEMBER_ADDED,
                 target=membership, metadata={"user": user.email, "role": role})
    return membership


def _locked_membership(organization: Organization, user_id: int) -> Membership:
    # Lock every admin row of the organization so two demotions cannot both pass the check.
    list(Membership.objects.select_for_update().filter(organization=organization, role=Role.ADMIN))
    membership = (
        Membership.objects.select_for_update().select_related("user")
        .filter(organization=organization, user_id=user_id).first()
    )
    if membership is None:
        raise NotFound("Member not found.")
    return membership


def _is_last_admin(membership: Membership) -> bool:
    return (
        membership.role == Role.ADMIN
        and not Membership.objects.filter(organization_id=membership.organization_id, role=Role.ADMIN)
        .exclude(pk=membership.pk).exists()
    )


@transaction.atomic
def member_change_role(*, organization: Organization, user_id: int, role: str, actor: User) -> Membership:
    membership = _locked_membership(organization, user_id)
    if role != Role.ADMIN and _is_last_admin(membership):
        raise DomainError(LAST_ADMIN, field="role")
    previous = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(actor=actor, organization=organization, action=AuditEvent.Action.MEMBER_ROLE_CHANGED,
                 target=membership, metadata={"user": membership.user.email, "from": previous, "to": role})
    return membership


@transaction.atomic
def member_remove(*, organization: Organization, user_id: int, actor: User) -> None:
    membership = _locked_membership(organization, user_id)
    if _is_last_admin(membership):
        raise DomainError(LAST_ADMIN)
    audit_record(actor=actor, organization=organization, action=AuditEvent.Action.MEMBER_REMOVED,
                 target=membership, metadata={"user": membership.user.email, "role": membership.role})
    membership.delete()


def admin_create(*, email: str, password: str, organization_name: str = "") -> User:
    """Create (or promote) the platform's first admin: a superuser who is admin of an organization."""
    with transaction.atomic():
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            _validate_password(password, User(email=email))
            user = User.objects.create_superuser(email=email, password=password)
        else:
            user.is_staff = user.is_superuser = True
            user.set_password(password)
            user.save()
        organization = Organization.objects.filter(memberships__user=user, memberships__role=Role.ADMIN).first()
        if organization is None:
            organization = Organization.objects.create(
                name=organization_name or "ModelShip", created_by=user
            )
            Membership.objects.create(user=user, organization=organization, role=Role.ADMIN)
        audit_record(actor=user, organization=organization, action=AuditEvent.Action.USER_ADMIN_CREATED, target=user)
    return user


def user_logged_in(*, user: User) -> None:
    from django.utils import timezone

    User.objects.filter(pk=user.pk).update(last_login=timezone.now())


# --- invitations ---------------------------------------------------------------------------------

def _token_hash(token: str) -> str:
    import hashlib

    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@transaction.atomic
def invitation_create(*, organization: Organization, email: str, role: str, actor: User,
                      site_url: str) -> tuple[Invitation, str]:
    """Invite ``email`` to the organization with ``role``; mail them a single-use link after commit.

    Returns the invitation and the token (the only time it is known: the database keeps its hash).
    A pending invitation for the same address is withdrawn. ``site_url`` is the scheme and host the
    link points at (the request's own, checked by ALLOWED_HOSTS).
    """
    from datetime import timedelta
    from secrets import token_urlsafe

    from django.utils import timezone

    email = User.objects.normalize_email(email.strip()).lower()
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise DomainError(ALREADY_MEMBER, field="email")
    now = timezone.now()
    Invitation.objects.filter(organization=organization, email=email, accepted_at__isnull=True,
                              revoked_at__isnull=True).update(revoked_at=now)
    token = token_urlsafe(32)
    invitation = Invitation.objects.create(
        organization=organization, email=email, role=role, token_hash=_token_hash(token), invited_by=actor,
        expires_at=now + timedelta(hours=settings.INVITATION_TTL_HOURS),
    )
    audit_record(actor=actor, organization=organization, action=AuditEvent.Action.INVITATION_CREATED, target=invitation,
                 metadata={"email": email, "role": role})
    link = site_url.rstrip("/") + INVITATION_PATH.format(token=token)
    body = INVITATION_BODY.format(inviter=actor.full_name or actor.email, organization=organization.name,
                                  role=Role(role).label.lower(), link=link, expires=invitation.expires_at)
    subject = INVITATION_SUBJECT.format(organization=organization.name)
    transaction.on_commit(lambda: send_mail(subject, body, None, [email]))
    return invitation, token


@transaction.atomic
def invitation_revoke(*, organization: Organization, invitation_id: int, actor: User) -> Invitation:
    """Withdraw a pending invitation of this organization (another organization's is a 404)."""
    from django.utils import timezone

    invitation = Invitation.objects.select_for_update().filter(organization=organization, pk=invitation_id).first()
    if invitation is None:
        raise NotFound(INVITATION_NOT_FOUND)
    _check_open(invitation)
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(actor=actor, organization=organization, action=AuditEvent.Action.INVITATION_REVOKED, target=invitation,
                 metadata={"email": invitation.email})
    return invitation


def _check_open(invitation: Invitation) -> None:
    from django.utils import timezone

    state = invitation.status_at(timezone.now())
    if state == Invitation.Status.ACCEPTED:
        raise DomainError(INVITATION_USED, status_code=410)
    if state == Invitation.Status.REVOKED:
        raise DomainError(INVITATION_REVOKED, status_code=410)
    if state == Invitation.Status.EXPIRED:
        raise DomainError(INVITATION_EXPIRED, status_code=410)


def invitation_open(*, token: str, lock: bool = False) -> Invitation:
    """The invitation a link's token names, if it can still be accepted: 404 for an unknown token,
    410 for one used, withdrawn or expired."""
    invitations = Invitation.objects.select_related("organization", "invited_by")
    if lock:
        invitations = invitations.select_for_update(of=("self",))
    invitation = invitations.filter(token_hash=_token_hash(token or "")).first()
    if invitation is None:
        raise NotFound(INVITATION_INVALID)
    _check_open(invitation)
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, user: User) -> Membership:
    """Join the invitation's organization with its role; the link then works no more."""
    from django.utils import timezone

    invitation = invitation_open(token=token, lock=True)
    if invitation.email.lower() != user.email.lower():
        raise DomainError(INVITATION_OTHER_EMAIL.format(email=invitation.email), status_code=403)
    organization = invitation.organization
    if Membership.objects.filter(organization=organization, user=user).exists():
        raise DomainError(ALREADY_MEMBER, status_code=409)
    limit_check(organization=organization, what="members", existing=Membership.objects.filter(organization=organization))
    membership = Membership.objects.create(organization=organization, user=user, role=invitation.role)
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit_record(actor=user, organization=organization, action=AuditEvent.Action.INVITATION_ACCEPTED, target=invitation,
                 metadata={"email": user.email, "role": invitation.role})
    return membership


@transaction.atomic
def invitation_sign_up(*, token: str, password: str, full_name: str = "") -> User:
    """Create the invited person's account (no personal organization) and accept the invitation."""
    invitation = invitation_open(token=token, lock=True)
    user = user_register(email=invitation.email, password=password, full_name=full_name,
                         personal_organization=False)
    invitation_accept(token=token, user=user)
    return user
