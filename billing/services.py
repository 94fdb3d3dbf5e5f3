"""The credit ledger: every change of an organization's credits, and the hooks auto-labelling calls.

Each write locks the organization's ``CreditAccount`` row (``select_for_update``), appends one
``CreditTransaction`` and updates the cached balance in the same transaction, so concurrent debits
serialize on that row and the balance is always the sum of the ledger and never negative.

Jobs: ``job_hold`` reserves a job's estimated cost when it is created (402 with the amount missing
when the balance is short), ``chunk_settle`` takes what each chunk used from the hold and gives back
what its failed items will not use, and ``job_release`` gives back whatever is still held when a
job fails or is cancelled. While billing is off (no Stripe keys) nothing is held or charged.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from rest_framework import status

from accounts.models import AuditEvent, Organization, User
from accounts.plans import PLAN_LIMITS, Plan, limits_enforced
from accounts.services import audit_record
from billing.models import CreditAccount, CreditHold, CreditTransaction
from billing.prices import job_cost, price_per_item
from modelship.exceptions import DomainError
from projects.models import Project

INSUFFICIENT_CREDITS = (
    "Not enough credits: this costs {cost} credits and the organization has {balance} available; "
    "{missing} more are needed."
)
MONTHLY_ITEMS_REACHED = (
    "The {plan} plan auto-labels up to {limit} items a month; {used} were used this month and this job "
    "has {items}. Upgrade the plan on the billing page."
)
OPENING_GRANT = "{plan} plan: the first month's {credits} credits"
MONTHLY_TOP_UP = "{plan} plan: topped up to {credits} credits for {month}"
AMOUNT_NOT_POSITIVE = "The amount must be a positive number of credits."
ADJUSTMENT_ZERO = "An adjustment must change the balance."

Kind = CreditTransaction.Kind


class InsufficientCredits(DomainError):
    status_code = status.HTTP_402_PAYMENT_REQUIRED

    def __init__(self, *, cost: int, balance: int):
        self.cost, self.balance, self.missing = cost, balance, cost - balance
        super().__init__(INSUFFICIENT_CREDITS.format(cost=cost, balance=balance, missing=self.missing),
                         extra={"cost": cost, "balance": balance, "missing": self.missing})


def billing_enabled() -> bool:
    return bool(settings.BILLING_ENABLED)


def _account_locked(organization_id: int) -> CreditAccount:
    """The organization's account, row-locked until the transaction ends. Opened on first use; while
    billing is on, opening it grants the plan's first month of credits."""
    account = CreditAccount.objects.select_for_update().filter(organization_id=organization_id).first()
    if account is None:
        _, created = CreditAccount.objects.get_or_create(organization_id=organization_id)
        account = CreditAccount.objects.select_for_update().get(organization_id=organization_id)
        if created and billing_enabled():
            plan = Organization.objects.values_list("plan", flat=True).get(pk=organization_id)
            credits = PLAN_LIMITS[plan].monthly_credits
            _post(organization_id=organization_id, kind=Kind.GRANT, amount=credits, account=account,
                  reason=OPENING_GRANT.format(plan=Plan(plan).label, credits=credits))
    return account


@transaction.atomic
def account_open(*, organization_id: int) -> CreditAccount:
    """The organization's credit account (opened with its first grant if it had none), row-locked."""
    return _account_locked(organization_id)


def _entry(*, organization_id: int, kind: str, amount: int, reason: str, held_change: int = 0,
           actor: User | None = None, actor_id: int | None = None, project_id: int | None = None,
           job_id: int | None = None, export_id: int | None = None, model_name: str = "", items: int = 0,
           stripe_event_id: str = "") -> CreditTransaction:
    return CreditTransaction(
        organization_id=organization_id, kind=kind, amount=amount, held_change=held_change, reason=reason[:300],
        actor_id=actor.pk if actor is not None and actor.is_authenticated else actor_id, project_id=project_id,
        job_id=job_id, export_id=export_id, model_name=model_name, items=items, stripe_event_id=stripe_event_id,
    )


def _apply(account: CreditAccount, entries: list[CreditTransaction]) -> list[CreditTransaction]:
    """Append ``entries`` (one INSERT) and move the account's cached sums with them (one UPDATE); the
    caller holds the transaction and the account's row lock. 402 if the balance would go below zero."""
    balance, held = account.balance, account.held
    for entry in entries:
        if balance + entry.amount < 0:
            raise InsufficientCredits(cost=-entry.amount, balance=balance)
        balance, held = balance + entry.amount, held + entry.held_change
        entry.balance_after = balance
    rows = CreditTransaction.objects.bulk_create(entries)
    CreditAccount.objects.filter(pk=account.pk).update(balance=balance, held=held, updated_at=timezone.now())
    account.balance, account.held = balance, held
    return rows


def _post(*, account: CreditAccount | None = None, **fields) -> CreditTransaction:
    """Append one transaction (see ``_apply``), locking the account first unless the caller did."""
    if account is None:
        account = _account_locked(fields["organization_id"])
    return _apply(account, [_entry(**fields)])[0]


# --- credits in: grants, purchases, refunds, adjustments ------------------------------------------

@transaction.atomic
def credits_grant(*, organization: Organization, amount: int, reason: str, actor: User | None = None,
                  kind: str = Kind.GRANT, stripe_event_id: str = "") -> CreditTransaction:
    """Add credits (a plan's monthly grant, a purchased pack, a refund, or staff granting some); audited."""
    if amount <= 0:
        raise DomainError(AMOUNT_NOT_POSITIVE, field="amount")
    row = _post(organization_id=organization.pk, kind=kind, amount=amount, reason=reason, actor=actor,
                stripe_event_id=stripe_event_id)
    audit_record(actor=actor, organization=organization, action=AuditEvent.Action(f"credits.{kind}"), target=row,
                 metadata={"amount": amount, "reason": reason, "balance": row.balance_after,
                           **({"stripe_event": stripe_event_id} if stripe_event_id else {})})
    return row


@transaction.atomic
def credits_adjust(*, organization: Organization, amount: int, reason: str, actor: User) -> CreditTransaction:
    """A correction by staff, up or down (never below zero); audited."""
    if amount == 0:
        raise DomainError(ADJUSTMENT_ZERO, field="amount")
    row = _post(organization_id=organization.pk, kind=Kind.ADJUSTMENT, amount=amount, reason=reason, actor=actor)
    audit_record(actor=actor, organization=organization, action=AuditEvent.Action.CREDITS_ADJUSTMENT, target=row,
                 metadata={"amount": amount, "reason": reason, "balance": row.balance_after})
    return row


# --- credits out ------------------------------------------------------------------------------------

@transaction.atomic
def credits_spend(*, organization_id: int, credits: int, reason: str, items: int = 0, model_name: str = "",
                  project_id: int | None = None, actor: User | None = None) -> CreditTransaction:
    """Take ``credits`` from the balance at once (work that is not a job); 402 when the balance is short."""
    if credits <= 0:
        raise DomainError(AMOUNT_NOT_POSITIVE, field="credits")
    entry = _entry(organization_id=organization_id, kind=Kind.SETTLE, amount=-credits, reason=reason, items=items,
                   model_name=model_name, project_id=project_id, actor=actor)
    if connection.vendor == "postgresql" and _debit(entry):
        return entry
    return _apply(_account_locked(organization_id), [entry])[0]  # no account yet, or the balance is short: 402


# A debit as one statement: take the credits if the balance covers them and append the row. The
# account's row lock is held from here to the commit, not across a read and two writes.
_DEBIT_POSTGRESQL = """
    WITH account AS (
        UPDATE billing_creditaccount SET balance = balance + %(amount)s, updated_at = %(now)s
        WHERE organization_id = %(organization)s AND balance + %(amount)s >= 0
        RETURNING balance
    )
    INSERT INTO billing_credittransaction (organization_id, kind, amount, held_change, balance_after, reason, actor_id,
                                           project_id, job_id, export_id, model_name, items, stripe_event_id,
                                           created_at)
    SELECT %(organization)s, %(kind)s, %(amount)s, 0, account.balance, %(reason)s, %(actor)s, %(project)s, NULL, NULL,
           %(model)s, %(items)s, '', %(now)s
    FROM account
    RETURNING id, balance_after"""


def _debit(entry: CreditTransaction) -> bool:
    """Append ``entry`` (a debit) in one statement; False when the account is missing or short (nothing written)."""
    entry.created_at = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_DEBIT_POSTGRESQL, {
            "organization": entry.organization_id, "kind": entry.kind, "amount": entry.amount, "reason": entry.reason,
            "actor": entry.actor_id, "project": entry.project_id, "model": entry.model_name, "items": entry.items,
            "now": entry.created_at})
        row = cursor.fetchone()
    if row is None:
        return False
    entry.pk, entry.balance_after = row
    entry._state.adding, entry._state.db = False, connection.alias
    return True


@transaction.atomic
def free_plan_top_up(*, organization_id: int) -> CreditTransaction | None:
    """Once a calendar month, bring a free-plan organization back up to its monthly credits (paid plans
    get theirs when Stripe reports the invoice paid). A second call in the same month does nothing."""
    if not billing_enabled():
        return None
    account = _account_locked(organization_id)
    plan = Organization.objects.values_list("plan", flat=True).get(pk=organization_id)
    month_start = _month_start()
    if plan != Plan.FREE or CreditTransaction.objects.filter(
            organization_id=organization_id, kind=Kind.GRANT, actor__isnull=True, stripe_event_id="",
            created_at__gte=month_start).exists():
        return None
    credits = PLAN_LIMITS[plan].monthly_credits
    if account.balance >= credits:
        return None
    return _post(organization_id=organization_id, kind=Kind.GRANT, amount=credits - account.balance, account=account,
                 reason=MONTHLY_TOP_UP.format(plan=Plan(plan).label, credits=credits, month=month_start.strftime("%Y-%m")))


def free_plan_top_up_all() -> int:
    """``free_plan_top_up`` for every free-plan organization with a credit account; how many were topped up."""
    ids = CreditAccount.objects.filter(organization__plan=Plan.FREE).values_list("organization_id", flat=True)
    return sum(1 for organization_id in list(ids) if free_plan_top_up(organization_id=organization_id) is not None)


def _month_start():
    return timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _monthly_items_check(*, organization: Organization, items: int) -> None:
    limit = PLAN_LIMITS[organization.plan].items_per_month
    if limit is None or not limits_enforced():
        return
    rows = CreditTransaction.objects.filter(organization=organization, created_at__gte=_month_start())
    sums = rows.aggregate(held=Sum("items", filter=Q(kind=Kind.HOLD)), released=Sum("items", filter=Q(kind=Kind.RELEASE)))
    used = (sums["held"] or 0) - (sums["released"] or 0)
    if used + items > limit:
        raise DomainError(MONTHLY_ITEMS_REACHED.format(plan=Plan(organization.plan).label, limit=limit, used=used,
                                                       items=items),
                          status_code=status.HTTP_403_FORBIDDEN, extra={"limit": limit, "used": used})


def job_hold(*, project: Project, job_id: int, model_name: str, items: int,
             actor: User | None = None) -> CreditTransaction | None:
    """Reserve a new job's cost (call it inside the job's creating transaction, so a refusal leaves
    nothing behind): 402 with the credits missing when the balance is short. None while billing is off."""
    if not billing_enabled():
        return None
    price = price_per_item(model_name=model_name, item_kind=project.item_kind)
    cost = items * price
    organization = project.organization
    account = _account_locked(organization.pk)
    _monthly_items_check(organization=organization, items=items)
    if cost == 0:
        return None
    row = _post(organization_id=organization.pk, kind=Kind.HOLD, amount=-cost, held_change=cost, account=account,
                reason=f"job {job_id}: {items} items with {model_name}", actor=actor, project_id=project.pk,
                job_id=job_id, model_name=model_name, items=items)
    CreditHold.objects.create(organization_id=organization.pk, job_id=job_id, actor_id=row.actor_id, price=price,
                              remaining=cost)
    return row


def job_affordable_check(*, project: Project, model_name: str, items: int) -> None:
    """Refuse, before any work, a job of ``items`` items that ``job_hold`` would refuse: 402 with the
    credits missing, 403 past the plan's items per month. Writes nothing but a first account opening;
    ``job_hold`` checks again under the account's lock."""
    if not billing_enabled():
        return
    cost = job_cost(project=project, model_name=model_name, items=items)
    balance = CreditAccount.objects.filter(organization_id=project.organization_id).values_list(
        "balance", flat=True).first()
    if balance is None:
        balance = account_open(organization_id=project.organization_id).balance
    _monthly_items_check(organization=project.organization, items=items)
    if cost > balance:
        raise InsufficientCredits(cost=cost, balance=balance)


# A draw on a job's hold, as one statement on PostgreSQL: take ``used`` items' credits (capped by what
# is still held) and give back ``failed`` items' (capped by the rest; NULL: all of it) from the job's
# ``CreditHold``, move the account's cached sums by as much, and append the settle and release rows.
# The account's row lock is taken here and held only until the caller's transaction commits.
_DRAW_HOLD = """
    UPDATE billing_credithold
    SET last_settled = LEAST(%(used)s * price, remaining),
        last_released = LEAST(COALESCE(%(failed)s * price, remaining), remaining - LEAST(%(used)s * price, remaining)),
        remaining = remaining - LEAST(%(used)s * price, remaining)
                    - LEAST(COALESCE(%(failed)s * price, remaining), remaining - LEAST(%(used)s * price, remaining))
    WHERE job_id = %(job)s AND remaining > 0
    RETURNING organization_id, actor_id, price, last_settled, last_released"""
_DRAW_ACCOUNT = """
    UPDATE billing_creditaccount
    SET balance = balance + %(released)s, held = held - %(settled)s - %(released)s, updated_at = %(now)s
    WHERE organization_id = %(organization)s
    RETURNING balance"""
_DRAW_POSTGRESQL = f"""
    WITH hold AS ({_DRAW_HOLD}),
    account AS (
        UPDATE billing_creditaccount AS a
        SET balance = a.balance + hold.last_released, held = a.held - hold.last_settled - hold.last_released,
            updated_at = %(now)s
        FROM hold WHERE a.organization_id = hold.organization_id
        RETURNING a.balance
    )
    INSERT INTO billing_credittransaction (organization_id, kind, amount, held_change, balance_after, reason, actor_id,
                                           project_id, job_id, model_name, items, stripe_event_id, created_at)
    SELECT hold.organization_id, entry.kind, entry.amount, entry.held_change, entry.balance_after, entry.reason,
           CASE WHEN %(with_actor)s THEN hold.actor_id END, %(project)s, %(job)s, %(model)s, entry.items, '', %(now)s
    FROM hold, account, LATERAL (VALUES
        (1, 'settle', 0, -hold.last_settled, account.balance - hold.last_released, %(settle_reason)s,
         %(used)s),
        (2, 'release', hold.last_released, -hold.last_released, account.balance, %(release_reason)s,
         COALESCE(%(failed)s, hold.last_released / hold.price))
    ) AS entry(n, kind, amount, held_change, balance_after, reason, items)
    WHERE entry.held_change <> 0
    ORDER BY entry.n"""


def _hold_draw(*, organization_id: int, job_id: int, used_items: int, failed_items: int | None,
               settle_reason: str, release_reason: str, project_id: int | None = None, model_name: str = "",
               with_actor: bool = True) -> None:
    """Settle ``used_items`` and release ``failed_items`` (None: everything still held) of a job's hold;
    nothing when the job holds nothing. The caller holds the transaction."""
    params: dict[str, Any] = {
        "job": job_id, "used": used_items, "failed": failed_items, "now": timezone.now(), "project": project_id,
        "model": model_name, "settle_reason": settle_reason[:300], "release_reason": release_reason[:300],
        "with_actor": with_actor,
    }
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_DRAW_POSTGRESQL, params)
            return
        # Elsewhere (SQLite, whose LEAST is MIN) the same three writes, one statement each.
        cursor.execute(_DRAW_HOLD.replace("LEAST(", "MIN("), params)
        hold = cursor.fetchone()
        if hold is None:
            return
        _, actor_id, price, settled, released = hold
        cursor.execute(_DRAW_ACCOUNT, {**params, "organization": organization_id, "settled": settled,
                                       "released": released})
        (balance,) = cursor.fetchone()
    common: dict[str, Any] = {"organization_id": organization_id, "actor_id": actor_id if with_actor else None,
                              "project_id": project_id, "job_id": job_id, "model_name": model_name}
    rows = []
    if settled:
        rows.append(_entry(kind=Kind.SETTLE, amount=0, held_change=-settled, items=used_items, reason=settle_reason,
                           **common))
        rows[-1].balance_after = balance - released
    if released:
        rows.append(_entry(kind=Kind.RELEASE, amount=released, held_change=-released, reason=release_reason,
                           items=failed_items if failed_items is not None else released // price, **common))
        rows[-1].balance_after = balance
    CreditTransaction.objects.bulk_create(rows)


def chunk_settle(*, organization_id: int, project_id: int, job_id: int, model_name: str, used_items: int,
                 failed_items: int) -> None:
    """A chunk finished: charge its classified items from the job's hold and give back what its failed
    items held. Call it once per chunk, last in the transaction that counts the chunk: one statement on
    PostgreSQL, no read before it. A job without a hold (billing off, a re-score) changes nothing; work
    done after a cancel is not charged."""
    _hold_draw(organization_id=organization_id, job_id=job_id, used_items=used_items, failed_items=failed_items,
               project_id=project_id, model_name=model_name,
               settle_reason=f"job {job_id}: {used_items} items classified",
               release_reason=f"job {job_id}: {failed_items} items failed")


@transaction.atomic
def job_release(*, organization_id: int, job_id: int, reason: str) -> None:
    """Give back every credit still held for a job (it failed or was cancelled)."""
    _hold_draw(organization_id=organization_id, job_id=job_id, used_items=0, failed_items=None,
               settle_reason="", release_reason=f"job {job_id}: {reason}", with_actor=False)


def estimate(*, project: Project, model_name: str, items: int) -> dict:
    """What a job would cost and whether the organization can pay for it now."""
    price = price_per_item(model_name=model_name, item_kind=project.item_kind)
    cost = items * price
    enabled = billing_enabled()
    balance = CreditAccount.objects.filter(organization_id=project.organization_id).values_list(
        "balance", flat=True).first()
    if balance is None:  # never used: opening the account grants the plan's first month
        balance = account_open(organization_id=project.organization_id).balance if enabled else 0
    return {"billing_enabled": enabled, "model": model_name, "items": items, "price_per_item": price,
            "cost": cost if enabled else 0, "balance": balance if enabled else None,
            "missing": max(0, cost - balance) if enabled else 0}
