"""The billing page and the staff grant in the Django admin."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import AuditEvent
from billing import services
from billing.models import CreditAccount, CreditTransaction
from tests.factories import OrganizationFactory, ProjectFactory, UserFactory


@pytest.fixture
def admin_session(make_member):
    user = make_member("admin")
    client = Client()
    client.force_login(user)
    return client, user, user.memberships.get().organization


def test_without_keys_the_page_says_billing_is_off(admin_session, settings):
    settings.BILLING_ENABLED = False
    client, user, org = admin_session
    page = client.get("/billing/")
    assert page.status_code == 200
    assert b'data-testid="billing-off"' in page.content
    assert b"credits are unlimited" in page.content
    assert b"Buy " not in page.content


def test_the_page_shows_plan_balance_usage_and_buy_buttons(admin_session, billing_on):
    client, user, org = admin_session
    project = ProjectFactory(organization=org)
    services.job_hold(project=project, job_id=9, model_name="minilm-zero-shot", items=120, actor=user)
    services.chunk_settle(organization_id=org.pk, project_id=project.pk, job_id=9, model_name="minilm-zero-shot",
                          used_items=120, failed_items=0)
    page = client.get("/billing/").content.decode()
    assert 'data-testid="balance">880<' in page
    assert "Free plan" in page
    assert "<title>" in page and "120 credits" in page  # the chart's bar for today
    assert "Buy 1000 credits" in page and "Buy 10000 credits" in page and "Upgrade to Pro" in page
    assert page.count("<tr><td>") >= 3  # the ledger: grant, hold, settle


def test_buy_credits_goes_to_stripe_checkout(admin_session, billing_on):
    client, user, org = admin_session
    response = client.post("/billing/checkout", {"organization": org.pk, "credits": "1000"})
    assert response.status_code == 302
    [session] = billing_on.calls("POST", "/v1/checkout/sessions")
    assert response["Location"] == f"{billing_on.url}/pay/cs_test_2"  # cus_test_1 came first
    assert session["success_url"] == f"http://testserver/billing/?organization={org.pk}&checkout=success"


def test_only_admins_buy_and_strangers_get_a_404(db, make_member, billing_on):
    labeler = make_member("labeler")
    org = labeler.memberships.get().organization
    client = Client()
    client.force_login(labeler)
    assert client.post("/billing/checkout", {"organization": org.pk, "credits": "1000"}).status_code == 403
    assert client.get(f"/billing/?organization={OrganizationFactory().pk}").status_code == 404
    assert billing_on.requests == []


def test_staff_grant_credits_from_the_admin_and_it_is_audited(db, settings):
    settings.BILLING_ENABLED = True
    staff = UserFactory(is_staff=True, is_superuser=True)
    org = OrganizationFactory()
    account = services.account_open(organization_id=org.pk)
    client = Client()
    client.force_login(staff)
    url = f"/admin/billing/creditaccount/{account.pk}/grant/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"amount": "300", "reason": "support ticket 17"})
    assert response.status_code == 302
    row = CreditTransaction.objects.get(organization=org, reason="support ticket 17")
    assert (row.kind, row.amount, row.balance_after, row.actor_id) == ("grant", 300, 1300, staff.pk)
    assert AuditEvent.objects.filter(action="credits.grant", actor=staff, organization=org).count() == 1
    assert CreditAccount.objects.get(pk=account.pk).balance == 1300
    # The ledger is read-only in the admin.
    assert client.get(f"/admin/billing/credittransaction/{row.pk}/change/").status_code == 200
    assert client.post(f"/admin/billing/credittransaction/{row.pk}/delete/", {"post": "yes"}).status_code == 403


def test_the_auto_label_page_says_what_the_job_costs_before_it_starts(admin_session, billing_on, settings):
    from billing.services import INSUFFICIENT_CREDITS, credits_spend
    from labeling.models import Job
    from tests.factories import ItemFactory, LabelSchemaFactory

    settings.BILLING_PRICE_TEXT, settings.BILLING_MODEL_PRICES = 40, {}
    client, user, org = admin_session
    project = ProjectFactory(organization=org, default_model="vader-sentiment", audit_slice_size=0)
    LabelSchemaFactory(project=project, categories=["positive", "negative", "neutral"])
    for i in range(20):
        ItemFactory(project=project, text=f"a text {i}")
    page = client.get(f"/projects/{project.pk}/jobs").content.decode()
    assert ("Costs 800 credits with vader-sentiment (40 per item); your organization has 1000."
            in page)
    assert "vader-sentiment (project default) — 800 credits" in page
    credits_spend(organization_id=org.pk, credits=500, reason="earlier work")
    page = client.get(f"/projects/{project.pk}/jobs").content.decode()
    assert "your organization has 500. <strong>300 more are needed:</strong>" in page
    refused = client.post(f"/projects/{project.pk}/jobs", {"model": "vader-sentiment"}, follow=True).content.decode()
    assert INSUFFICIENT_CREDITS.format(cost=800, balance=500, missing=300) in refused
    assert not Job.objects.exists()
    settings.BILLING_ENABLED = False
    assert "Free: billing is off on this server." in client.get(f"/projects/{project.pk}/jobs").content.decode()


def test_the_export_page_says_exports_are_free(admin_session):
    from tests.factories import LabelSchemaFactory

    client, user, org = admin_session
    project = ProjectFactory(organization=org)
    LabelSchemaFactory(project=project)
    assert "Cost: free. Exports use no credits." in client.get(f"/projects/{project.pk}/exports").content.decode()
