"""Buying through Stripe Checkout: a session for a plan's subscription or for a credit pack.

Stripe's servers are reached with the organization's Stripe customer (created on first purchase and
mirrored into dj-stripe's tables). Any failure to reach Stripe is a 503 that says so, never a 500.
"""

from __future__ import annotations

from dataclasses import dataclass

import stripe
from django.conf import settings
from django.db import transaction
from rest_framework import status

from accounts.models import Organization, User
from accounts.plans import Plan
from accounts.services import audit_record
from billing.models import CreditAccount
from billing.services import account_open, billing_enabled
from modelship.exceptions import DomainError

BILLING_OFF = "Billing is off on this server (no Stripe keys are set): credits are unlimited and there is nothing to buy."
CHOOSE_ONE = "Choose either a plan or a credit pack."
PLAN_NOT_FOR_SALE = "The {plan!r} plan cannot be bought here; choose one of: {plans}."
PACK_UNKNOWN = "There is no pack of {credits} credits; choose one of: {packs}."
STRIPE_UNREACHABLE = "Stripe cannot be reached right now ({reason}); nothing was charged. Try again later."
STRIPE_REFUSED = "Stripe refused the request: {reason}"


class StripeUnavailable(DomainError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str


def stripe_call(function, /, **params):
    """Call the Stripe API with the configured key, base and timeout; its failures become a 503."""
    if settings.STRIPE_API_BASE:
        stripe.api_base = settings.STRIPE_API_BASE
    stripe.default_http_client = _http_client()
    try:
        return function(api_key=settings.STRIPE_SECRET_KEY, **params)
    except stripe.APIConnectionError as exc:
        raise StripeUnavailable(STRIPE_UNREACHABLE.format(reason=type(exc).__name__)) from exc
    except stripe.StripeError as exc:
        raise StripeUnavailable(STRIPE_REFUSED.format(reason=exc.user_message or str(exc) or type(exc).__name__)) from exc


_client_cache: dict[float, stripe.HTTPClient] = {}


def _http_client() -> stripe.HTTPClient:
    timeout = settings.STRIPE_TIMEOUT_SECONDS
    if timeout not in _client_cache:
        _client_cache[timeout] = stripe.RequestsClient(timeout=timeout)
    return _client_cache[timeout]


def plans_for_sale() -> dict[str, str]:
    """Plan → Stripe price id, for the plans whose price is configured."""
    return {plan: price for plan, price in settings.STRIPE_PLAN_PRICES.items() if price and plan != Plan.FREE}


def customer_ensure(*, organization: Organization) -> str:
    """The organization's Stripe customer id, created (and mirrored by dj-stripe) on first use."""
    account = account_open(organization_id=organization.pk)
    if account.stripe_customer_id:
        return account.stripe_customer_id
    customer = stripe_call(stripe.Customer.create, name=organization.name,
                           metadata={"organization": str(organization.pk)})
    _mirror_customer(customer)
    CreditAccount.objects.filter(pk=account.pk, stripe_customer_id="").update(stripe_customer_id=customer["id"])
    return CreditAccount.objects.values_list("stripe_customer_id", flat=True).get(pk=account.pk)


def _mirror_customer(customer) -> None:
    from djstripe.exceptions import InvalidStripeAPIKey
    from djstripe.models import Customer

    try:
        Customer.sync_from_stripe_data(customer, api_key=settings.STRIPE_SECRET_KEY)
    except InvalidStripeAPIKey as exc:
        raise StripeUnavailable(STRIPE_REFUSED.format(reason=str(exc))) from exc
    except stripe.StripeError as exc:
        raise StripeUnavailable(STRIPE_UNREACHABLE.format(reason=type(exc).__name__)) from exc


def checkout_session_create(*, organization: Organization, actor: User, success_url: str, cancel_url: str,
                            plan: str | None = None, credits: int | None = None) -> CheckoutSession:
    """A Stripe Checkout session: a subscription to ``plan``, or a one-off pack of ``credits``."""
    if not billing_enabled():
        raise DomainError(BILLING_OFF, status_code=status.HTTP_409_CONFLICT)
    if (plan is None) == (credits is None):
        raise DomainError(CHOOSE_ONE)
    if plan is not None:
        prices = plans_for_sale()
        if plan not in prices:
            raise DomainError(PLAN_NOT_FOR_SALE.format(plan=plan, plans=", ".join(prices) or "none"), field="plan")
        mode, price = "subscription", prices[plan]
        metadata = {"organization": str(organization.pk), "kind": "plan", "plan": plan}
        extra = {"subscription_data": {"metadata": metadata}}
    else:
        packs = settings.STRIPE_CREDIT_PACKS
        if credits not in packs:
            listed = ", ".join(str(n) for n in sorted(packs)) or "none"
            raise DomainError(PACK_UNKNOWN.format(credits=credits, packs=listed), field="credits")
        mode, price = "payment", packs[credits]
        metadata = {"organization": str(organization.pk), "kind": "credits", "credits": str(credits)}
        extra = {}
    customer = customer_ensure(organization=organization)
    session = stripe_call(
        stripe.checkout.Session.create, mode=mode, customer=customer, client_reference_id=str(organization.pk),
        line_items=[{"price": price, "quantity": 1}], metadata=metadata, success_url=success_url,
        cancel_url=cancel_url, **extra,
    )
    with transaction.atomic():
        audit_record(actor=actor, organization=organization, action="billing.checkout_started",
                     target_type="stripe.checkout.session", target_id=session["id"], metadata=metadata)
    return CheckoutSession(id=session["id"], url=session["url"])
