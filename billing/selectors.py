"""Reads of credits: an organization's balance and plan, its ledger, and usage by day, model and project."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db.models import F, QuerySet, Sum
from django.db.models.functions import TruncDate

from accounts.models import Membership, Organization
from accounts.plans import PLAN_LIMITS, Plan
from billing.checkout import plans_for_sale
from billing.models import CreditAccount, CreditTransaction, Invoice
from billing.services import account_open, billing_enabled
from modelship.exceptions import NotFound

MEMBER_NOT_FOUND = "No such member in this organization."

# What a settle row used: a chunk's from the hold, or a direct spend from the balance.
USED_CREDITS = -(F("amount") + F("held_change"))


def billing_summary(*, organization: Organization) -> dict:
    """Plan, limits and credits. While billing is on, an organization seen for the first time has its
    account opened (with the plan's first month of credits), so what it is shown is what it has."""
    account = CreditAccount.objects.filter(organization=organization).values("balance", "held").first()
    if account is None and billing_enabled():
        opened = account_open(organization_id=organization.pk)
        account = {"balance": opened.balance, "held": opened.held}
    account = account or {"balance": 0, "held": 0}
    limits = PLAN_LIMITS[organization.plan]
    return {
        "enabled": billing_enabled(),
        "organization": organization.pk,
        "plan": organization.plan,
        "plan_label": Plan(organization.plan).label,
        "limits": {"monthly_credits": limits.monthly_credits, "projects": limits.projects,
                   "members": limits.members, "items_per_month": limits.items_per_month},
        "balance": account["balance"],
        "held": account["held"],
        "plans_for_sale": sorted(plans_for_sale()) if billing_enabled() else [],
        "credit_packs": sorted(settings.STRIPE_CREDIT_PACKS) if billing_enabled() else [],
    }


def transactions_for(*, organization: Organization, kind: str | None = None) -> QuerySet[CreditTransaction]:
    rows = CreditTransaction.objects.filter(organization=organization).select_related("actor", "project")
    return rows.filter(kind=kind) if kind else rows


def invoices_for(*, organization: Organization) -> QuerySet[Invoice]:
    """The organization's Stripe invoices, newest first, as Stripe's webhooks reported them."""
    return Invoice.objects.filter(organization=organization)


def member_check(*, organization: Organization, user_id: int) -> None:
    if not Membership.objects.filter(organization=organization, user_id=user_id).exists():
        raise NotFound(MEMBER_NOT_FOUND)


def usage_for(*, organization: Organization, user_id: int | None = None, since: date | None = None,
              until: date | None = None) -> dict:
    """Credits and items used (settled), in total and by day, model and project; each grouping sums to
    the total, which is the ledger's."""
    rows = CreditTransaction.objects.filter(organization=organization, kind=CreditTransaction.Kind.SETTLE)
    if user_id is not None:
        rows = rows.filter(actor_id=user_id)
    if since is not None:
        rows = rows.filter(created_at__date__gte=since)
    if until is not None:
        rows = rows.filter(created_at__date__lte=until)
    sums = {"credits": Sum(USED_CREDITS), "items": Sum("items")}
    total = rows.aggregate(**sums)
    by_day = rows.annotate(day=TruncDate("created_at")).values("day").annotate(**sums).order_by("day")
    by_model = rows.values("model_name").annotate(**sums).order_by("model_name")
    by_project = rows.values("project_id", "project__name").annotate(**sums).order_by("project_id")
    return {
        "organization": organization.pk,
        "user": user_id,
        "credits": total["credits"] or 0,
        "items": total["items"] or 0,
        "by_day": [{"day": r["day"], "credits": r["credits"], "items": r["items"]} for r in by_day],
        "by_model": [{"model": r["model_name"], "credits": r["credits"], "items": r["items"]} for r in by_model],
        "by_project": [{"project": r["project_id"], "project_name": r["project__name"] or "",
                        "credits": r["credits"], "items": r["items"]} for r in by_project],
    }
