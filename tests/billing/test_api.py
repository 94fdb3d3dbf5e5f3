"""The billing API: summary, ledger, usage (its sums are the ledger's), estimates, and the plan limits."""

from __future__ import annotations

import pytest
from django.db.models import F, Sum

from accounts.plans import PLAN_LIMIT_REACHED
from billing import services
from billing.api import USAGE_OF_OTHERS
from billing.models import CreditTransaction
from billing.selectors import MEMBER_NOT_FOUND
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

Kind = CreditTransaction.Kind


@pytest.fixture
def billing_enabled(settings):
    settings.BILLING_ENABLED = True


@pytest.fixture
def team(make_member):
    admin = make_member("admin")
    org = admin.memberships.get().organization
    labeler = UserFactory()
    MembershipFactory(user=labeler, organization=org, role="labeler")
    return org, admin, labeler


def _run_job(*, project, job_id, model, items, used, failed, actor):
    services.job_hold(project=project, job_id=job_id, model_name=model, items=items, actor=actor)
    services.chunk_settle(organization_id=project.organization_id, project_id=project.pk, job_id=job_id,
                          model_name=model, used_items=used, failed_items=failed)


def test_usage_by_day_model_and_project_sums_to_the_ledger(db, billing_enabled, team, client_for, settings):
    settings.BILLING_MODEL_PRICES = {"vader-sentiment": 2}
    org, admin, labeler = team
    reviews = ProjectFactory(organization=org, name="Reviews")
    tickets = ProjectFactory(organization=org, name="Tickets")
    _run_job(project=reviews, job_id=1, model="minilm-zero-shot", items=100, used=97, failed=3, actor=labeler)
    _run_job(project=tickets, job_id=2, model="vader-sentiment", items=40, used=40, failed=0, actor=labeler)
    _run_job(project=tickets, job_id=3, model="minilm-zero-shot", items=10, used=10, failed=0, actor=admin)
    response = client_for(labeler, org).get(f"/api/billing/usage/{labeler.pk}")
    assert response.status_code == 200, response.json()
    usage = response.json()
    ledger = CreditTransaction.objects.filter(organization=org, kind=Kind.SETTLE, actor=labeler).aggregate(
        credits=Sum(-(F("amount") + F("held_change"))), items=Sum("items"))
    assert (usage["credits"], usage["items"]) == (ledger["credits"], ledger["items"]) == (97 + 80, 137)
    assert usage["by_model"] == [{"model": "minilm-zero-shot", "credits": 97, "items": 97},
                                 {"model": "vader-sentiment", "credits": 80, "items": 40}]
    assert usage["by_project"] == [{"project": reviews.pk, "project_name": "Reviews", "credits": 97, "items": 97},
                                   {"project": tickets.pk, "project_name": "Tickets", "credits": 80, "items": 40}]
    assert [(d["credits"], d["items"]) for d in usage["by_day"]] == [(177, 137)]
    # An admin sees any member's usage; a labeler only their own; a stranger's id is a 404.
    assert client_for(admin, org).get(f"/api/billing/usage/{labeler.pk}").json()["credits"] == 177
    assert client_for(admin, org).get(f"/api/billing/usage/{admin.pk}").json()["credits"] == 10
    response = client_for(labeler, org).get(f"/api/billing/usage/{admin.pk}")
    assert (response.status_code, response.json()) == (403, {"detail": USAGE_OF_OTHERS})
    response = client_for(admin, org).get(f"/api/billing/usage/{UserFactory().pk}")
    assert (response.status_code, response.json()) == (404, {"detail": MEMBER_NOT_FOUND})


def test_the_summary_and_the_ledger_of_the_callers_organization(db, billing_enabled, team, client_for):
    org, admin, labeler = team
    services.credits_grant(organization=org, amount=500, reason="welcome", actor=admin)
    summary = client_for(labeler, org).get("/api/billing").json()
    assert summary == {"enabled": True, "organization": org.pk, "plan": "free", "plan_label": "Free",
                       "limits": {"monthly_credits": 1000, "projects": 3, "members": 3, "items_per_month": 5000},
                       "balance": 1500, "held": 0, "plans_for_sale": [], "credit_packs": []}
    assert client_for(labeler, org).get("/api/billing/transactions").status_code == 403
    rows = client_for(admin, org).get("/api/billing/transactions").json()["results"]
    assert [(r["kind"], r["amount"], r["balance_after"], r["actor"]) for r in rows] == [
        ("grant", 500, 1500, admin.email), ("grant", 1000, 1000, None)]


def test_an_estimate_says_what_a_job_costs_and_what_is_missing(db, billing_enabled, team, client_for, settings):
    settings.BILLING_MODEL_PRICES = {}
    org, admin, labeler = team
    project = ProjectFactory(organization=org, default_model="minilm-zero-shot")
    response = client_for(labeler, org).get(f"/api/billing/estimate?project={project.pk}&items=1200")
    assert response.json() == {"billing_enabled": True, "model": "minilm-zero-shot", "items": 1200, "price_per_item": 1,
                               "cost": 1200, "balance": 1000, "missing": 200}  # the free plan's first month
    other = ProjectFactory()
    assert client_for(labeler, org).get(f"/api/billing/estimate?project={other.pk}&items=1").status_code == 404
    settings.BILLING_ENABLED = False
    assert client_for(labeler, org).get(f"/api/billing/estimate?project={project.pk}&items=5").json()["cost"] == 0


def test_the_free_plan_limits_projects_and_members_only_while_billing_is_on(db, team, client_for, settings):
    org, admin, labeler = team
    client = client_for(admin, org)
    for name in ("a", "b", "c"):
        assert client.post("/api/projects/", {"name": name, "template": "sentiment"}, format="json").status_code == 201
    settings.BILLING_ENABLED = True
    response = client.post("/api/projects/", {"name": "d", "template": "sentiment"}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == PLAN_LIMIT_REACHED.format(plan="Free", limit=3, what="projects", count=3)
    third = UserFactory()
    assert client.post(f"/api/organizations/{org.pk}/members", {"email": third.email, "role": "viewer"},
                       format="json").status_code == 201
    fourth = UserFactory()
    response = client.post(f"/api/organizations/{org.pk}/members", {"email": fourth.email, "role": "viewer"}, format="json")
    assert (response.status_code, response.json()["detail"]) == (
        403, PLAN_LIMIT_REACHED.format(plan="Free", limit=3, what="members", count=3))
    org.plan = "pro"
    org.save()
    assert client.post("/api/projects/", {"name": "d", "template": "sentiment"}, format="json").status_code == 201
