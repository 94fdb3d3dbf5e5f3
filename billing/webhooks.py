"""Stripe webhooks: verify the signature (Stripe's scheme, ``stripe.Webhook.construct_event``) and apply
each event exactly once.

Why not dj-stripe's webhook view: it needs a ``WebhookEndpoint`` row per URL, stores every request
(forged ones too) and re-syncs each object from Stripe's API before anything else can happen. Here a
request whose signature does not verify changes nothing, and the event's id is inserted into
``StripeEvent`` (unique) in the same transaction as the credits and plan it changes: a retried or
concurrent duplicate finds the id taken and is a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from rest_framework import status

from accounts.models import Organization
from accounts.plans import PLAN_LIMITS, Plan
from accounts.services import audit_record, organization_plan_change
from billing.models import CreditAccount, CreditTransaction, StripeEvent
from billing.services import account_open, credits_grant
from modelship.exceptions import DomainError

WEBHOOK_NOT_CONFIGURED = "Stripe webhooks are not configured on this server (STRIPE_WEBHOOK_SECRET is not set)."
SIGNATURE_INVALID = "The Stripe signature does not verify; nothing was changed."

ACTIVE_STATUSES = {"active", "trialing"}
ENDED_STATUSES = {"canceled", "unpaid", "incomplete_expired"}


@dataclass(frozen=True)
class WebhookResult:
    event_id: str
    type: str
    outcome: str  # applied, ignored or duplicate
    note: str = ""


def event_verify(*, payload: bytes, signature: str) -> dict:
    """The event in ``payload`` if ``signature`` (the Stripe-Signature header) verifies; 400 otherwise."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise DomainError(WEBHOOK_NOT_CONFIGURED, status_code=status.HTTP_503_SERVICE_UNAVAILABLE)
    try:
        event = stripe.Webhook.construct_event(payload.decode("utf-8"), signature, secret)
    except (ValueError, UnicodeDecodeError, stripe.SignatureVerificationError):
        raise DomainError(SIGNATURE_INVALID) from None
    return event.to_dict()


def stripe_event_apply(*, payload: bytes, signature: str) -> WebhookResult:
    """Verify and apply one webhook delivery; a delivery of an event already applied changes nothing."""
    event = event_verify(payload=payload, signature=signature)
    event_id, kind = event["id"], event["type"]
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = StripeEvent.objects.create(event_id=event_id, type=kind, outcome=StripeEvent.Outcome.APPLIED)
        except IntegrityError:
            return WebhookResult(event_id, kind, "duplicate")
        handler = HANDLERS.get(kind)
        obj = event["data"]["object"]
        organization = _organization_of(obj)
        if handler is None or organization is None:
            note = "no organization" if handler is not None else "not an event ModelShip uses"
            outcome = StripeEvent.Outcome.IGNORED
        else:
            note = handler(organization=organization, obj=obj, event_id=event_id)
            outcome = StripeEvent.Outcome.APPLIED if note else StripeEvent.Outcome.IGNORED
        StripeEvent.objects.filter(pk=record.pk).update(outcome=outcome, note=(note or "")[:300],
                                                        organization=organization)
    return WebhookResult(event_id, kind, outcome, note or "")


def _organization_of(obj: dict) -> Organization | None:
    """The organization an object is for: its metadata, else its Stripe customer."""
    metadata = obj.get("metadata") or {}
    for holder in (metadata, _subscription_metadata(obj)):
        org_id = holder.get("organization")
        if org_id and str(org_id).isdigit():
            found = Organization.objects.filter(pk=int(org_id)).first()
            if found is not None:
                return found
    customer = obj.get("customer") if obj.get("object") != "customer" else obj.get("id")
    if isinstance(customer, dict):
        customer = customer.get("id")
    if customer:
        return Organization.objects.filter(credit_account__stripe_customer_id=customer).first()
    return None


def _subscription_metadata(obj: dict) -> dict:
    """An invoice's subscription metadata, where the API version at hand puts it."""
    parent = (obj.get("parent") or {}).get("subscription_details") or {}
    return parent.get("metadata") or (obj.get("subscription_details") or {}).get("metadata") or {}


def _plan_of(obj: dict) -> str | None:
    plan = (obj.get("metadata") or {}).get("plan") or _subscription_metadata(obj).get("plan")
    if plan in Plan.values:
        return plan
    by_price = {price: name for name, price in settings.STRIPE_PLAN_PRICES.items() if price}
    for item in ((obj.get("items") or obj.get("lines") or {}).get("data") or []):
        price = item.get("price") or ((item.get("pricing") or {}).get("price_details") or {}).get("price")
        price_id = price.get("id") if isinstance(price, dict) else price
        if price_id in by_price:
            return by_price[price_id]
    return None


def _ids_keep(*, organization: Organization, customer: str | None, subscription: str | None = None) -> None:
    account = account_open(organization_id=organization.pk)
    changes = {}
    if customer and not account.stripe_customer_id:
        changes["stripe_customer_id"] = customer
    if subscription is not None:
        changes["stripe_subscription_id"] = subscription
    if changes:
        CreditAccount.objects.filter(pk=account.pk).update(**changes)


def _checkout_completed(*, organization: Organization, obj: dict, event_id: str) -> str:
    metadata = obj.get("metadata") or {}
    _ids_keep(organization=organization, customer=obj.get("customer"),
              subscription=obj.get("subscription") if obj.get("mode") == "subscription" else None)
    if metadata.get("kind") != "credits":
        return "subscription checkout completed"
    if obj.get("payment_status") != "paid":
        return ""
    credits = int(metadata["credits"])
    credits_grant(organization=organization, amount=credits, kind=CreditTransaction.Kind.PURCHASE,
                  reason=f"credit pack of {credits} (Checkout {obj['id']})", stripe_event_id=event_id)
    return f"{credits} credits purchased"


def _subscription_changed(*, organization: Organization, obj: dict, event_id: str) -> str:
    _ids_keep(organization=organization, customer=obj.get("customer"), subscription=obj["id"])
    status_ = obj.get("status")
    if status_ in ACTIVE_STATUSES:
        plan = _plan_of(obj)
        if plan is None:
            return ""
    elif status_ in ENDED_STATUSES:
        plan = Plan.FREE
    else:
        return ""
    changed = organization_plan_change(organization=organization, plan=plan,
                                       reason=f"Stripe subscription {obj['id']} is {status_}")
    return f"plan {plan}" if changed else f"plan stays {plan}"


def _subscription_deleted(*, organization: Organization, obj: dict, event_id: str) -> str:
    _ids_keep(organization=organization, customer=obj.get("customer"), subscription="")
    organization_plan_change(organization=organization, plan=Plan.FREE,
                             reason=f"Stripe subscription {obj['id']} was cancelled")
    return "plan free (subscription cancelled)"


def _invoice_paid(*, organization: Organization, obj: dict, event_id: str) -> str:
    plan = _plan_of(obj) or organization.plan
    if plan == Plan.FREE:
        return ""
    organization_plan_change(organization=organization, plan=plan, reason=f"Stripe invoice {obj['id']} was paid")
    credits = PLAN_LIMITS[plan].monthly_credits
    credits_grant(organization=organization, amount=credits, kind=CreditTransaction.Kind.GRANT,
                  reason=f"{Plan(plan).label} plan: monthly credits (invoice {obj['id']})", stripe_event_id=event_id)
    return f"{credits} credits granted for the {plan} plan"


def _invoice_failed(*, organization: Organization, obj: dict, event_id: str) -> str:
    changed = organization_plan_change(organization=organization, plan=Plan.FREE,
                                       reason=f"Stripe invoice {obj['id']} payment failed")
    audit_record(actor=None, organization=organization, action="billing.payment_failed",
                 target_type="stripe.invoice", target_id=obj["id"], metadata={"event": event_id})
    return "plan free (payment failed)" if changed else "payment failed"


HANDLERS = {
    "checkout.session.completed": _checkout_completed,
    "customer.subscription.created": _subscription_changed,
    "customer.subscription.updated": _subscription_changed,
    "customer.subscription.deleted": _subscription_deleted,
    "invoice.payment_succeeded": _invoice_paid,
    "invoice.payment_failed": _invoice_failed,
}
