"""Server-rendered account pages: sign up, a forgotten password (ask for a reset link, then set a new
password), an invitation's link, and an organization's team.

They call the same services as the API (the reset pages under the same per-IP throttle, answering
the request page the same way whether or not the email has an account); messages are the services'.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied

from accounts import selectors, services
from accounts.models import Role
from accounts.permissions import ADMIN, ROLE_REQUIRED, require_role
from accounts.serializers import InvitationCreateSerializer, RegisterSerializer
from modelship.exceptions import DomainError, NotFound
from modelship.throttles import IPRateThrottle

RESET_SENT = "If an account uses this email, a link to reset its password is on its way. It works once."
RESET_DONE = "Your password is set and every other session is signed out. Log in with the new password."
PASSWORDS_DIFFER = "The two passwords differ."
EMAIL_REQUIRED = "Enter the email address of your account."
TOO_MANY = "Too many attempts from this address; wait a minute and try again."


class _ThrottleScope:
    throttle_scope = "auth"


def _throttled(request: HttpRequest) -> bool:
    return not IPRateThrottle().allow_request(request, _ThrottleScope())


@require_http_methods(["GET", "POST"])
def password_reset_page(request: HttpRequest) -> HttpResponse:
    context: dict = {"sent": False, "error": "", "email": ""}
    if request.method == "POST":
        email = request.POST.get("email", "").strip()
        context["email"] = email
        if _throttled(request):
            context["error"] = TOO_MANY
            return render(request, "password_reset.html", context, status=429)
        if not email or "@" not in email:
            context["error"] = EMAIL_REQUIRED
            return render(request, "password_reset.html", context, status=400)
        services.password_reset_request(email=email, site_url=request.build_absolute_uri("/"))
        context.update(sent=True, message=RESET_SENT)
    return render(request, "password_reset.html", context)


@require_http_methods(["GET", "POST"])
def password_reset_confirm_page(request: HttpRequest, uid: str, token: str) -> HttpResponse:
    context: dict = {"error": "", "link_valid": True}
    try:
        services.password_reset_user(uid=uid, token=token)
    except DomainError as exc:
        context.update(link_valid=False, error=exc.message)
        return render(request, "password_reset_confirm.html", context, status=400)
    if request.method == "POST":
        if _throttled(request):
            context["error"] = TOO_MANY
            return render(request, "password_reset_confirm.html", context, status=429)
        password, again = request.POST.get("new_password", ""), request.POST.get("new_password_again", "")
        if password != again:
            context["error"] = PASSWORDS_DIFFER
            return render(request, "password_reset_confirm.html", context, status=400)
        try:
            services.password_reset_confirm(uid=uid, token=token, new_password=password)
        except DomainError as exc:
            context["error"] = exc.message
            return render(request, "password_reset_confirm.html", context, status=400)
        messages.success(request, RESET_DONE)
        return redirect("login")
    return render(request, "password_reset_confirm.html", context)


INVITED = "Invitation sent to {email}. Its link (also in the mail): {link}"
REVOKED = "The invitation to {email} is withdrawn."
JOINED = "You joined {organization} as {role}."
BACKEND = "accounts.backends.LockoutModelBackend"


def _errors(serializer) -> list[str]:
    return [f"{name}: {' '.join(str(m) for m in problems)}" for name, problems in serializer.errors.items()]


def signup_page(request: HttpRequest) -> HttpResponse:
    """Create an account (and a personal organization to start projects in), then log in."""
    if request.user.is_authenticated:
        return redirect("project-list")
    errors: list[str] = []
    if request.method == "POST":
        data = RegisterSerializer(data=request.POST)
        if data.is_valid():
            try:
                user = services.user_register(**data.validated_data)
            except DomainError as exc:
                errors.append(exc.message)
            else:
                login(request, user, backend=BACKEND)
                return redirect("project-list")
        else:
            errors = _errors(data)
    return render(request, "accounts/signup.html", {"errors": errors, "values": request.POST})


def invitation_page(request: HttpRequest, token: str) -> HttpResponse:
    """An invitation's link: join with your account, or create one here (no personal organization)."""
    try:
        invitation = services.invitation_open(token=token)
    except DomainError as exc:
        return render(request, "accounts/invitation.html", {"problem": exc.message}, status=exc.status_code)
    errors: list[str] = []
    if request.method == "POST":
        try:
            if request.user.is_authenticated:
                membership = services.invitation_accept(token=token, user=request.user)
            else:
                user = services.invitation_sign_up(token=token, password=request.POST.get("password", ""),
                                                   full_name=request.POST.get("full_name", "").strip()[:200])
                login(request, user, backend=BACKEND)
                membership = selectors.membership_get(user=user, organization_id=invitation.organization_id)
        except DomainError as exc:
            errors.append(exc.message)
        else:
            messages.success(request, JOINED.format(organization=membership.organization.name,
                                                    role=Role(membership.role).label.lower()))
            return redirect("project-list")
    return render(request, "accounts/invitation.html", {
        "invitation": invitation, "role": Role(invitation.role).label.lower(), "errors": errors, "token": token,
    })


@login_required
def team_redirect(request: HttpRequest) -> HttpResponse:
    membership = selectors.default_membership(user=request.user)
    if membership is None:
        raise Http404(selectors.ORGANIZATION_NOT_FOUND)
    return redirect("team-page", org_id=membership.organization_id)


@login_required
def team_page(request: HttpRequest, org_id: int) -> HttpResponse:
    """An organization's members and invitations; admins invite by email and withdraw invitations."""
    try:
        membership = selectors.membership_get(user=request.user, organization_id=org_id)
        require_role(membership, ADMIN)
    except NotFound:
        raise Http404(selectors.ORGANIZATION_NOT_FOUND) from None
    except ApiPermissionDenied:
        raise PermissionDenied(ROLE_REQUIRED) from None
    organization = membership.organization
    if request.method == "POST":
        try:
            if request.POST.get("form") == "revoke":
                invitation_id = request.POST.get("invitation", "")
                revoked = services.invitation_revoke(
                    organization=organization, invitation_id=int(invitation_id) if invitation_id.isdigit() else 0,
                    actor=request.user)
                messages.success(request, REVOKED.format(email=revoked.email))
            else:
                data = InvitationCreateSerializer(data=request.POST)
                if not data.is_valid():
                    raise DomainError("; ".join(_errors(data)))
                invitation, token = services.invitation_create(
                    organization=organization, actor=request.user, site_url=request.build_absolute_uri("/"),
                    **data.validated_data)
                messages.success(request, INVITED.format(email=invitation.email,
                                                         link=request.build_absolute_uri(services.INVITATION_PATH.format(token=token))))
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("team-page", org_id=organization.pk)
    from django.utils import timezone

    now = timezone.now()
    invitations = list(selectors.invitations_of(organization=organization)[:100])
    for invitation in invitations:
        invitation.status = invitation.status_at(now)
    return render(request, "accounts/team.html", {
        "organization": organization, "members": selectors.members_of(organization=organization),
        "invitations": invitations, "roles": Role.choices,
        "organizations": selectors.memberships_for(user=request.user),
    })
