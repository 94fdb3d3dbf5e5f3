"""What auto-labelling saved: people's time not spent, less what the model cost.

The rates are project settings (``seconds_per_item``, ``hourly_rate``, ``compute_cost_per_item``);
every figure comes with its formula and the numbers put into it, so a manager can check it by hand.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Sum

from labeling.models import Item, Job
from projects.models import Project
from review.models import ReviewDecision

CENT = Decimal("0.01")

HOURS_SAVED_FORMULA = "hours saved = items labelled without a person × seconds per item ÷ 3600"
LABOUR_FORMULA = "labour saved = items labelled without a person × seconds per item ÷ 3600 × hourly rate"
COMPUTE_FORMULA = "compute cost = items the model scored × compute cost per item"
SAVINGS_FORMULA = ("savings = items labelled without a person × seconds per item ÷ 3600 × hourly rate "
                   "− items the model scored × compute cost per item")
SPENT_FORMULA = "review cost = seconds reviewers spent (live decisions) ÷ 3600 × hourly rate"


def _round(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _seconds(value: float) -> str:
    return f"{value:g}"


def cost_savings(*, project: Project, auto_labelled: int | None = None, review_seconds: float | None = None) -> dict:
    """Savings of the project so far. ``auto_labelled`` (items whose final label came from the model) and
    ``review_seconds`` (seconds of every live review decision, gold checks included) are counted when not
    given."""
    if auto_labelled is None:
        auto_labelled = Item.objects.filter(project=project, final_source=Item.FinalSource.AUTO).count()
    scored = Job.objects.filter(project=project).aggregate(n=Sum("done"))["n"] or 0
    if review_seconds is None:
        review_seconds = ReviewDecision.objects.filter(project=project, undone_at__isnull=True).aggregate(
            s=Sum("seconds_spent"))["s"] or 0.0
    seconds, rate = Decimal(str(project.seconds_per_item)), Decimal(project.hourly_rate)
    per_item = Decimal(project.compute_cost_per_item)
    hours_saved = _round(Decimal(auto_labelled) * seconds / 3600)
    labour = _round(Decimal(auto_labelled) * seconds / 3600 * rate)
    compute = _round(Decimal(scored) * per_item)
    net = labour - compute
    spent = _round(Decimal(str(review_seconds)) / 3600 * rate)
    n, s, r, c = f"{auto_labelled:,}", _seconds(project.seconds_per_item), f"{rate:.2f}", f"{per_item}"
    return {
        "project": project.pk,
        "rates": {"seconds_per_item": project.seconds_per_item, "hourly_rate": float(rate),
                  "compute_cost_per_item": float(per_item)},
        "items_labelled_without_a_person": auto_labelled,
        "items_scored_by_the_model": scored,
        "hours_saved": {"value": float(hours_saved),
                        "formula": f"{HOURS_SAVED_FORMULA} = {n} × {s} ÷ 3600 = {hours_saved}"},
        "labour_saved": {"value": float(labour),
                         "formula": f"{LABOUR_FORMULA} = {n} × {s} ÷ 3600 × {r} = {labour}"},
        "compute_cost": {"value": float(compute),
                         "formula": f"{COMPUTE_FORMULA} = {scored:,} × {c} = {compute}"},
        "savings": {"value": float(net),
                    "formula": f"{SAVINGS_FORMULA} = {n} × {s} ÷ 3600 × {r} − {scored:,} × {c} = {net}"},
        "review_cost": {"value": float(spent), "hours": round(review_seconds / 3600, 2),
                        "formula": f"{SPENT_FORMULA} = {_seconds(review_seconds)} ÷ 3600 × {r} = {spent}"},
    }
