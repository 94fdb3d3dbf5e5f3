"""Server-rendered pages for a forgotten password: ask for a reset link, then set a new password.

They call the same services as ``/api/auth/password/reset`` and ``…/confirm``, under the same
per-IP throttle, and answer the request page the same way whether or not the email has an account.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts import services
from modelship.exceptions import DomainError
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
