"""The organization's billing page: plan, balance, usage chart (server-drawn SVG), ledger, and buying
credits or a plan through Stripe Checkout, and the Stripe invoices (organization admins)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Membership, Role
from accounts.selectors import ORGANIZATION_NOT_FOUND, default_membership, membership_get
from billing import selectors
from billing.checkout import checkout_session_create
from modelship.exceptions import DomainError, NotFound

ADMINS_ONLY = "Only organization admins can buy credits or change the plan."
CHART_DAYS = 30
CHART_WIDTH, CHART_HEIGHT = 600, 160


def _membership(request: HttpRequest) -> Membership:
    try:
        org_id = request.GET.get("organization") or request.POST.get("organization")
        membership = (membership_get(user=request.user, organization_id=org_id) if org_id
                      else default_membership(user=request.user))
    except NotFound:
        membership = None
    if membership is None:
        raise Http404(ORGANIZATION_NOT_FOUND)
    return membership


def billing_page_url(request: HttpRequest) -> str:
    """The billing page's absolute URL, where Stripe Checkout sends the buyer back."""
    base = settings.BILLING_SITE_URL.rstrip("/")
    path = reverse("billing-page")
    return f"{base}{path}" if base else request.build_absolute_uri(path)


def usage_chart(by_day: list[dict], *, days: int = CHART_DAYS) -> dict:
    """Bars of credits used per day over the last ``days`` days, laid out for the template's SVG."""
    today = timezone.now().date()
    used = {row["day"]: row["credits"] for row in by_day}
    series = [(today - timedelta(days=days - 1 - i), used.get(today - timedelta(days=days - 1 - i), 0))
              for i in range(days)]
    peak = max((credits for _, credits in series), default=0) or 1
    step = CHART_WIDTH / days
    bars = []
    for i, (day, credits) in enumerate(series):
        height = round(credits / peak * (CHART_HEIGHT - 20), 1)
        bars.append({"x": round(i * step + 1, 1), "width": round(step - 2, 1), "y": round(CHART_HEIGHT - height, 1),
                     "height": height, "day": day, "credits": credits})
    return {"bars": bars, "peak": peak if any(c for _, c in series) else 0, "width": CHART_WIDTH,
            "height": CHART_HEIGHT, "first": series[0][0], "last": series[-1][0]}


@login_required
def billing_page(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    organization = membership.organization
    since = timezone.now().date() - timedelta(days=CHART_DAYS - 1)
    usage = selectors.usage_for(organization=organization, since=since)
    return render(request, "billing/billing.html", {
        "organization": organization,
        "summary": selectors.billing_summary(organization=organization),
        "is_admin": membership.role == Role.ADMIN,
        "usage": usage,
        "chart": usage_chart(usage["by_day"]),
        "transactions": list(selectors.transactions_for(organization=organization)[:50]),
        "invoices": list(selectors.invoices_for(organization=organization)[:24]) if membership.role == Role.ADMIN else [],
        "checkout": request.GET.get("checkout", ""),
    })


@login_required
@require_POST
def billing_checkout(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    if membership.role != Role.ADMIN:
        raise PermissionDenied(ADMINS_ONLY)
    page = f"{billing_page_url(request)}?organization={membership.organization_id}"
    credits = request.POST.get("credits")
    try:
        session = checkout_session_create(
            organization=membership.organization, actor=request.user, plan=request.POST.get("plan") or None,
            credits=int(credits) if credits and credits.isdigit() else None,
            success_url=f"{page}&checkout=success", cancel_url=f"{page}&checkout=cancelled")
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(page)
    return redirect(session.url)
