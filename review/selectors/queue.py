"""Reads for review: the queue's pools and its strategy registry, progress, adjudication and gold lists.

The queue hands out, in order: the caller's own unexpired leases, the project's audit slice while
it has no human label, a few gold checks, then the pool ordered by a *strategy*.

Adding a strategy (active learning): register a function that orders the pool::

    @queue_strategy("margin")
    def margin_order(*, pool, project, user, limit):
        rows = pool.order_by("confidence", "id").values_list("id", "prediction__probabilities")[:limit * 50]
        ids = ...  # rank in Python (labeling.engine.active_learning.select)
        return pool_in_order(pool, ids)

A strategy receives ``pool`` (the items the caller may be handed right now: waiting for review,
not leased by anyone else, not gold, not already decided by the caller) and returns a queryset
drawn from it, in the order to hand out. It must not widen the pool; the queue locks the first
rows it returns (``SELECT … FOR UPDATE SKIP LOCKED``), skipping those another reviewer is taking.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Protocol

from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import MD5, Cast, Coalesce

from accounts.models import Membership
from labeling.active_learning.services import NO_POOL, samples_suggest
from labeling.models import Item
from modelship.exceptions import DomainError, NotFound
from projects.models import Category, Project
from projects.permissions import ANY_PROJECT_ROLE
from projects.selectors import project_get_for_user, project_list_roles, projects_for
from review.models import ReviewDecision

UNKNOWN_STRATEGY = "Unknown strategy {name!r}; available: {available}."
ITEM_NOT_FOUND = "Item not found."

HUMAN_SOURCES = Item.HUMAN_SOURCES
# States an audit-slice item can be reviewed in (it needs a prediction to be worth calibrating on).
AUDIT_STATES = (Item.State.PREDICTED, Item.State.AUTO_ACCEPTED, Item.State.NEEDS_REVIEW)
AUDIT_REASON = Item.QueueReason.AUDIT  # the reason the queue gives for an audit-slice item


class QueueStrategy(Protocol):
    def __call__(self, *, pool: QuerySet[Item], project: Project, user, limit: int) -> QuerySet[Item]: ...


QUEUE_STRATEGIES: dict[str, QueueStrategy] = {}


def queue_strategy(name: str) -> Callable[[QueueStrategy], QueueStrategy]:
    """Register a queue ordering under ``name`` (the queue's ``strategy`` parameter)."""

    def register(function: QueueStrategy) -> QueueStrategy:
        QUEUE_STRATEGIES[name] = function
        return function

    return register


def queue_strategy_get(*, project: Project, name: str | None = None) -> tuple[str, QueueStrategy]:
    """The strategy asked for, or the project's default; DomainError (400) listing the known ones."""
    name = (name or project.queue_strategy or "").strip()
    strategy = QUEUE_STRATEGIES.get(name)
    if strategy is None:
        raise DomainError(UNKNOWN_STRATEGY.format(name=name, available=", ".join(sorted(QUEUE_STRATEGIES))),
                          field="strategy")
    return name, strategy


def pool_in_order(pool: QuerySet[Item], ids: Sequence[int]) -> QuerySet[Item]:
    """The pool's items among ``ids``, in the order of ``ids`` (for strategies that rank in Python)."""
    ids = list(ids)
    if not ids:
        return pool.none()
    rank = Case(*(When(pk=pk, then=Value(i)) for i, pk in enumerate(ids)), output_field=IntegerField())
    return pool.filter(pk__in=ids).order_by(rank)


@queue_strategy("uncertainty")
def uncertainty_order(*, pool: QuerySet[Item], project: Project, user, limit: int) -> QuerySet[Item]:
    """Least confidence: the lowest calibrated top confidence first (index ``item_queue_order``)."""
    return pool.order_by(F("confidence").asc(nulls_last=True), "id")


# The strategies of ``labeling.engine.active_learning``, scored in Python over a candidate set of
# the pool: the least confident ``ACTIVE_LEARNING_WINDOW`` items (margin, entropy and the diversity
# strategies rank the uncertain end of the queue), or the whole pool for the random baseline.
ACTIVE_LEARNING_WINDOW = 2000
ACTIVE_LEARNING_STRATEGIES = {"margin": True, "entropy": True, "diversity": True, "weighted_diversity": True,
                              "disagreement": True, "random": False}  # name -> windowed


def active_learning_order(name: str, *, windowed: bool = True) -> QueueStrategy:
    """A queue ordering by an active-learning strategy (``labeling.active_learning.services``)."""

    def order(*, pool: QuerySet[Item], project: Project, user, limit: int) -> QuerySet[Item]:
        candidates = pool
        if windowed:
            # The window's ids are read first, in their own query: as a subquery PostgreSQL may join it in a
            # nested loop that runs the window once per waiting item whenever its statistics lag behind a
            # learning round's bulk re-decide (2.4 s for 2,000 waiting items, quadratic in them).
            window = list(pool.order_by(F("confidence").asc(nulls_last=True), "id")
                          .values_list("pk", flat=True)[:max(ACTIVE_LEARNING_WINDOW, 20 * limit)])
            candidates = pool.filter(pk__in=window)
        try:
            # More than asked for: the queue skips the ones another reviewer is taking right now.
            chosen = samples_suggest(project=project, strategy=name, count=4 * limit, candidates=candidates)
        except DomainError as exc:
            if exc.message == NO_POOL:
                return pool.none()
            raise
        return pool_in_order(pool, [choice["item_id"] for choice in chosen])

    order.__doc__ = f"Active learning: {name!r} over {'the least confident' if windowed else 'all'} waiting items."
    return order


for _name, _windowed in ACTIVE_LEARNING_STRATEGIES.items():
    queue_strategy(_name)(active_learning_order(_name, windowed=_windowed))


# --- pools ------------------------------------------------------------------------------------

def _lease_free(now: datetime) -> Q:
    return Q(lease_owner__isnull=True) | Q(lease_expires_at__lte=now)


def _decided_by(user, *, gold: bool | None = None) -> Exists:
    decisions = ReviewDecision.objects.filter(item=OuterRef("pk"), reviewer=user, undone_at__isnull=True)
    if gold is not None:
        decisions = decisions.filter(is_gold=gold)
    return Exists(decisions)


def _not_reviewed_by(user) -> Q:
    """Not already reviewed by the caller. Only an item with reviews can have one of theirs, so the
    per-row lookup runs for overlapped items alone (an OR keeps PostgreSQL from turning it into an
    anti-join over every decision the caller ever made)."""
    return Q(review_count=0) | ~_decided_by(user)


def _awaiting_reviews() -> Q:
    return Q(review_count__lt=F("required_reviews"), gold_labels__isnull=True)


def audit_pending_q() -> Q:
    """An audit-slice item with a prediction and no human label yet."""
    return Q(in_audit_slice=True, state__in=AUDIT_STATES) & ~Q(final_source__in=HUMAN_SOURCES) & _awaiting_reviews()


def open_for_review_q() -> Q:
    """Items a reviewer's decision may be given on (besides gold checks and adjudication)."""
    return (Q(state=Item.State.NEEDS_REVIEW) & _awaiting_reviews()) | audit_pending_q()


def own_leases(*, project: Project, user, now: datetime) -> QuerySet[Item]:
    """The caller's unexpired leases on items still open, audit slice first: a re-fetch returns them."""
    return (
        Item.objects.filter(project=project, lease_owner=user, lease_expires_at__gt=now)
        .filter(open_for_review_q())
        .order_by("-in_audit_slice", F("confidence").asc(nulls_last=True), "id")
    )


def audit_order() -> tuple:
    """The order the audit slice is served in: by a hash of the id, a fixed shuffle. The threshold is
    chosen on the slice's labelled part while the rest waits, so every prefix must be a uniform sample;
    in id order it would be the first items imported (often one folder, one class) first."""
    return (MD5(Cast("id", output_field=CharField())), "id")


def audit_pool(*, project: Project, user, now: datetime) -> QuerySet[Item]:
    """The audit slice's items without a human label that the caller may take now, in ``audit_order``."""
    return (
        Item.objects.filter(project=project).filter(audit_pending_q()).filter(_lease_free(now))
        .filter(_not_reviewed_by(user)).order_by(*audit_order())
    )


def queue_pool(*, project: Project, user, now: datetime) -> QuerySet[Item]:
    """Items waiting for review that the caller may take now (the pool strategies order)."""
    return (
        Item.objects.filter(project=project, state=Item.State.NEEDS_REVIEW).filter(_awaiting_reviews())
        .filter(_lease_free(now)).filter(_not_reviewed_by(user))
    )


def gold_pool(*, project: Project, user) -> QuerySet[Item]:
    """Gold items the caller has not answered yet (gold is never leased: everyone answers it)."""
    return (
        Item.objects.filter(project=project, gold_labels__isnull=False)
        .exclude(_decided_by(user, gold=True)).order_by("id")
    )


def items_for_display(*, ids: Sequence[int]) -> list[Item]:
    """Items with their prediction, in the order of ``ids``; ``prediction_categories`` set on each.

    Two queries whatever the count: the items (with predictions) and the categories of the schema
    versions their predictions were made under.
    """
    by_id = {item.pk: item for item in Item.objects.filter(pk__in=ids).select_related("prediction")}
    items = [by_id[pk] for pk in ids if pk in by_id]
    schema_ids = {item.prediction.schema_id for item in items if item.prediction is not None}
    paths: dict[int, list[str]] = {}
    if schema_ids:
        for schema_id, path in (Category.objects.filter(schema_id__in=schema_ids)
                                .order_by("schema_id", "order", "id").values_list("schema_id", "path")):
            paths.setdefault(schema_id, []).append(path)
    for item in items:
        item.prediction_categories = paths.get(item.prediction.schema_id, []) if item.prediction else []
    return items


def top_predictions(item: Item, *, count: int = 5) -> list[dict]:
    """The model's most probable labels for an item, with calibrated probabilities, best first."""
    prediction = item.prediction
    if prediction is None:
        return []
    names = getattr(item, "prediction_categories", None) or []
    probabilities = prediction.probabilities or []
    if len(names) != len(probabilities):
        return [{"label": label, "confidence": prediction.confidence} for label in prediction.labels]
    ranked = sorted(zip(names, probabilities, strict=True), key=lambda pair: -pair[1])[:count]
    return [{"label": label, "confidence": float(p)} for label, p in ranked]


# --- the project and items a request works on -------------------------------------------------

def review_item_get(*, user, item_id, require: Iterable[str] = ANY_PROJECT_ROLE) -> Item:
    """An item of a project the caller can see (as an id and its project, with ``caller_role``); else 404.
    The caller's role must be one of ``require`` (else 403)."""
    try:
        item_id = int(item_id)
    except (TypeError, ValueError):
        raise NotFound(ITEM_NOT_FOUND, field="item") from None
    project_id = Item.objects.filter(pk=item_id).values_list("project_id", flat=True).first()
    if project_id is None:
        raise NotFound(ITEM_NOT_FOUND, field="item")
    item = Item(pk=item_id, project_id=project_id)
    try:
        item.project = project_get_for_user(user=user, project_id=project_id, require=require)
    except NotFound:
        raise NotFound(ITEM_NOT_FOUND, field="item") from None
    return item


# --- progress, adjudication, gold ------------------------------------------------------------

def review_progress(*, project: Project, user=None) -> dict:
    """Items reviewed (by a person, in review), waiting for review, and in the whole project."""
    counts = Item.objects.filter(project=project).aggregate(
        total=Count("id"),
        reviewed=Count("id", filter=Q(state=Item.State.REVIEWED, final_source=Item.FinalSource.REVIEW)),
        waiting=Count("id", filter=Q(state=Item.State.NEEDS_REVIEW)),
        audit_pending=Count("id", filter=audit_pending_q()),
        adjudication=Count("id", filter=Q(queue_reason=Item.QueueReason.ADJUDICATION) & ~Q(state=Item.State.REVIEWED)),
    )
    counts["to_review"] = counts["reviewed"] + counts["waiting"]
    if user is not None:
        counts["mine"] = ReviewDecision.objects.filter(project=project, reviewer=user, undone_at__isnull=True).count()
    return counts


def adjudication_list(*, project: Project) -> list[Item]:
    """Items whose reviewers tied, oldest first, each with ``decisions_shown`` (the live decisions)."""
    items = list(
        Item.objects.filter(project=project, queue_reason=Item.QueueReason.ADJUDICATION).exclude(state=Item.State.REVIEWED)
        .select_related("prediction").order_by("id")[:200]
    )
    by_item: dict[int, list[ReviewDecision]] = {item.pk: [] for item in items}
    for decision in (ReviewDecision.objects.filter(item_id__in=by_item, undone_at__isnull=True, is_gold=False)
                     .select_related("reviewer").order_by("created_at", "id")):
        by_item[decision.item_id].append(decision)
    for item in items:
        item.decisions_shown = by_item[item.pk]
    return items


def gold_list(*, project: Project) -> list[Item]:
    """Gold items with how many reviewers answered them and how many were right."""
    return list(
        Item.objects.filter(project=project, gold_labels__isnull=False)
        .annotate(
            gold_answered=Count("review_decisions", filter=Q(review_decisions__is_gold=True,
                                                             review_decisions__undone_at__isnull=True)),
            gold_correct=Count("review_decisions", filter=Q(review_decisions__is_gold=True,
                                                            review_decisions__undone_at__isnull=True,
                                                            review_decisions__gold_correct=True)),
        ).order_by("id")
    )


def review_projects_for(*, user) -> list[Project]:
    """Every active project in the caller's organizations, with ``caller_role`` and progress counts."""

    def item_count(condition: Q) -> Subquery:
        items = (Item.objects.filter(condition, project=OuterRef("pk")).order_by().values("project")
                 .annotate(n=Count("id")).values("n"))
        return Coalesce(Subquery(items), 0)

    counts = {
        "reviewed_count": item_count(Q(state=Item.State.REVIEWED, final_source=Item.FinalSource.REVIEW)),
        "waiting_count": item_count(Q(state=Item.State.NEEDS_REVIEW)),
    }
    projects: list[Project] = []
    for membership in Membership.objects.filter(user=user).select_related("organization").order_by("id"):
        listed = projects_for(user=user, organization=membership.organization, status=Project.Status.ACTIVE)
        for project in project_list_roles(listed.annotate(**counts)):
            project.organization = membership.organization
            project.reviewed_percent = round(100 * project.reviewed_count / project.item_count, 1) \
                if project.item_count else 0.0
            projects.append(project)
    return projects
