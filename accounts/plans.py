"""Plans and their limits: monthly credits, projects, members and auto-labelled items per month.

The limits apply only while billing is on (``settings.BILLING_ENABLED``, i.e. Stripe keys are
set): a self-hosted ModelShip without Stripe has no plans to buy, so nothing is limited.
``accounts`` enforces the member limit, ``projects`` the project limit, ``billing`` the credits
and items per month.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet
from rest_framework import status

from accounts.models import Organization
from modelship.exceptions import DomainError

Plan = Organization.Plan

PLAN_LIMIT_REACHED = (
    "The {plan} plan allows {limit} {what}; this organization has {count}. Upgrade the plan on the billing page."
)


@dataclass(frozen=True)
class PlanLimits:
    monthly_credits: int
    projects: int | None  # None: unlimited
    members: int | None
    items_per_month: int | None


PLAN_LIMITS: dict[str, PlanLimits] = {
    Plan.FREE: PlanLimits(monthly_credits=1_000, projects=3, members=3, items_per_month=5_000),
    Plan.PRO: PlanLimits(monthly_credits=50_000, projects=20, members=10, items_per_month=250_000),
    Plan.TEAM: PlanLimits(monthly_credits=250_000, projects=100, members=50, items_per_month=2_000_000),
    Plan.ENTERPRISE: PlanLimits(monthly_credits=2_000_000, projects=None, members=None, items_per_month=None),
}


def limits_enforced() -> bool:
    return bool(getattr(settings, "BILLING_ENABLED", False))


def plan_limits(organization: Organization) -> PlanLimits:
    return PLAN_LIMITS[organization.plan]


def limit_check(*, organization: Organization, what: str, existing: QuerySet) -> None:
    """Refuse (403) adding one more ``what`` ("projects", "members") when the plan's limit is reached.

    Call it inside the transaction that adds the row: the organization's row lock makes two
    concurrent additions count each other.
    """
    if not limits_enforced():
        return
    plan = Organization.objects.select_for_update().values_list("plan", flat=True).get(pk=organization.pk)
    limit = getattr(PLAN_LIMITS[plan], what)
    count = existing.count()
    if limit is not None and count >= limit:
        raise DomainError(
            PLAN_LIMIT_REACHED.format(plan=Plan(plan).label, limit=limit, what=what, count=count),
            status_code=status.HTTP_403_FORBIDDEN, extra={"limit": limit, "plan": plan},
        )
