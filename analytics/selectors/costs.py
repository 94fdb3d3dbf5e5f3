"""What auto-labelling saved: people's time not spent, less what the model cost.

The rates of people's time are project settings (``seconds_per_item``, ``hourly_rate``). What the model
cost comes from billing when billing is on: the credits the billing ledger charged for the project's
jobs (their ``settle`` entries) at the price of a credit (``BILLING_CREDIT_PRICE``); with billing off,
from the project's ``compute_cost_per_item`` times the items its jobs scored. Every figure comes with
its formula and the numbers put into it, so a manager can check it by hand.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Sum

from analytics import counters
from analytics.models import ReviewCount
from analytics.selectors.progress import state_counts
from billing.models import CreditTransaction
from billing.prices import credit_price
from billing.services import billing_enabled
from labeling.models import Item, Job
from projects.models import Project
from review.models import ReviewDecision

CENT = Decimal("0.01")

HOURS_SAVED_FORMULA = "hours saved = items labelled without a person × seconds per item ÷ 3600"
LABOUR_FORMULA = "labour saved = items labelled without a person × seconds per item ÷ 3600 × hourly rate"
COMPUTE_FORMULA = "compute cost = items the model scored × compute cost per item"
CREDIT_FORMULA = "compute cost = credits charged for the project's jobs (billing ledger) × price of a credit"
SAVINGS_FORMULA = "savings = items labelled without a person × seconds per item ÷ 3600 × hourly rate − {compute}"
COMPUTE_TERM = "items the model scored × compute cost per item"
CREDIT_TERM = "credits charged × price of a credit"
SPENT_FORMULA = "review cost = seconds reviewers spent (live decisions) ÷ 3600 × hourly rate"


def _round(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _seconds(value: float) -> str:
    return f"{value:g}"


def review_seconds_total(*, project: Project) -> float:
    """Seconds of every live review decision of the project, gold checks included."""
    if counters.enabled():
        total = ReviewCount.objects.filter(project_id=project.pk).aggregate(s=Sum("seconds"))["s"]
        return float(total or 0)
    return ReviewDecision.objects.filter(project=project, undone_at__isnull=True).aggregate(
        s=Sum("seconds_spent"))["s"] or 0.0


def credits_charged(*, project: Project) -> dict:
    """What the billing ledger charged for the project's jobs: credits taken from their holds and the items
    they were for (``settle`` entries; released credits were never charged)."""
    charged = CreditTransaction.objects.filter(organization_id=project.organization_id, project=project,
                                               kind=CreditTransaction.Kind.SETTLE).aggregate(
        credits=Sum("held_change", default=0), items=Sum("items", default=0), entries=Count("id"))
    return {"credits": -charged["credits"], "items": charged["items"], "entries": charged["entries"]}


def cost_savings(*, project: Project, auto_labelled: int | None = None, review_seconds: float | None = None) -> dict:
    """Savings of the project so far. ``auto_labelled`` (items whose final label came from the model) and
    ``review_seconds`` (seconds of every live review decision, gold checks included) are counted when not
    given, from the kept counts."""
    if auto_labelled is None:
        auto_labelled = state_counts(project=project)["by_source"][Item.FinalSource.AUTO]
    if review_seconds is None:
        review_seconds = review_seconds_total(project=project)
    seconds, rate = Decimal(str(project.seconds_per_item)), Decimal(project.hourly_rate)
    per_item = Decimal(project.compute_cost_per_item)
    hours_saved = _round(Decimal(auto_labelled) * seconds / 3600)
    labour = _round(Decimal(auto_labelled) * seconds / 3600 * rate)
    n, s, r = f"{auto_labelled:,}", _seconds(project.seconds_per_item), f"{rate:.2f}"
    billing = {"enabled": billing_enabled(), "credits_charged": None, "credit_price": None}
    if billing["enabled"]:
        charged = credits_charged(project=project)
        price = credit_price()
        scored = charged["items"]
        compute = _round(Decimal(charged["credits"]) * price)
        billing.update(credits_charged=charged["credits"], credit_price=float(price))
        worked = f"{charged['credits']:,} × {price}"
        compute_formula, term = f"{CREDIT_FORMULA} = {worked} = {compute}", CREDIT_TERM
    else:
        scored = Job.objects.filter(project=project).aggregate(n=Sum("done"))["n"] or 0
        compute = _round(Decimal(scored) * per_item)
        worked = f"{scored:,} × {per_item}"
        compute_formula, term = f"{COMPUTE_FORMULA} = {worked} = {compute}", COMPUTE_TERM
    net = labour - compute
    spent = _round(Decimal(str(review_seconds)) / 3600 * rate)
    return {
        "project": project.pk,
        "rates": {"seconds_per_item": project.seconds_per_item, "hourly_rate": float(rate),
                  "compute_cost_per_item": float(per_item)},
        "billing": billing,
        "items_labelled_without_a_person": auto_labelled,
        "items_scored_by_the_model": scored,
        "hours_saved": {"value": float(hours_saved),
                        "formula": f"{HOURS_SAVED_FORMULA} = {n} × {s} ÷ 3600 = {hours_saved}"},
        "labour_saved": {"value": float(labour),
                         "formula": f"{LABOUR_FORMULA} = {n} × {s} ÷ 3600 × {r} = {labour}"},
        "compute_cost": {"value": float(compute), "formula": compute_formula},
        "savings": {"value": float(net),
                    "formula": f"{SAVINGS_FORMULA.format(compute=term)} = {n} × {s} ÷ 3600 × {r} − {worked} = {net}"},
        "review_cost": {"value": float(spent), "hours": round(review_seconds / 3600, 2),
                        "formula": f"{SPENT_FORMULA} = {_seconds(review_seconds)} ÷ 3600 × {r} = {spent}"},
    }
