"""Credits: an append-only ledger per organization, its cached balance, and the Stripe events applied.

Every credit that moves is a ``CreditTransaction``. ``amount`` changes the organization's available
balance, ``held_change`` the credits reserved for running jobs; ``CreditAccount`` caches both sums
and is updated in the same transaction, under its row lock (``billing.services``). ``CreditHold``
caches what one job still holds (the sum of its transactions' ``held_change``) with the terms of the
hold, so a chunk settles in one statement. ``Invoice`` keeps the Stripe invoices the webhooks report.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class CreditAccount(models.Model):
    """One per organization: the cached sums of its ledger, and its Stripe customer."""

    organization = models.OneToOneField("accounts.Organization", on_delete=models.CASCADE,
                                        related_name="credit_account")
    balance = models.BigIntegerField(default=0)  # credits available: the sum of every transaction's amount
    held = models.BigIntegerField(default=0)  # credits reserved for running jobs: the sum of held_change
    stripe_customer_id = models.CharField(max_length=255, blank=True, db_index=True)
    stripe_subscription_id = models.CharField(max_length=255, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(balance__gte=0), name="credit_balance_not_negative"),
            models.CheckConstraint(condition=models.Q(held__gte=0), name="credit_held_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.organization_id}: {self.balance} credits ({self.held} held)"


class CreditTransaction(models.Model):
    """One movement of credits; never changed or deleted once written."""

    class Kind(models.TextChoices):
        GRANT = "grant", "Grant"  # a plan's monthly credits, or staff granting some
        PURCHASE = "purchase", "Purchase"  # a credit pack paid through Stripe Checkout
        HOLD = "hold", "Hold"  # a job's estimated cost, reserved when it is created
        SETTLE = "settle", "Settle"  # what a chunk used, taken from the job's hold
        RELEASE = "release", "Release"  # what a job will not use (failed items, cancelled), given back
        REFUND = "refund", "Refund"
        ADJUSTMENT = "adjustment", "Adjustment"

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE,
                                     related_name="credit_transactions")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount = models.BigIntegerField()  # change to the available balance
    held_change = models.BigIntegerField(default=0)  # change to the held credits
    balance_after = models.BigIntegerField()
    reason = models.CharField(max_length=300)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    project = models.ForeignKey("projects.Project", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    # Jobs and exports live above billing: plain ids, not foreign keys.
    job_id = models.BigIntegerField(null=True, blank=True)
    export_id = models.BigIntegerField(null=True, blank=True)
    model_name = models.CharField(max_length=200, blank=True)
    items = models.PositiveIntegerField(default=0)  # the items a hold, settle or release is for
    stripe_event_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-created_at"]),
            models.Index(fields=["job_id"], name="credit_tx_job"),
            models.Index(fields=["organization", "kind", "created_at"], name="credit_tx_usage"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount:+d} ({self.reason})"


class CreditHold(models.Model):
    """A job's reserved credits: its price per item, who started it, and what it still holds (the sum of
    the job's ``held_change``). Each chunk's settle draws on it in one statement (``chunk_settle``)."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    job_id = models.BigIntegerField(unique=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    price = models.PositiveIntegerField()  # credits per item, as held
    remaining = models.BigIntegerField()  # credits still held for the job
    # What the latest draw took and gave back: the draw's UPDATE sets them from the row as it was and
    # reads them back with RETURNING (PostgreSQL before 18 returns only the new row).
    last_settled = models.BigIntegerField(default=0)
    last_released = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(remaining__gte=0), name="credit_hold_not_negative")]

    def __str__(self) -> str:
        return f"job {self.job_id}: {self.remaining} credits held"


def _refuse_change(*args, **kwargs):
    raise PermissionError("Credit transactions are append-only.")


_transaction_save = CreditTransaction.save


def _transaction_save_once(self, *args, **kwargs):
    if self.pk is not None:
        _refuse_change()
    return _transaction_save(self, *args, **kwargs)


CreditTransaction.save = _transaction_save_once
CreditTransaction.delete = _refuse_change


class StripeEvent(models.Model):
    """A Stripe webhook event that was applied (or deliberately ignored): its id is applied once."""

    class Outcome(models.TextChoices):
        APPLIED = "applied", "Applied"
        IGNORED = "ignored", "Ignored"

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    organization = models.ForeignKey("accounts.Organization", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    note = models.CharField(max_length=300, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type} ({self.outcome})"


class Invoice(models.Model):
    """A Stripe invoice of an organization, as its last invoice webhook described it (ModelShip keeps
    its own row: dj-stripe's ``Invoice.sync_from_stripe_data`` fetches the customer, subscription and
    charge from Stripe's API first, which a webhook must not depend on)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open"
        PAID = "paid", "Paid"
        UNCOLLECTIBLE = "uncollectible", "Uncollectible"
        VOID = "void", "Void"

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="invoices")
    stripe_id = models.CharField(max_length=255, unique=True)
    number = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices)
    payment_failed = models.BooleanField(default=False)  # the latest attempt to pay it failed
    currency = models.CharField(max_length=3)
    amount_due = models.BigIntegerField()  # in the currency's smallest unit (cents)
    amount_paid = models.BigIntegerField(default=0)
    hosted_invoice_url = models.URLField(max_length=1000, blank=True)
    created = models.DateTimeField()  # when Stripe created it
    stripe_event_id = models.CharField(max_length=255, blank=True)  # the latest event that changed it
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["organization", "-created"], name="invoice_org_created")]

    def __str__(self) -> str:
        return f"{self.number or self.stripe_id} ({self.status})"

    @property
    def amount_display(self) -> str:
        """The amount due as people write it: ``49.00 USD`` (``4900 JPY`` in a zero-decimal currency)."""
        currency = self.currency.upper()
        if self.currency.lower() in ZERO_DECIMAL_CURRENCIES:
            return f"{self.amount_due} {currency}".strip()
        return f"{self.amount_due / 100:.2f} {currency}".strip()


# Stripe's currencies whose amounts are not in cents (https://docs.stripe.com/currencies#zero-decimal).
ZERO_DECIMAL_CURRENCIES = frozenset({"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd",
                                     "vuv", "xaf", "xof", "xpf"})
