"""Writes for review: leasing the queue, decisions (one or a batch, all or nothing), undo, gold, settings.

Every decision is validated against the project's current label schema with
``projects.schemas.labels_validate``. A final decision stores the label on the item (apart from
its prediction) and writes a ``HumanLabel``; after commit ``labels_added`` counts those labels
towards the next round of learning.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import AuditEvent
from accounts.services import audit_record, audit_record_many
from labeling import lifecycle
from labeling.lifecycle import labels_added
from labeling.models import HumanLabel, Item
from modelship.exceptions import DomainError, NotFound
from projects.models import LabelSchema, Project, ProjectRole
from projects.schemas import labels_validate
from projects.selectors import NO_SCHEMA, schema_current
from review import selectors
from review.metrics import majority
from review.models import ReviewDecision

LEASED_TO_ANOTHER = "This item is leased to another reviewer; take your next items from the queue."
ITEM_NOT_OPEN = "This item is not waiting for review."
ALREADY_DECIDED = "You have already decided this item; undo your decision to change it."
GOLD_ALREADY_ANSWERED = "You have already answered this gold item."
AWAITS_ADJUDICATION = "The reviewers of this item disagree; a project manager decides it."
NOTHING_TO_APPROVE = "This item has no prediction to approve; choose its labels instead."
PREDICTION_OUTSIDE_SCHEMA = "The prediction cannot be approved under the current schema: {detail} Choose its labels instead."
LABELS_REQUIRED = "Give the labels when modifying."
REJECT_WITHOUT_LABELS = "A rejection carries no labels; to give the right ones, modify instead."
ITEM_NOT_IN_PROJECT = "Item not found in this project."
DUPLICATE_IN_BATCH = "This item appears more than once in the batch."
BATCH_INVALID = "Nothing was saved: {count} of {total} decisions are invalid."
NOTHING_TO_UNDO = "You have no decision to undo in this project."
UNDO_SUPERSEDED = "Another reviewer has decided this item since; your decision can no longer be undone."

CONFLICT = 409
REJECTED = "rejected"  # a rejection's answer, next to label tuples, in consensus and agreement
DEFAULT_GOLD_RATE = 0.05  # the share of queue slots given to gold checks (setting REVIEW_GOLD_RATE)
REVIEW_SETTINGS = ("queue_strategy", "lease_seconds", "overlap_reviewers", "overlap_fraction", "gold_rate")

_rng = random.Random()


def _lock_of() -> dict:
    """Lock only the item rows (never joined ones) where the database can say so."""
    return {"of": ("self",)} if connection.features.has_select_for_update_of else {}


def gold_rate(*, project: Project | None = None) -> float:
    """The share of queue slots given to gold checks: the project's own, else the deployment's REVIEW_GOLD_RATE."""
    if project is not None and project.gold_rate is not None:
        return project.gold_rate
    return float(getattr(settings, "REVIEW_GOLD_RATE", DEFAULT_GOLD_RATE))


def overlap_required(*, project: Project, item_id: int) -> int:
    """Reviews an item needs: ``overlap_reviewers`` for a deterministic ``overlap_fraction`` of items, else 1."""
    if project.overlap_fraction <= 0 or project.overlap_reviewers < 2:
        return 1
    digest = hashlib.sha256(f"overlap:{project.pk}:{item_id}".encode()).digest()
    draw = int.from_bytes(digest[:8], "big") / 2**64
    return project.overlap_reviewers if draw < project.overlap_fraction else 1


# --- the queue --------------------------------------------------------------------------------

@dataclass
class QueueLease:
    strategy: str
    items: list[Item]
    reasons: dict[int, str]
    lease_expires_at: datetime


@transaction.atomic
def queue_lease(*, user, project: Project, strategy: str | None = None, limit: int = 10,
                exclude: Sequence[int] = ()) -> QueueLease:
    """The caller's next ``limit`` items, leased to them until ``now + project.lease_seconds``.

    First the caller's own unexpired leases (a re-fetch is idempotent), then the audit slice's items
    interleaved with the pool in ``strategy``'s order (``_audit_plan``), with gold checks mixed in at
    the project's ``gold_rate``. Rows another reviewer is leasing at this moment are skipped
    (``FOR UPDATE SKIP LOCKED``), so no two reviewers are ever handed the same item. ``exclude``
    leaves out items the caller skipped. A constant number of queries whatever the size.
    """
    name, order = selectors.queue_strategy_get(project=project, name=strategy)
    now = timezone.now()
    expires = now + timedelta(seconds=project.lease_seconds)
    exclude = list(exclude)
    reasons: dict[int, str] = {}

    own = list(selectors.own_leases(project=project, user=user, now=now).exclude(pk__in=exclude)
               .values_list("pk", "in_audit_slice")[:limit])
    for pk, in_audit in own:
        reasons[pk] = selectors.AUDIT_REASON if in_audit else name
    remaining = limit - len(own)

    # The audit slice is interleaved with the strategy's picks (one audit item for every
    # STRATEGY_PER_AUDIT picks, counted over the project's labels so far), not served all first: the
    # head learns from the strategy's picks while the audit slice grows.
    plan = _audit_plan(project=project, count=remaining)
    audit: list[int] = []
    if remaining:
        audit = list(selectors.audit_pool(project=project, user=user, now=now).exclude(pk__in=exclude)
                     .select_for_update(skip_locked=True, **_lock_of()).values_list("pk", flat=True)[:remaining])

    gold: list[int] = []
    rate = gold_rate(project=project)
    if remaining and rate > 0:
        candidates = list(selectors.gold_pool(project=project, user=user).exclude(pk__in=exclude)
                          .values_list("pk", flat=True)[:remaining])
        gold = [pk for pk in candidates if _rng.random() < rate]
        reasons.update(dict.fromkeys(gold, name))  # blind: a gold check looks like any other item
        remaining -= len(gold)
        plan = plan[:remaining]

    queued: list[int] = []
    if remaining:
        pool = (selectors.queue_pool(project=project, user=user, now=now).exclude(pk__in=[*exclude, *audit])
                .exclude(in_audit_slice=True))
        ordered = order(pool=pool, project=project, user=user, limit=remaining)
        queued = list(ordered.select_for_update(skip_locked=True, **_lock_of())
                      .values_list("pk", flat=True)[:remaining])
    picked, audit_left, queued_left = [], list(audit), list(queued)
    for from_audit in plan:
        source = audit_left if (from_audit and audit_left) or not queued_left else queued_left
        if source:
            picked.append((source is audit_left, source.pop(0)))
    audit = [pk for is_audit, pk in picked if is_audit]
    queued = [pk for is_audit, pk in picked if not is_audit]
    reasons.update(dict.fromkeys(audit, selectors.AUDIT_REASON))
    reasons.update(dict.fromkeys(queued, name))
    fresh = [pk for _, pk in picked]
    lifecycle.items_leased(item_ids=fresh, renew_ids=[pk for pk, _ in own], user=user, expires_at=expires)
    for pk in gold:
        fresh.insert(_rng.randrange(len(fresh) + 1), pk)
    ids = [pk for pk, _ in own] + fresh
    return QueueLease(strategy=name, items=selectors.items_for_display(ids=ids) if ids else [],
                      reasons=reasons, lease_expires_at=expires)


STRATEGY_PER_AUDIT = 2  # strategy picks handed out for every audit-slice item while the slice waits


def _audit_plan(*, project: Project, count: int) -> list[bool]:
    """For the next ``count`` items, whether each should come from the audit slice: one audit item for
    every ``STRATEGY_PER_AUDIT`` other human labels, counted over the project's labels so far (so a
    reviewer who takes one item at a time gets the same mix). One query."""
    counts = Item.objects.filter(project=project, final_source__in=Item.HUMAN_SOURCES).aggregate(
        audit=Count("id", filter=Q(in_audit_slice=True)), other=Count("id", filter=Q(in_audit_slice=False)))
    audit, other = counts["audit"], counts["other"]
    plan = []
    for _ in range(count):
        from_audit = audit * STRATEGY_PER_AUDIT <= other
        plan.append(from_audit)
        audit, other = (audit + 1, other) if from_audit else (audit, other + 1)
    return plan


def leases_release(*, user, project: Project, item_ids: Sequence[int]) -> int:
    """Give back the caller's leases on these items (a skip); returns how many were released."""
    return lifecycle.items_released(project=project, user=user, item_ids=item_ids)


# --- decisions --------------------------------------------------------------------------------

@dataclass(frozen=True)
class DecisionInput:
    item_id: int
    decision: str
    labels: list[str] | None = None
    seconds_spent: float = 0.0


@dataclass
class _Plan:
    request: DecisionInput
    item: Item
    labels: list[str]
    is_gold: bool = False
    gold_correct: bool | None = None
    is_adjudication: bool = False
    agrees_with_model: bool | None = None
    before: dict = field(default_factory=dict)
    human_label: HumanLabel | None = None


class BatchInvalid(DomainError):
    """Some decisions of a batch are invalid: ``errors`` maps each one's index to its error."""

    def __init__(self, errors: dict[str, DomainError], total: int):
        status_code = CONFLICT if all(e.status_code == CONFLICT for e in errors.values()) else 400
        super().__init__(BATCH_INVALID.format(count=len(errors), total=total), status_code=status_code,
                         extra={"errors": {key: e.as_data() for key, e in errors.items()}})
        self.errors = errors


def _decision_key(decision: str, labels: Sequence[str]):
    """What a decision says, comparable across reviewers: ``REJECTED``, or the sorted label tuple."""
    return REJECTED if decision == ReviewDecision.Decision.REJECT else tuple(sorted(labels))


def _is_open(item: Item) -> bool:
    waiting = item.state == Item.State.NEEDS_REVIEW
    audit = (item.in_audit_slice and item.state in selectors.AUDIT_STATES
             and item.final_source not in selectors.HUMAN_SOURCES)
    return (waiting or audit) and item.review_count < item.required_reviews


def _labels_for(request: DecisionInput, item: Item, schema: LabelSchema) -> list[str]:
    if request.decision == ReviewDecision.Decision.APPROVE:
        if item.predicted_labels is None:
            raise DomainError(NOTHING_TO_APPROVE, field="decision")
        try:
            return labels_validate(schema=schema, labels=item.predicted_labels)
        except DomainError as exc:
            raise DomainError(PREDICTION_OUTSIDE_SCHEMA.format(detail=exc.message), field="decision") from None
    if request.decision == ReviewDecision.Decision.REJECT:
        if request.labels:
            raise DomainError(REJECT_WITHOUT_LABELS, field="labels")
        return []
    if request.labels is None:
        raise DomainError(LABELS_REQUIRED, field="labels")
    return labels_validate(schema=schema, labels=request.labels)


def _plan(*, request: DecisionInput, item: Item, schema: LabelSchema, user, actor_role: str, now: datetime,
          mine: set[tuple[int, bool]]) -> _Plan:
    """Check one decision against the item as locked; raise DomainError (400, or 409 for a conflict)."""
    is_gold = item.gold_labels is not None
    is_adjudication = False
    if is_gold:
        if (item.pk, True) in mine:
            raise DomainError(GOLD_ALREADY_ANSWERED, field="item", status_code=CONFLICT)
    elif item.queue_reason == Item.QueueReason.ADJUDICATION and item.state != Item.State.REVIEWED:
        if actor_role != ProjectRole.MANAGER:
            raise DomainError(AWAITS_ADJUDICATION, field="item", status_code=CONFLICT)
        is_adjudication = True
    else:
        if not _is_open(item):
            raise DomainError(ITEM_NOT_OPEN, field="item", status_code=CONFLICT)
        if (item.pk, False) in mine:
            raise DomainError(ALREADY_DECIDED, field="item", status_code=CONFLICT)
        leased_by_other = (item.lease_owner_id not in (None, user.pk) and item.lease_expires_at is not None
                           and item.lease_expires_at > now)
        if leased_by_other:
            raise DomainError(LEASED_TO_ANOTHER, field="item", status_code=CONFLICT)
    labels = _labels_for(request, item, schema)
    plan = _Plan(request=request, item=item, labels=labels, is_gold=is_gold, is_adjudication=is_adjudication)
    if item.predicted_labels is not None:
        plan.agrees_with_model = (request.decision != ReviewDecision.Decision.REJECT
                                  and set(labels) == set(item.predicted_labels))
    if is_gold:
        gold = _decision_key(ReviewDecision.Decision.MODIFY, item.gold_labels)
        plan.gold_correct = _decision_key(request.decision, labels) == gold
    return plan


def _finalize(item: Item, *, key, labels: Sequence[str], user, schema: LabelSchema, now: datetime) -> None:
    """Settle an item with the winning answer ``key``: rejected, or its labels (approved when they are the
    prediction's, else modified)."""
    if key == REJECTED:
        lifecycle.item_reviewed(item, labels=None, outcome=Item.ReviewOutcome.REJECTED, schema=schema, user=user,
                                now=now)
        return
    agrees = item.predicted_labels is not None and set(key) == set(item.predicted_labels)
    lifecycle.item_reviewed(item, labels=list(labels) if tuple(sorted(labels)) == key else list(key),
                            outcome=Item.ReviewOutcome.APPROVED if agrees else Item.ReviewOutcome.MODIFIED,
                            schema=schema, user=user, now=now)


def _apply(*, plans: list[_Plan], project: Project, schema: LabelSchema, user, now: datetime) -> list[ReviewDecision]:
    """Write validated decisions: items, human labels, decisions and audit events, each in one query."""
    required: dict[int, int] = {}
    for plan in plans:
        item = plan.item
        if not (plan.is_gold or plan.is_adjudication):
            required[item.pk] = (item.required_reviews if item.review_count
                                 else overlap_required(project=project, item_id=item.pk))
    # An item whose last required review this is needs the earlier answers for its consensus.
    consensus_ids = [pk for pk, n in required.items() if n > 1]
    earlier: dict[int, list] = {}
    if consensus_ids:
        for item_id, decision, labels in (
            ReviewDecision.objects.filter(project=project, item_id__in=consensus_ids, undone_at__isnull=True,
                                          is_gold=False, is_adjudication=False)
            .values_list("item_id", "decision", "labels")
        ):
            earlier.setdefault(item_id, []).append(_decision_key(decision, labels))

    changed: list[Item] = []
    for plan in plans:
        if plan.is_gold:
            continue
        item = plan.item
        plan.before = lifecycle.item_snapshot(item)
        key = _decision_key(plan.request.decision, plan.labels)
        if plan.is_adjudication:
            lifecycle.item_review_counted(item, required_reviews=item.required_reviews)
            _finalize(item, key=key, labels=plan.labels, user=user, schema=schema, now=now)
        else:
            lifecycle.item_review_counted(item, required_reviews=required[item.pk])
            if item.review_count >= item.required_reviews:
                winner = key if item.required_reviews == 1 else majority([*earlier.get(item.pk, []), key])
                if winner is None:  # a tie: a manager decides
                    lifecycle.item_sent_to_adjudication(item)
                else:
                    _finalize(item, key=winner, labels=plan.labels, user=user, schema=schema, now=now)
        if item.state == Item.State.REVIEWED and item.final_labels is not None:
            plan.human_label = HumanLabel(item=item, labels=item.final_labels, schema=schema,
                                          source=HumanLabel.Source.REVIEW, created_by=user)
        changed.append(item)

    human_labels = [plan.human_label for plan in plans if plan.human_label is not None]
    if human_labels:
        HumanLabel.objects.bulk_create(human_labels)
    decisions = ReviewDecision.objects.bulk_create([
        ReviewDecision(
            project=project, item=plan.item, reviewer=user, decision=plan.request.decision, labels=plan.labels,
            schema=schema, seconds_spent=plan.request.seconds_spent, prediction_id=plan.item.prediction_id,
            is_gold=plan.is_gold, gold_correct=plan.gold_correct, is_adjudication=plan.is_adjudication,
            agrees_with_model=plan.agrees_with_model, human_label=plan.human_label, item_before=plan.before,
        )
        for plan in plans
    ])
    lifecycle.items_review_save(changed)
    audit_record_many(actor=user, organization_id=project.organization_id, action=AuditEvent.Action.REVIEW_DECIDED,
                      events=[(plan.item, {"decision": plan.request.decision, "labels": plan.labels,
                                           "gold": plan.is_gold, "adjudication": plan.is_adjudication,
                                           "state": plan.item.state}) for plan in plans])
    if human_labels:
        transaction.on_commit(partial(labels_added, project_id=project.pk, count=len(human_labels)))
    return decisions


@transaction.atomic
def decisions_submit(*, user, project: Project, decisions: Sequence[DecisionInput],
                     actor_role: str) -> list[ReviewDecision]:
    """Validate every decision first, then write them all, or nothing (``BatchInvalid`` names each bad one).

    ``actor_role`` is the caller's role in the project: managers also settle ties (adjudication).
    """
    schema = schema_current(project=project)
    if schema is None:
        raise DomainError(NO_SCHEMA, status_code=CONFLICT)
    now = timezone.now()
    ids = [d.item_id for d in decisions]
    items = {item.pk: item for item in Item.objects.select_for_update(**_lock_of())
             .filter(project=project, pk__in=ids).order_by("pk")}
    mine = set(ReviewDecision.objects.filter(item_id__in=list(items), reviewer=user, undone_at__isnull=True)
               .values_list("item_id", "is_gold"))
    plans: list[_Plan] = []
    errors: dict[str, DomainError] = {}
    seen: set[int] = set()
    for index, request in enumerate(decisions):
        try:
            if request.item_id in seen:
                raise DomainError(DUPLICATE_IN_BATCH, field="item")
            seen.add(request.item_id)
            item = items.get(request.item_id)
            if item is None:
                raise NotFound(ITEM_NOT_IN_PROJECT, field="item")
            plans.append(_plan(request=request, item=item, schema=schema, user=user, actor_role=actor_role,
                               now=now, mine=mine))
        except DomainError as exc:
            errors[str(index)] = exc
    if errors:
        raise BatchInvalid(errors, total=len(decisions))
    return _apply(plans=plans, project=project, schema=schema, user=user, now=now)


def decision_submit(*, user, project: Project, decision: DecisionInput, actor_role: str) -> ReviewDecision:
    """One decision (``decisions_submit`` of one); its error is raised as is."""
    try:
        return decisions_submit(user=user, project=project, decisions=[decision], actor_role=actor_role)[0]
    except BatchInvalid as exc:
        raise exc.errors["0"] from None


@transaction.atomic
def decision_undo(*, user, project: Project) -> ReviewDecision:
    """Undo the caller's latest live decision in the project: the item gets back its state and labels
    from just before it, and is leased to the caller again. Raises 409 when another reviewer has
    decided the item since, or there is nothing to undo."""
    decision = (ReviewDecision.objects.select_for_update(**_lock_of())
                .filter(project=project, reviewer=user, undone_at__isnull=True)
                .order_by("-created_at", "-id").first())
    if decision is None:
        raise DomainError(NOTHING_TO_UNDO, status_code=CONFLICT)
    item = Item.objects.select_for_update(**_lock_of()).get(pk=decision.item_id)
    now = timezone.now()
    if not decision.is_gold:
        latest = (ReviewDecision.objects.filter(item=item, undone_at__isnull=True, is_gold=False)
                  .order_by("-created_at", "-id").values_list("pk", flat=True).first())
        if latest != decision.pk:
            raise DomainError(UNDO_SUPERSEDED, status_code=CONFLICT)
        lifecycle.item_reopened(item, before=decision.item_before, user=user,
                                lease_expires_at=now + timedelta(seconds=project.lease_seconds))
        if decision.human_label_id is not None:
            HumanLabel.objects.filter(pk=decision.human_label_id).delete()
    decision.undone_at = now
    decision.human_label = None
    decision.save(update_fields=["undone_at", "human_label"])
    audit_record(actor=user, organization=project.organization, action=AuditEvent.Action.REVIEW_UNDONE, target=item,
                 metadata={"decision": decision.pk, "state": item.state})
    decision.item = item
    return decision


# --- gold and settings ------------------------------------------------------------------------

@transaction.atomic
def gold_set(*, actor, project: Project, item_id: int, labels: Sequence[str] | None) -> Item:
    """Make an item a gold check with a known answer (validated), or clear it with ``labels=None``.
    Gold answers only score reviewers; they never change the item's final labels."""
    item = Item.objects.select_for_update(**_lock_of()).filter(project=project, pk=item_id).first()
    if item is None:
        raise NotFound(ITEM_NOT_IN_PROJECT, field="item")
    if labels is not None:
        schema = schema_current(project=project)
        if schema is None:
            raise DomainError(NO_SCHEMA, status_code=CONFLICT)
        labels = labels_validate(schema=schema, labels=labels)
    item.gold_labels = labels
    item.save(update_fields=["gold_labels"])
    audit_record(actor=actor, organization=project.organization, action=AuditEvent.Action.REVIEW_GOLD_SET, target=item,
                 metadata={"labels": labels})
    return item


@transaction.atomic
def review_settings_update(*, project: Project, actor, **changes) -> Project:
    """Change the project's review settings (strategy, lease length, overlap, gold rate); only those given."""
    unknown = set(changes) - set(REVIEW_SETTINGS)
    if unknown:
        raise ValueError(f"not review settings: {sorted(unknown)}")
    if "queue_strategy" in changes:
        changes["queue_strategy"], _ = selectors.queue_strategy_get(project=project, name=changes["queue_strategy"])
    changed = {name: value for name, value in changes.items() if getattr(project, name) != value}
    if not changed:
        return project
    for name, value in changed.items():
        setattr(project, name, value)
    project.save(update_fields=[*changed, "updated_at"])
    audit_record(actor=actor, organization=project.organization, action=AuditEvent.Action.PROJECT_REVIEW_SETTINGS_UPDATED,
                 target=project, metadata={name: value for name, value in changed.items()})
    return project
