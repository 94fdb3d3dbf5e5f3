"""Celery tasks of the billing app (``default`` queue)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="billing.tasks.free_plan_top_up", acks_late=True, ignore_result=True)
def free_plan_top_up() -> int:
    """Top every free-plan organization up to its monthly credits, once a month (schedule it daily or
    monthly: a second run in the same month changes nothing)."""
    from billing.services import free_plan_top_up_all

    return free_plan_top_up_all()
