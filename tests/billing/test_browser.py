"""The billing page in real Chromium: buy a credit pack through (fake) Stripe Checkout and see it arrive."""

import pytest

from tests.billing.conftest import event, sign
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_buys_credits_through_checkout_and_sees_them_on_the_billing_page(
        live_server, page, billing_on, make_member, api, artifacts_dir):
    admin = make_member("admin")
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", admin.email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.click("text=Billing")
    assert page.locator("[data-testid=balance]").inner_text() == "1000"
    page.click("text=Buy 1000 credits")
    page.wait_for_url(f"{billing_on.url}/pay/**")
    session_id = page.url.rsplit("/", 1)[-1]
    page.click("#pay")  # Stripe sends the buyer back, and its webhook follows
    page.wait_for_selector("[data-testid=checkout-success]")
    session = {**billing_on.objects[session_id], "payment_status": "paid", "status": "complete"}
    payload = event("checkout.session.completed", session, "evt_browser_1")
    response = api.post("/api/billing/webhook", data=payload, content_type="application/json",
                        HTTP_STRIPE_SIGNATURE=sign(payload))
    assert response.json()["outcome"] == "applied"
    page.reload()
    assert page.locator("[data-testid=balance]").inner_text() == "2000"
    assert "credit pack of 1000" in page.locator("[data-testid=transactions]").inner_text()
    page.screenshot(path=str(artifacts_dir / "billing-page.png"), full_page=True)
