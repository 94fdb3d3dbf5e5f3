"""Stripe webhooks: verify the signature (Stripe's scheme, ``stripe.Webhook.construct_event``) and apply
each event exactly once.

Why not dj-stripe's webhook view: it needs a ``WebhookEndpoint`` row per URL, stores every request
(forged ones too) and re-syncs each object from Stripe's API before anything else can happen. Here a
request whose signature does not verify changes nothing, and the event's id is inserted into
``StripeEvent`` (unique) in the same transaction as the credits and plan it changes: a retried or
concurrent duplicate finds the id taken and is a no-op. Invoice events keep the organization's
invoices (``billing.Invoice``) for its billing page; a paid invoice grants its plan's credits once,
whichever of ``invoice.paid`` and ``invoice.payment_succeeded`` comes first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import status

from accounts.models import AuditEvent, Organization
from accounts.plans import PLAN_LIMITS, Plan
from accounts.services import audit_record, organization_plan_change
from billing.models import CreditAccount, CreditTransaction, Invoice, StripeEvent
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


def _invoice_record(*, organization: Organization, obj: dict, event_id: str, status_: str | None = None,
                    payment_failed: bool | None = None) -> tuple[Invoice, bool]:
    """Keep the invoice as ``obj`` describes it (``status_`` when the event says more than the object);
    the row and whether it was already paid before this event. A paid invoice stays paid."""
    invoice = Invoice.objects.select_for_update().filter(stripe_id=obj["id"]).first()
    was_paid = invoice is not None and invoice.status == Invoice.Status.PAID
    created = obj.get("created")
    fields = {
        "organization": organization,
        "number": (obj.get("number") or "")[:100],
        "status": Invoice.Status.PAID if was_paid else (status_ or obj.get("status") or Invoice.Status.OPEN),
        "currency": (obj.get("currency") or "")[:3],
        "amount_due": int(obj.get("amount_due") or obj.get("total") or 0),
        "amount_paid": int(obj.get("amount_paid") or 0),
        "hosted_invoice_url": (obj.get("hosted_invoice_url") or "")[:1000],
        "created": datetime.fromtimestamp(created, tz=UTC) if isinstance(created, int) else timezone.now(),
        "stripe_event_id": event_id,
    }
    if payment_failed is not None:
        fields["payment_failed"] = payment_failed
    if invoice is None:
        try:
            with transaction.atomic():
                return Invoice.objects.create(stripe_id=obj["id"], **fields), False
        except IntegrityError:  # a concurrent event about the same invoice made it: update that row
            invoice = Invoice.objects.select_for_update().get(stripe_id=obj["id"])
            was_paid = invoice.status == Invoice.Status.PAID
            fields["status"] = Invoice.Status.PAID if was_paid else fields["status"]
    for name, value in fields.items():
        setattr(invoice, name, value)
    invoice.save()
    return invoice, was_paid


def _invoice_paid(*, organization: Organization, obj: dict, event_id: str) -> str:
    """``invoice.paid`` and ``invoice.payment_succeeded`` (Stripe sends both for one payment): the
    invoice is kept as paid, and the plan's monthly credits are granted once per invoice."""
    invoice, was_paid = _invoice_record(organization=organization, obj=obj, event_id=event_id,
                                        status_=Invoice.Status.PAID, payment_failed=False)
    if was_paid:
        return f"invoice {invoice.number or invoice.stripe_id} was already paid"
    plan = _plan_of(obj) or organization.plan
    if plan == Plan.FREE:
        return f"invoice {invoice.number or invoice.stripe_id} paid"
    organization_plan_change(organization=organization, plan=plan, reason=f"Stripe invoice {obj['id']} was paid")
    credits = PLAN_LIMITS[plan].monthly_credits
    credits_grant(organization=organization, amount=credits, kind=CreditTransaction.Kind.GRANT,
                  reason=f"{Plan(plan).label} plan: monthly credits (invoice {obj['id']})", stripe_event_id=event_id)
    return f"{credits} credits granted for the {plan} plan"


def _invoice_failed(*, organization: Organization, obj: dict, event_id: str) -> str:
    _invoice_record(organization=organization, obj=obj, event_id=event_id, payment_failed=True)
    changed = organization_plan_change(organization=organization, plan=Plan.FREE,
                                       reason=f"Stripe invoice {obj['id']} payment failed")
    audit_record(actor=None, organization=organization, action=AuditEvent.Action.BILLING_PAYMENT_FAILED,
                 target_type="stripe.invoice", target_id=obj["id"], metadata={"event": event_id})
    return "plan free (payment failed)" if changed else "payment failed"


def _invoice_changed(*, organization: Organization, obj: dict, event_id: str) -> str:
    """An invoice was finalized, voided or marked uncollectible: kept for the billing page."""
    invoice, _ = _invoice_record(organization=organization, obj=obj, event_id=event_id)
    return f"invoice {invoice.number or invoice.stripe_id} {invoice.status}"


HANDLERS = {
    "checkout.session.completed": _checkout_completed,
    "customer.subscription.created": _subscription_changed,
    "customer.subscription.updated": _subscription_changed,
    "customer.subscription.deleted": _subscription_deleted,
    "invoice.paid": _invoice_paid,
    "invoice.payment_succeeded": _invoice_paid,
    "invoice.payment_failed": _invoice_failed,
    "invoice.finalized": _invoice_changed,
    "invoice.voided": _invoice_changed,
    "invoice.marked_uncollectible": _invoice_changed,
}
