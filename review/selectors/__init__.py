"""Reads for review, scoped by the caller: the queue, leases, gold and adjudication lists.

The statistics over decisions are reports: they live in ``analytics.selectors.reviewers``.

The queue's strategy registry is ``QUEUE_STRATEGIES``; see ``review.selectors.queue`` for how to add one.
"""

from review.selectors.queue import (
    AUDIT_REASON,
    AUDIT_STATES,
    HUMAN_SOURCES,
    ITEM_NOT_FOUND,
    QUEUE_STRATEGIES,
    UNKNOWN_STRATEGY,
    QueueStrategy,
    adjudication_list,
    audit_pending_q,
    audit_pool,
    gold_list,
    gold_pool,
    items_for_display,
    open_for_review_q,
    own_leases,
    pool_in_order,
    queue_pool,
    queue_strategy,
    queue_strategy_get,
    review_item_get,
    review_progress,
    review_project_for_request,
    review_project_get,
    review_projects_for,
    top_predictions,
    uncertainty_order,
)

__all__ = [
    "AUDIT_REASON", "AUDIT_STATES", "HUMAN_SOURCES", "ITEM_NOT_FOUND", "QUEUE_STRATEGIES",
    "UNKNOWN_STRATEGY", "QueueStrategy", "adjudication_list", "audit_pending_q", "audit_pool",
    "gold_list", "gold_pool", "items_for_display", "open_for_review_q", "own_leases", "pool_in_order", "queue_pool",
    "queue_strategy", "queue_strategy_get", "review_item_get", "review_progress", "review_project_for_request",
    "review_project_get", "review_projects_for",
    "top_predictions", "uncertainty_order",
]
