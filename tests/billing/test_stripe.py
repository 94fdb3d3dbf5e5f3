"""Stripe Checkout sessions against a fake Stripe on loopback, and signed webhooks applied exactly once."""

from __future__ import annotations

import pytest
from django.db.models import Sum

from accounts.models import AuditEvent, Organization
from billing.checkout import BILLING_OFF, PACK_UNKNOWN, PLAN_NOT_FOR_SALE, STRIPE_UNREACHABLE
from billing.models import CreditAccount, CreditTransaction, StripeEvent
from billing.webhooks import SIGNATURE_INVALID, WEBHOOK_NOT_CONFIGURED
from tests.factories import OrganizationFactory

Kind = CreditTransaction.Kind


@pytest.fixture
def admin_client(make_member, client_for):
    user = make_member("admin")
    org = user.memberships.get().organization
    return client_for(user, org), org


def balance(org) -> int:
    account = CreditAccount.objects.get(organization=org)
    assert CreditTransaction.objects.filter(organization=org).aggregate(s=Sum("amount"))["s"] == account.balance
    return account.balance


def test_a_credit_pack_checkout_creates_the_customer_once_and_a_payment_session(admin_client, billing_on):
    client, org = admin_client
    response = client.post("/api/billing/create-session", {"credits": 1000}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["url"] == f"{billing_on.url}/pay/{body['id']}"
    [customer] = billing_on.calls("POST", "/v1/customers")
    assert customer == {"name": org.name, "metadata[organization]": str(org.pk)}
    [session] = billing_on.calls("POST", "/v1/checkout/sessions")
    assert session["mode"] == "payment"
    assert session["line_items[0][price]"] == "price_pack_1000"
    assert (session["metadata[kind]"], session["metadata[credits]"], session["metadata[organization]"]) == (
        "credits", "1000", str(org.pk))
    assert session["success_url"] == "http://testserver/billing/?checkout=success"
    account = CreditAccount.objects.get(organization=org)
    assert session["customer"] == account.stripe_customer_id
    from djstripe.models import Customer

    assert Customer.objects.filter(id=account.stripe_customer_id).exists()  # mirrored by dj-stripe
    assert AuditEvent.objects.filter(action="billing.checkout_started", target_id=body["id"]).count() == 1
    # A second purchase reuses the customer.
    assert client.post("/api/billing/create-session", {"plan": "pro"}, format="json").status_code == 201
    assert len(billing_on.calls("POST", "/v1/customers")) == 1
    plan_session = billing_on.calls("POST", "/v1/checkout/sessions")[1]
    assert (plan_session["mode"], plan_session["line_items[0][price]"],
            plan_session["subscription_data[metadata][plan]"]) == ("subscription", "price_pro_monthly", "pro")


def test_checkout_refusals(admin_client, billing_on, make_member, client_for):
    client, org = admin_client
    response = client.post("/api/billing/create-session", {"credits": 777}, format="json")
    assert (response.status_code, response.json()) == (400, {"credits": [PACK_UNKNOWN.format(credits=777, packs="1000, 10000")]})
    response = client.post("/api/billing/create-session", {"plan": "enterprise"}, format="json")
    assert (response.status_code, response.json()) == (
        400, {"plan": [PLAN_NOT_FOR_SALE.format(plan="enterprise", plans="pro, team")]})
    labeler = make_member("labeler", organization=org)
    assert client_for(labeler, org).post("/api/billing/create-session", {"credits": 1000}, format="json").status_code == 403
    assert billing_on.requests == []


def test_without_keys_billing_is_off_and_there_is_nothing_to_buy(admin_client, settings):
    settings.BILLING_ENABLED = False
    client, org = admin_client
    response = client.post("/api/billing/create-session", {"credits": 1000}, format="json")
    assert (response.status_code, response.json()) == (409, {"detail": BILLING_OFF})
    summary = client.get("/api/billing").json()
    assert (summary["enabled"], summary["plan"], summary["credit_packs"]) == (False, "free", [])


def test_stripe_out_of_reach_is_a_503_that_says_so(admin_client, billing_on, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    client, org = admin_client
    response = client.post("/api/billing/create-session", {"credits": 1000}, format="json")
    assert (response.status_code, response.json()) == (
        503, {"detail": STRIPE_UNREACHABLE.format(reason="APIConnectionError")})
    assert CreditAccount.objects.get(organization=org).stripe_customer_id == ""


def _paid_pack(org, credits=1000, session_id="cs_test_paid"):
    return {"id": session_id, "object": "checkout.session", "mode": "payment", "payment_status": "paid",
            "customer": "cus_test_x", "metadata": {"organization": str(org.pk), "kind": "credits", "credits": str(credits)}}


def test_a_wrong_signature_is_a_400_and_changes_nothing(db, billing_on, post_webhook):
    org = OrganizationFactory()
    response = post_webhook("checkout.session.completed", _paid_pack(org), "evt_forged", secret="whsec_wrong")
    assert (response.status_code, response.json()) == (400, {"detail": SIGNATURE_INVALID})
    assert (StripeEvent.objects.count(), CreditTransaction.objects.count(), CreditAccount.objects.count()) == (0, 0, 0)


def test_an_unsigned_or_unconfigured_webhook_is_refused(db, billing_on, api, settings):
    assert api.post("/api/billing/webhook", data="{}", content_type="application/json").status_code == 400
    settings.STRIPE_WEBHOOK_SECRET = ""
    response = api.post("/api/billing/webhook", data="{}", content_type="application/json")
    assert (response.status_code, response.json()) == (503, {"detail": WEBHOOK_NOT_CONFIGURED})


def test_a_duplicated_webhook_event_is_applied_once(db, billing_on, post_webhook):
    org = OrganizationFactory()
    first = post_webhook("checkout.session.completed", _paid_pack(org, 10000), "evt_pack_1")
    again = post_webhook("checkout.session.completed", _paid_pack(org, 10000), "evt_pack_1")
    assert (first.status_code, first.json()["outcome"], first.json()["note"]) == (200, "applied", "10000 credits purchased")
    assert (again.status_code, again.json()["outcome"]) == (200, "duplicate")
    purchases = list(CreditTransaction.objects.filter(kind=Kind.PURCHASE).values_list("amount", "stripe_event_id"))
    assert purchases == [(10000, "evt_pack_1")]
    assert balance(org) == 1000 + 10000  # the free plan's opening grant, then the pack
    assert CreditAccount.objects.get(organization=org).stripe_customer_id == "cus_test_x"
    assert list(StripeEvent.objects.values_list("event_id", "outcome", "organization_id")) == [("evt_pack_1", "applied", org.pk)]


def test_an_unpaid_session_grants_nothing(db, billing_on, post_webhook):
    org = OrganizationFactory()
    obj = {**_paid_pack(org), "payment_status": "unpaid"}
    assert post_webhook("checkout.session.completed", obj, "evt_unpaid").json()["outcome"] == "ignored"
    assert not CreditTransaction.objects.filter(kind=Kind.PURCHASE).exists()


def _subscription(org, status="active", plan="pro"):
    return {"id": "sub_test_1", "object": "subscription", "status": status, "customer": "cus_test_sub",
            "metadata": {"organization": str(org.pk), "plan": plan},
            "items": {"data": [{"price": {"id": "price_pro_monthly"}}]}}


def test_subscription_events_change_the_plan(db, billing_on, post_webhook):
    org = OrganizationFactory()
    assert post_webhook("customer.subscription.created", _subscription(org), "evt_sub_1").json()["note"] == "plan pro"
    org.refresh_from_db()
    assert org.plan == Organization.Plan.PRO
    account = CreditAccount.objects.get(organization=org)
    assert (account.stripe_customer_id, account.stripe_subscription_id) == ("cus_test_sub", "sub_test_1")
    post_webhook("customer.subscription.updated", _subscription(org, plan="team"), "evt_sub_2")
    org.refresh_from_db()
    assert org.plan == Organization.Plan.TEAM
    post_webhook("customer.subscription.deleted", _subscription(org, status="canceled"), "evt_sub_3")
    org.refresh_from_db()
    assert org.plan == Organization.Plan.FREE
    changes = [e.metadata["to"] for e in AuditEvent.objects.filter(action="organization.plan_changed").order_by("id")]
    assert changes == ["pro", "team", "free"]


def test_a_paid_invoice_grants_the_plans_monthly_credits_and_a_failed_one_downgrades(db, billing_on, post_webhook):
    org = OrganizationFactory()
    CreditAccount.objects.create(organization=org, stripe_customer_id="cus_test_inv")
    invoice = {"id": "in_test_1", "object": "invoice", "customer": "cus_test_inv", "amount_paid": 4900,
               "parent": {"subscription_details": {"metadata": {"plan": "pro"}}}, "lines": {"data": []}}
    response = post_webhook("invoice.payment_succeeded", invoice, "evt_inv_1")
    assert response.json()["note"] == "50000 credits granted for the pro plan"
    post_webhook("invoice.payment_succeeded", invoice, "evt_inv_1")  # Stripe retried it
    grants = list(CreditTransaction.objects.filter(organization=org, kind=Kind.GRANT).values_list("amount", "reason"))
    assert grants == [(50000, "Pro plan: monthly credits (invoice in_test_1)")]
    org.refresh_from_db()
    assert org.plan == "pro"
    post_webhook("invoice.payment_failed", {**invoice, "id": "in_test_2"}, "evt_inv_2")
    org.refresh_from_db()
    assert org.plan == "free"
    assert AuditEvent.objects.filter(action="billing.payment_failed", target_id="in_test_2").count() == 1


def test_events_for_no_known_organization_are_recorded_and_ignored(db, billing_on, post_webhook):
    response = post_webhook("invoice.payment_succeeded", {"id": "in_x", "object": "invoice", "customer": "cus_nobody"},
                            "evt_nobody")
    assert response.json() == {"event_id": "evt_nobody", "type": "invoice.payment_succeeded", "outcome": "ignored",
                               "note": "no organization"}
    assert post_webhook("charge.refunded", {"id": "ch_1", "object": "charge"}, "evt_other").json()["outcome"] == "ignored"


@pytest.mark.postgres
def test_concurrent_deliveries_of_one_event_apply_it_once(transactional_db, postgres_only, billing_on):
    import threading

    from django.db import connection

    from billing.webhooks import stripe_event_apply
    from tests.billing.conftest import event, sign

    org = OrganizationFactory()
    payload = event("checkout.session.completed", _paid_pack(org, 1000), "evt_race")
    outcomes, barrier = [], threading.Barrier(6)

    def deliver():
        barrier.wait()
        try:
            outcomes.append(stripe_event_apply(payload=payload.encode(), signature=sign(payload)).outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["applied"] + ["duplicate"] * 5
    assert CreditTransaction.objects.filter(kind=Kind.PURCHASE).count() == 1
    assert balance(org) == 2000


def _invoice(invoice_id: str, number: str, status: str, *, created: int, amount: int = 4900) -> dict:
    return {"id": invoice_id, "object": "invoice", "number": number, "status": status, "currency": "usd",
            "amount_due": amount, "amount_paid": amount if status == "paid" else 0, "created": created,
            "customer": "cus_test_inv", "hosted_invoice_url": f"https://invoice.stripe.com/i/acct_fake/{invoice_id}",
            "parent": {"subscription_details": {"metadata": {"plan": "pro"}}}, "lines": {"data": []}}


def test_invoice_webhooks_keep_the_invoices_and_the_billing_page_lists_them(
        db, billing_on, post_webhook, make_member, client_for):
    from django.test import Client

    from billing.models import Invoice

    admin = make_member("admin")
    org = admin.memberships.get().organization
    CreditAccount.objects.create(organization=org, stripe_customer_id="cus_test_inv")
    may, june = 1777593600, 1780272000  # 2026-05-01 and 2026-06-01, UTC
    assert post_webhook("invoice.finalized", _invoice("in_may", "FAKE-0001", "open", created=may),
                        "evt_fin_1").json()["note"] == "invoice FAKE-0001 open"
    paid = _invoice("in_may", "FAKE-0001", "paid", created=may)
    assert post_webhook("invoice.paid", paid, "evt_paid_1").json()["note"] == "50000 credits granted for the pro plan"
    # Stripe sends invoice.payment_succeeded for the same payment: the invoice stays paid, granted once.
    assert post_webhook("invoice.payment_succeeded", paid, "evt_paid_2").json()["note"] == (
        "invoice FAKE-0001 was already paid")
    assert post_webhook("invoice.payment_failed", _invoice("in_june", "FAKE-0002", "open", created=june, amount=24900),
                        "evt_fail_1").json()["note"] == "plan free (payment failed)"
    assert list(CreditTransaction.objects.filter(organization=org, kind=Kind.GRANT).values_list("amount", "stripe_event_id")
                ) == [(50000, "evt_paid_1")]
    assert list(Invoice.objects.filter(organization=org).values_list(
        "stripe_id", "number", "status", "payment_failed", "amount_due", "amount_paid", "stripe_event_id")) == [
        ("in_june", "FAKE-0002", "open", True, 24900, 0, "evt_fail_1"),
        ("in_may", "FAKE-0001", "paid", False, 4900, 4900, "evt_paid_2")]

    response = client_for(admin, org).get("/api/billing/invoices")
    assert response.status_code == 200
    assert response.json()["results"] == [
        {"id": "in_june", "number": "FAKE-0002", "created": "2026-06-01T00:00:00Z", "status": "open",
         "payment_failed": True, "currency": "usd", "amount_due": 24900, "amount_paid": 0,
         "hosted_invoice_url": "https://invoice.stripe.com/i/acct_fake/in_june"},
        {"id": "in_may", "number": "FAKE-0001", "created": "2026-05-01T00:00:00Z", "status": "paid",
         "payment_failed": False, "currency": "usd", "amount_due": 4900, "amount_paid": 4900,
         "hosted_invoice_url": "https://invoice.stripe.com/i/acct_fake/in_may"}]
    labeler = make_member("labeler", organization=org)
    assert client_for(labeler, org).get("/api/billing/invoices").status_code == 403
    stranger = make_member("admin")
    assert client_for(stranger, stranger.memberships.get().organization).get(
        "/api/billing/invoices").json()["results"] == []

    browser = Client()
    browser.force_login(admin)
    page = browser.get("/billing/").content.decode()
    table = page[page.index('data-testid="invoices"'):page.index("</table>", page.index('data-testid="invoices"'))]
    assert [" ".join(row.split()) for row in table.split("<tr>")[2:]] == [
        '<td>FAKE-0002</td><td>2026-06-01</td> <td>249.00 USD</td> <td>Open · payment failed</td> '
        '<td><a href="https://invoice.stripe.com/i/acct_fake/in_june" rel="noopener" target="_blank">View on Stripe</a>'
        '</td></tr>',
        '<td>FAKE-0001</td><td>2026-05-01</td> <td>49.00 USD</td> <td>Paid</td> '
        '<td><a href="https://invoice.stripe.com/i/acct_fake/in_may" rel="noopener" target="_blank">View on Stripe</a>'
        '</td></tr> </tbody>']
