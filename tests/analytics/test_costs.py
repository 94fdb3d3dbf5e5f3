"""Cost savings against a hand computation, with the formula of every figure."""

from decimal import Decimal

import pytest

from billing.services import chunk_settle, credits_grant, job_hold, job_release
from labeling.models import Item, Job
from tests.factories import ItemFactory, ProjectFactory
from tests.review.scenario import item_waiting, submit

pytestmark = pytest.mark.django_db


def test_cost_savings_figures_and_formulas(world, client_for):
    project = world.project
    project.seconds_per_item, project.hourly_rate, project.compute_cost_per_item = 45.0, Decimal("30.00"), Decimal(
        "0.002")
    project.save()
    for n in range(40):
        ItemFactory(project=project, state=Item.State.AUTO_ACCEPTED, final_source=Item.FinalSource.AUTO,
                    final_labels=["cat"], text=f"auto {n}")
    Job.objects.create(project=project, model_name="m", schema=world.schema, status="succeeded", total=60, done=60)
    Job.objects.create(project=project, model_name="m", schema=world.schema, status="succeeded", total=10, done=10)
    rita = client_for(world.reviewer)
    for seconds in (30, 60, 90):
        assert submit(rita, item_waiting(project, world.schema), "approve", seconds=seconds).status_code == 201

    resp = client_for(world.viewer).get(f"/api/analytics/cost-savings/{project.pk}")

    # 40 items × 45 s = 1800 s = 0.50 h; × 30.00 = 15.00; compute 70 × 0.002 = 0.14; net 14.86
    # review: 180 s = 0.05 h × 30.00 = 1.50
    assert resp.status_code == 200
    assert resp.json() == {
        "project": project.pk,
        "rates": {"seconds_per_item": 45.0, "hourly_rate": 30.0, "compute_cost_per_item": 0.002},
        "billing": {"enabled": False, "credits_charged": None, "credit_price": None},
        "items_labelled_without_a_person": 40,
        "items_scored_by_the_model": 70,
        "hours_saved": {"value": 0.5, "formula": "hours saved = items labelled without a person × seconds per item "
                                                 "÷ 3600 = 40 × 45 ÷ 3600 = 0.50"},
        "labour_saved": {"value": 15.0, "formula": "labour saved = items labelled without a person × seconds per "
                                                   "item ÷ 3600 × hourly rate = 40 × 45 ÷ 3600 × 30.00 = 15.00"},
        "compute_cost": {"value": 0.14, "formula": "compute cost = items the model scored × compute cost per item "
                                                   "= 70 × 0.00200 = 0.14"},
        "savings": {"value": 14.86, "formula": "savings = items labelled without a person × seconds per item ÷ 3600 "
                                               "× hourly rate − items the model scored × compute cost per item = "
                                               "40 × 45 ÷ 3600 × 30.00 − 70 × 0.00200 = 14.86"},
        "review_cost": {"value": 1.5, "hours": 0.05,
                        "formula": "review cost = seconds reviewers spent (live decisions) ÷ 3600 × hourly rate = "
                                   "180 ÷ 3600 × 30.00 = 1.50"},
    }


def test_rates_are_project_settings_with_defaults(world, client_for):
    manager = client_for(world.manager)
    before = manager.get(f"/api/projects/{world.project.pk}").json()
    resp = manager.patch(f"/api/projects/{world.project.pk}", {"seconds_per_item": 12, "hourly_rate": "18.50",
                                                               "compute_cost_per_item": "0.00010"}, format="json")
    refused = manager.patch(f"/api/projects/{world.project.pk}", {"hourly_rate": "-1"}, format="json")

    assert (before["seconds_per_item"], before["hourly_rate"], before["compute_cost_per_item"]) == (
        30.0, "25.00", "0.00100")
    assert resp.status_code == 200
    assert (resp.json()["seconds_per_item"], resp.json()["hourly_rate"], resp.json()["compute_cost_per_item"]) == (
        12.0, "18.50", "0.00010")
    assert refused.status_code == 400
    assert refused.json()["hourly_rate"] == ["Ensure this value is greater than or equal to 0."]


def test_with_billing_on_the_compute_cost_is_the_credits_the_ledger_charged(world, client_for, settings):
    settings.BILLING_ENABLED = True
    settings.BILLING_MODEL_PRICES = {"m": 3}
    settings.BILLING_CREDIT_PRICE = "0.0025"
    project = world.project
    project.seconds_per_item, project.hourly_rate, project.compute_cost_per_item = 45.0, Decimal("30.00"), Decimal(
        "0.002")
    project.save()
    for n in range(40):
        ItemFactory(project=project, state=Item.State.AUTO_ACCEPTED, final_source=Item.FinalSource.AUTO,
                    final_labels=["cat"], text=f"auto {n}")
    credits_grant(organization=project.organization, amount=10_000, reason="test credits")
    # Job 1: 70 items held at 3 credits; chunks classify 50 (5 fail) and 10; the rest is released.
    job = Job.objects.create(project=project, model_name="m", schema=world.schema, status="succeeded", total=70,
                             done=60)
    job_hold(project=project, job_id=job.pk, model_name="m", items=70)
    chunk_settle(organization_id=project.organization_id, project_id=project.pk, job_id=job.pk, model_name="m",
                 used_items=50, failed_items=5)
    chunk_settle(organization_id=project.organization_id, project_id=project.pk, job_id=job.pk, model_name="m",
                 used_items=10, failed_items=0)
    job_release(organization_id=project.organization_id, job_id=job.pk, reason="finished")
    # Another project of the organization: its charges are not this project's.
    other = ProjectFactory(organization=project.organization)
    other_job = Job.objects.create(project=other, model_name="m", schema=world.schema, status="succeeded", total=4,
                                   done=4)
    job_hold(project=other, job_id=other_job.pk, model_name="m", items=4)
    chunk_settle(organization_id=other.organization_id, project_id=other.pk, job_id=other_job.pk, model_name="m",
                 used_items=4, failed_items=0)

    resp = client_for(world.viewer).get(f"/api/analytics/cost-savings/{project.pk}")

    # charged: (50 + 10) items × 3 credits = 180 credits × 0.0025 = 0.45; labour 40 × 45 s ÷ 3600 × 30.00 = 15.00
    assert resp.status_code == 200
    data = resp.json()
    assert data["billing"] == {"enabled": True, "credits_charged": 180, "credit_price": 0.0025}
    assert data["items_scored_by_the_model"] == 60
    assert data["compute_cost"] == {
        "value": 0.45, "formula": "compute cost = credits charged for the project's jobs (billing ledger) × price of "
                                  "a credit = 180 × 0.0025 = 0.45"}
    assert data["savings"] == {
        "value": 14.55, "formula": "savings = items labelled without a person × seconds per item ÷ 3600 × hourly rate "
                                   "− credits charged × price of a credit = 40 × 45 ÷ 3600 × 30.00 − 180 × 0.0025 = "
                                   "14.55"}
    assert data["labour_saved"]["value"] == 15.0
