"""The one owner of every ``Item`` state change (in the style of an order's actions in a shop).

Each transition is a named function; no other module assigns ``state``, ``queue_reason``,
the final label or the lease of an item. The transitions:

    (import)  unlabelled, or reviewed when it came with a label ......... ``item_imported_fields``
    predicted → auto_accepted | needs_review (+ queue reason) ........... ``items_predicted`` (bulk)
    needs review / audit → leased to a reviewer (or renewed), released ... ``items_leased`` / ``items_released`` (bulk)
    a review counted; → reviewed, or → needs_review (adjudication) ....... ``item_review_counted``,
                                                                           ``item_reviewed``, ``item_sent_to_adjudication``
    reviewed → back to just before the decision (undo), leased again ..... ``item_reopened``
    a flagged human label relabelled ...................................... ``item_label_issue_resolved``

Bulk transitions for workers stay single SQL statements. Every transition that gives an item a human
label counts it towards the next learning round (``labels_added``); the learning task is enqueued by
name, so this module imports nothing above the models.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from celery import current_app
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from labeling import task_names
from labeling.models import HumanLabel, Item
from modelship.exceptions import DomainError
from projects.models import LabelSchema, Project

State = Item.State
QueueReason = Item.QueueReason
HUMAN_SOURCES = Item.HUMAN_SOURCES

# Refused transitions: 409, the message as written.
NOT_REVIEWABLE = "The item cannot be reviewed while it is {state}."
ALREADY_REVIEWED = "The item is already reviewed."
NOT_IN_REVIEW = "The item has no review to undo."
NO_HUMAN_LABEL = "The item has no human label to correct."
CONFLICT = 409

# States a person may review an item in: waiting for review, or (the audit slice) predicted or auto-accepted.
REVIEWABLE = (State.PREDICTED, State.AUTO_ACCEPTED, State.NEEDS_REVIEW)

# Review fields of an item that a decision changes and undo restores.
SNAPSHOT_FIELDS = ("state", "final_labels", "final_schema_id", "final_source", "decided_by_id", "decided_at",
                   "review_outcome", "required_reviews", "review_count", "queue_reason")
REVIEW_UPDATE_FIELDS = [name.removesuffix("_id") if name.endswith("_id") else name for name in SNAPSHOT_FIELDS] + [
    "lease_owner", "lease_expires_at"]


class TransitionRefused(DomainError):
    status_code = CONFLICT


# --- imported ---------------------------------------------------------------------------------

def item_imported_fields(*, labels: list[str] | None, schema_id: int | None, user_id: int | None,
                         now: datetime) -> dict:
    """The lifecycle fields of a new item: unlabelled, or reviewed (source ``import``) when it came with
    labels. The import counts the labels for learning with ``labels_added`` once its rows are written."""
    if labels is None:
        return {"state": State.UNLABELLED, "final_labels": None, "final_schema_id": None,
                "final_source": Item.FinalSource.NONE, "decided_by_id": None, "decided_at": None}
    return {"state": State.REVIEWED, "final_labels": labels, "final_schema_id": schema_id,
            "final_source": Item.FinalSource.IMPORT, "decided_by_id": user_id, "decided_at": now}


# --- predicted (bulk, workers) ----------------------------------------------------------------

@dataclass(frozen=True)
class FreshPrediction:
    """A model's new prediction of one item, already stored as ``prediction_id``."""

    item_id: int
    prediction_id: int
    labels: list[str]
    confidence: float


# Decides (state, queue reason) for an item the model just predicted: (item id, in audit slice, confidence).
Decide = Callable[[int, bool, float], tuple[str, str]]

# Item columns a prediction writes, with their PostgreSQL types (for the VALUES list's casts).
PREDICTION_ONLY = (("prediction_id", "bigint"), ("predicted_labels", "jsonb"), ("confidence", "double precision"))
FULL_UPDATE = PREDICTION_ONLY + (("state", "varchar"), ("queue_reason", "varchar"), ("final_labels", "jsonb"),
                                 ("final_schema_id", "bigint"), ("final_source", "varchar"),
                                 ("decided_by_id", "bigint"), ("decided_at", "timestamptz"))
ITEMS_SET_BATCH = 1000


def _in_review(row: Mapping[str, Any]) -> bool:
    return row["review_count"] > 0 or row["queue_reason"] == QueueReason.ADJUDICATION


def items_predicted(*, predictions: Sequence[FreshPrediction], schema_id: int | None, decide: Decide) -> int:
    """Record fresh predictions (inside the caller's transaction). An item a person decided, or one
    reviewers are part-way through (overlap, adjudication), keeps its place and gets the prediction
    only; every other item becomes ``auto_accepted`` (the prediction is its final label) or
    ``needs_review`` with the reason ``decide`` gives. Rows are locked and re-read first: a reviewer may
    have decided an item while the model ran. Returns how many items changed state."""
    now = timezone.now()
    current = {row["id"]: row for row in Item.objects.select_for_update()
               .filter(pk__in=[p.item_id for p in predictions])
               .values("id", "final_source", "in_audit_slice", "review_count", "queue_reason")}
    moved, kept = [], []
    for p in predictions:
        row = current.get(p.item_id)
        if row is None:
            continue
        values = {"id": p.item_id, "prediction_id": p.prediction_id, "predicted_labels": p.labels,
                  "confidence": p.confidence}
        if row["final_source"] in HUMAN_SOURCES or _in_review(row):
            kept.append(values)
            continue
        state, reason = decide(p.item_id, row["in_audit_slice"], p.confidence)
        if state == State.AUTO_ACCEPTED:
            values.update(state=State.AUTO_ACCEPTED, queue_reason=QueueReason.NONE, final_labels=p.labels,
                          final_schema_id=schema_id, final_source=Item.FinalSource.AUTO, decided_by_id=None,
                          decided_at=now)
        else:
            values.update(state=State.NEEDS_REVIEW, queue_reason=reason, final_labels=None, final_schema_id=None,
                          final_source=Item.FinalSource.NONE, decided_by_id=None, decided_at=None)
        moved.append(values)
    _items_set(moved, FULL_UPDATE)
    _items_set(kept, PREDICTION_ONLY)
    return len(moved)


def items_rescored(*, predictions: Sequence[FreshPrediction]) -> None:
    """Record re-scored predictions (from stored outputs) without moving any item: the learning round
    re-decides the eligible items at the new threshold right after, in one bulk pass. On PostgreSQL one
    ``UPDATE … FROM unnest(…)`` of four arrays (a round re-scores ten thousand items; a VALUES list's
    40,000 parameters cost more to bind than the update costs to run)."""
    if connection.vendor != "postgresql":
        _items_set([{"id": p.item_id, "prediction_id": p.prediction_id, "predicted_labels": p.labels,
                     "confidence": p.confidence} for p in predictions], PREDICTION_ONLY)
        return
    if not predictions:
        return
    table = connection.ops.quote_name(Item._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET prediction_id = u.prediction_id, predicted_labels = u.labels::jsonb, "
            "confidence = u.confidence FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::float8[]) "
            f"AS u(id, prediction_id, labels, confidence) WHERE {table}.id = u.id",
            [[p.item_id for p in predictions], [p.prediction_id for p in predictions],
             [json.dumps(p.labels) for p in predictions], [p.confidence for p in predictions]])


def _items_set(rows: list[dict], columns: tuple[tuple[str, str], ...]) -> None:
    """Write ``columns`` of many items in one ``UPDATE … FROM (VALUES …)`` per batch.

    Django's ``bulk_update`` builds a CASE expression per field and row; on a chunk of a few hundred
    items that cost more than the model's forward pass.
    """
    if not rows:
        return
    pg = connection.vendor == "postgresql"
    table = connection.ops.quote_name(Item._meta.db_table)
    names = ["id", *(name for name, _ in columns)]
    types = ["bigint", *(kind for _, kind in columns)]
    placeholders = "(" + ", ".join(f"%s::{kind}" if pg else "%s" for kind in types) + ")"
    assignments = ", ".join(f"{name} = v.{name}" for name in names[1:])

    def value(row: dict, name: str):
        raw = row[name]
        if name in ("predicted_labels", "final_labels"):
            return None if raw is None else json.dumps(raw)
        if name == "decided_at":
            return connection.ops.adapt_datetimefield_value(raw)
        return raw

    with connection.cursor() as cursor:
        for start in range(0, len(rows), ITEMS_SET_BATCH):
            batch = rows[start:start + ITEMS_SET_BATCH]
            cursor.execute(
                f"WITH v({', '.join(names)}) AS (VALUES {', '.join([placeholders] * len(batch))}) "
                f"UPDATE {table} SET {assignments} FROM v WHERE {table}.id = v.id",
                [value(row, name) for row in batch for name in names],
            )


# --- leased (bulk, the review queue) ----------------------------------------------------------

def items_leased(*, item_ids: Sequence[int], user, expires_at: datetime, renew_ids: Sequence[int] = ()) -> int:
    """Lease items to a reviewer until ``expires_at``, and extend their leases on ``renew_ids``, in one
    UPDATE. Of ``item_ids`` only items nobody else holds are leased (the queue picked them under
    ``FOR UPDATE SKIP LOCKED``); of ``renew_ids`` only those the reviewer still holds (one given back
    since it was read, a skip racing a queue fetch, is not taken again). Returns how many."""
    if not item_ids and not renew_ids:
        return 0
    now = timezone.now()
    free = Q(lease_owner__isnull=True) | Q(lease_owner=user) | Q(lease_expires_at__lte=now)
    return Item.objects.filter(Q(pk__in=list(item_ids)) & free | Q(pk__in=list(renew_ids), lease_owner=user)).update(
        lease_owner=user, lease_expires_at=expires_at)


def items_released(*, project: Project, user, item_ids: Sequence[int]) -> int:
    """Give back the reviewer's leases on these items (one UPDATE); returns how many were released."""
    return Item.objects.filter(project=project, lease_owner=user, pk__in=list(item_ids)).update(
        lease_owner=None, lease_expires_at=None)


# --- reviewed (in memory, saved together by ``items_review_save``) ----------------------------

def item_snapshot(item: Item) -> dict:
    """The review fields of an item, JSON-ready: what ``item_reopened`` restores."""
    data = {name: getattr(item, name) for name in SNAPSHOT_FIELDS}
    data["decided_at"] = item.decided_at.isoformat() if item.decided_at else None
    return data


def _check_reviewable(item: Item) -> None:
    if item.state == State.REVIEWED:
        raise TransitionRefused(ALREADY_REVIEWED)
    if item.state not in REVIEWABLE:
        raise TransitionRefused(NOT_REVIEWABLE.format(state=State(item.state).label.lower()))


def item_review_counted(item: Item, *, required_reviews: int) -> None:
    """One more review of the item: its lease ends, and it needs ``required_reviews`` in all (overlap)."""
    _check_reviewable(item)
    item.lease_owner = None
    item.lease_expires_at = None
    item.review_count += 1
    item.required_reviews = required_reviews


def item_reviewed(item: Item, *, labels: list[str] | None, outcome: str, schema: LabelSchema, user,
                  now: datetime) -> None:
    """Settle the item: its final label (``None`` when rejected), apart from the prediction, who decided
    it, under which schema; it leaves the queue."""
    _check_reviewable(item)
    item.state = State.REVIEWED
    item.queue_reason = QueueReason.NONE
    item.final_labels = None if labels is None else list(labels)
    item.final_schema = schema
    item.final_source = Item.FinalSource.REVIEW
    item.decided_by = user
    item.decided_at = now
    item.review_outcome = outcome


def item_sent_to_adjudication(item: Item) -> None:
    """The reviewers tied: the item waits for a manager's decision."""
    _check_reviewable(item)
    item.state = State.NEEDS_REVIEW
    item.queue_reason = QueueReason.ADJUDICATION


def items_review_save(items: Sequence[Item]) -> None:
    """Write the review fields of items changed by the transitions above: one plain UPDATE for one
    item (``bulk_update``'s CASE per field costs more to build than to run), one statement for several."""
    if len(items) == 1:
        items[0].save(update_fields=REVIEW_UPDATE_FIELDS)
    elif items:
        Item.objects.bulk_update(list(items), REVIEW_UPDATE_FIELDS)


def item_reopened(item: Item, *, before: dict, user, lease_expires_at: datetime) -> None:
    """Undo a review: the item gets back its review fields from ``before`` (an ``item_snapshot``) and is
    leased to ``user`` again. Saved."""
    if item.review_count == 0:
        raise TransitionRefused(NOT_IN_REVIEW)
    restored = dict(before)
    restored["decided_at"] = parse_datetime(restored["decided_at"]) if restored.get("decided_at") else None
    for name in SNAPSHOT_FIELDS:
        setattr(item, name, restored[name])
    item.lease_owner = user
    item.lease_expires_at = lease_expires_at
    item.save(update_fields=REVIEW_UPDATE_FIELDS)


# --- a flagged label corrected (active learning's label-issue queue) --------------------------

def item_label_issue_resolved(item: Item, *, labels: list[str], schema: LabelSchema, user,
                              now: datetime) -> HumanLabel:
    """A person relabels an item whose human label the model contradicted: it is reviewed with the new
    label (outcome ``modified``), leaves any queue and lease, the label is recorded and counted for learning."""
    if item.final_source not in HUMAN_SOURCES:
        raise TransitionRefused(NO_HUMAN_LABEL)
    item.state = State.REVIEWED
    item.queue_reason = QueueReason.NONE
    item.final_labels = list(labels)
    item.final_schema = schema
    item.final_source = Item.FinalSource.REVIEW
    item.decided_by = user
    item.decided_at = now
    item.review_outcome = Item.ReviewOutcome.MODIFIED
    item.lease_owner = None
    item.lease_expires_at = None
    item.save(update_fields=["state", "queue_reason", "final_labels", "final_schema", "final_source", "decided_by",
                             "decided_at", "review_outcome", "lease_owner", "lease_expires_at"])
    label = HumanLabel.objects.create(item=item, labels=list(labels), schema=schema, source=HumanLabel.Source.REVIEW,
                                      created_by=user)
    labels_added(project_id=item.project_id, count=1)
    return label


# --- re-decided (bulk, a learning round or a settings change) -------------------------------------
# One UPDATE per transition, guarded by ``guard`` inside the statement itself, so an item a reviewer
# decided a moment ago is never overwritten.

def items_auto_accepted(*, item_ids: Sequence[int], schema: LabelSchema, guard: Q) -> int:
    """These items' current predictions become their final labels (source ``auto``); returns how many."""
    if not item_ids:
        return 0
    return Item.objects.filter(guard, pk__in=list(item_ids)).update(
        state=State.AUTO_ACCEPTED, queue_reason=QueueReason.NONE, final_labels=F("predicted_labels"),
        final_schema=schema, final_source=Item.FinalSource.AUTO, decided_by=None, decided_at=timezone.now())


def items_returned_to_review(*, item_ids: Sequence[int], reason: str, guard: Q) -> int:
    """These items wait for review (``reason``), any auto-accepted label dropped; returns how many."""
    if not item_ids:
        return 0
    return Item.objects.filter(guard, pk__in=list(item_ids)).update(
        state=State.NEEDS_REVIEW, queue_reason=reason, final_labels=None, final_schema=None,
        final_source=Item.FinalSource.NONE, decided_by=None, decided_at=None)


def items_audit_hold(*, project: Project, waiting: Q) -> int:
    """Audit-slice items no person decided (``waiting``) wait for review with the reason ``audit``, an
    item drawn into the slice after it was auto-accepted included; returns how many moved."""
    return (Item.objects.filter(waiting, project=project)
            .exclude(state=State.NEEDS_REVIEW, queue_reason=QueueReason.AUDIT)
            .update(state=State.NEEDS_REVIEW, queue_reason=QueueReason.AUDIT, final_labels=None, final_schema=None,
                    final_source=Item.FinalSource.NONE, decided_by=None, decided_at=None))


# --- the learning trigger ---------------------------------------------------------------------

def next_round_at(at: int, *, first: int, every: int) -> int:
    """The label count of the round after the one at ``at``: double the count while the gap is under
    ``every`` (10, 20, 40, 80 ...), then every ``every``; ``first`` 0 means every ``every`` from the start."""
    if first <= 0:
        return at + max(every, 1)
    return at + max(1, min(at, every)) if every else 2 * at


def labels_added(*, project_id: int, count: int = 1) -> bool:
    """Count ``count`` new human labels (review decisions, imports, corrected label issues). When the
    project's total reaches the next round on its cadence (``Project.learn_next_at``), move that mark
    past the total (counts are absolute: an import's overshoot is never lost) and enqueue the learning
    task after commit. Returns whether learning was enqueued."""
    if count <= 0:
        return False
    with transaction.atomic():
        Project.objects.filter(pk=project_id).update(labels_counted=F("labels_counted") + count,
                                                     labels_since_learning=F("labels_since_learning") + count)
        project = (Project.objects.select_for_update()
                   .only("labels_counted", "learn_next_at", "learn_first", "learn_every").get(pk=project_id))
        if (project.learn_every == 0 and project.learn_first == 0) or project.labels_counted < project.learn_next_at:
            return False
        at = project.learn_next_at
        while at <= project.labels_counted:
            at = next_round_at(at, first=project.learn_first, every=project.learn_every)
        Project.objects.filter(pk=project_id).update(learn_next_at=at, labels_since_learning=0)
    transaction.on_commit(lambda: current_app.send_task(task_names.INFERENCE_LEARN, args=[project_id]))
    return True
