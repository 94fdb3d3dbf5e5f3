"""What auto-labelling costs, in credits per item (settings, overridable from the environment)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings

from projects.models import Project


def price_per_item(*, model_name: str, item_kind: str) -> int:
    """Credits one item costs with ``model_name``: the model's own price, else its modality's."""
    if model_name in settings.BILLING_MODEL_PRICES:
        return settings.BILLING_MODEL_PRICES[model_name]
    return settings.BILLING_PRICE_IMAGE if item_kind == "image" else settings.BILLING_PRICE_TEXT


def job_cost(*, project: Project, model_name: str, items: int) -> int:
    return items * price_per_item(model_name=model_name, item_kind=project.item_kind)


def credit_price() -> Decimal:
    """What one credit costs, in the currency of the projects' hourly rates (``BILLING_CREDIT_PRICE``)."""
    return Decimal(str(settings.BILLING_CREDIT_PRICE))
