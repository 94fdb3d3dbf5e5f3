"""Writes for users, organizations and memberships. Every state change leaves an AuditEvent."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import IntegrityError, models, transaction
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import AuditEvent, Membership, Organization, Role, User
from modelship.exceptions import DomainError, NotFound

EMAIL_TAKEN = "A user with this email already exists."
ALREADY_MEMBER = "This user is already a member of the organization."
NO_SUCH_USER = "No user with this email exists; they must register first."
LAST_ADMIN = "The organization must keep at least one admin."
WRONG_PASSWORD = "The current password is wrong."
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
    action: str,
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


def _validate_password(password: str, user: User | None = None, *, field: str = "password") -> None:
    from django.core.exceptions import ValidationError

    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise DomainError(" ".join(exc.messages), field=field) from exc


@transaction.atomic
def user_register(*, email: str, password: str, full_name: str = "") -> User:
    """Create a user and a personal organization in which they are admin."""
    email = User.objects.normalize_email(email).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise DomainError(EMAIL_TAKEN, field="email")
    _validate_password(password, User(email=email, full_name=full_name))
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=password, full_name=full_name)
    except IntegrityError as exc:  # a concurrent registration won the race
        raise DomainError(EMAIL_TAKEN, field="email") from exc
    organization = Organization.objects.create(
        name=f"{full_name or email.split('@')[0]}'s workspace", is_personal=True, created_by=user
    )
    Membership.objects.create(user=user, organization=organization, role=Role.ADMIN)
    audit_record(actor=user, organization=organization, action="user.registered", target=user)
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
                action="user.profile_updated", target=user, metadata={"fields": sorted(changed)},
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
    audit_record(actor=user, organization=None, action="user.password_changed", target=user)
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
    audit_record(actor=user, organization=None, action="user.logged_out_everywhere", target=user,
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
    audit_record(actor=None, organization=None, action="user.password_reset_requested", target=user)


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
    audit_record(actor=user, organization=None, action="user.password_reset", target=user,
                 metadata={"sessions_revoked": revoked})
    return user


@transaction.atomic
def organization_create(*, name: str, created_by: User) -> Organization:
    organization = Organization.objects.create(name=name, created_by=created_by)
    Membership.objects.create(user=created_by, organization=organization, role=Role.ADMIN)
    audit_record(actor=created_by, organization=organization, action="organization.created",
                 target=organization, metadata={"name": name})
    return organization


@transaction.atomic
def member_add(*, organization: Organization, email: str, role: str, actor: User) -> Membership:
    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is None:
        raise DomainError(NO_SUCH_USER, field="email")
    if Membership.objects.filter(organization=organization, user=user).exists():
        raise DomainError(ALREADY_MEMBER, field="email")
    membership = Membership.objects.create(organization=organization, user=user, role=role)
    audit_record(actor=actor, organization=organization, action="member.added",
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
    audit_record(actor=actor, organization=organization, action="member.role_changed",
                 target=membership, metadata={"user": membership.user.email, "from": previous, "to": role})
    return membership


@transaction.atomic
def member_remove(*, organization: Organization, user_id: int, actor: User) -> None:
    membership = _locked_membership(organization, user_id)
    if _is_last_admin(membership):
        raise DomainError(LAST_ADMIN)
    audit_record(actor=actor, organization=organization, action="member.removed",
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
        audit_record(actor=user, organization=organization, action="user.admin_created", target=user)
    return user


def user_logged_in(*, user: User) -> None:
    from django.utils import timezone

    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
