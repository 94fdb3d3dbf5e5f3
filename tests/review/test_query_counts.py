"""The queue and a decision cost the same number of queries whatever the project's size (no N+1)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import ProjectFactory
from tests.review.scenario import item_waiting, queue, schema_for, submit

pytestmark = pytest.mark.django_db

QUEUE_MAX_QUERIES = 12
SUBMIT_MAX_QUERIES = 14


def project_of(org, size: int):
    project = ProjectFactory(organization=org)
    schema = schema_for(project)
    items = [item_waiting(project, schema, confidence=0.34 + i / (size * 2)) for i in range(size)]
    audit = [item_waiting(project, schema, confidence=0.9, in_audit_slice=True) for _ in range(2)]
    return project, items, audit


def count(call) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        resp = call()
    return len(captured.captured_queries), resp


def test_queue_queries_do_not_grow_with_the_project_or_the_limit(org, make_member, client_for):
    reviewer = make_member("reviewer", org)
    small, _, _ = project_of(org, 12)
    large, _, _ = project_of(org, 150)
    client = client_for(reviewer)

    small_count, small_resp = count(lambda: queue(client, small, limit=10))
    large_count, large_resp = count(lambda: queue(client, large, limit=10))
    refetch_count, _ = count(lambda: queue(client, large, limit=10))
    wide_count, wide_resp = count(lambda: queue(client, large, limit=60))

    assert (len(small_resp.data["items"]), len(large_resp.data["items"]), len(wide_resp.data["items"])) == (10, 10, 60)
    assert small_count == large_count == wide_count
    assert refetch_count <= large_count
    assert large_count <= QUEUE_MAX_QUERIES


def test_a_decision_costs_the_same_queries_in_a_small_and_a_large_project(org, make_member, client_for):
    reviewer = make_member("reviewer", org)
    small, small_items, _ = project_of(org, 5)
    large, large_items, _ = project_of(org, 150)
    client = client_for(reviewer)
    queue(client, small, limit=3)
    queue(client, large, limit=3)

    small_count, small_resp = count(lambda: submit(client, small_items[0], "approve"))
    large_count, large_resp = count(lambda: submit(client, large_items[0], "modify", labels=["dog"]))

    assert (small_resp.status_code, large_resp.status_code) == (201, 201)
    assert small_count == large_count
    assert large_count <= SUBMIT_MAX_QUERIES


def test_stats_queries_do_not_grow_with_the_decisions(org, make_member, client_for):
    reviewers = [make_member("reviewer", org) for _ in range(3)]
    small, small_items, _ = project_of(org, 3)
    large, large_items, _ = project_of(org, 30)
    for items in (small_items, large_items):
        for index, item in enumerate(items):
            assert submit(client_for(reviewers[index % 3]), item, "approve").status_code == 201
    client = client_for(reviewers[0])

    small_count, _ = count(lambda: client.get("/api/review/stats", {"project": small.pk}))
    large_count, _ = count(lambda: client.get("/api/review/stats", {"project": large.pk}))

    assert small_count == large_count


def test_an_active_learning_queue_reads_its_window_in_its_own_query(org, make_member, client_for):
    """As a subquery, PostgreSQL could run the 2,000-item window once per waiting item (a nested loop it
    picks whenever its statistics lag behind a learning round's bulk re-decide: 2.4 s for 2,000 items)."""
    from review.selectors.queue import ACTIVE_LEARNING_WINDOW

    reviewer = make_member("reviewer", org)
    project, _, _ = project_of(org, 30)
    client = client_for(reviewer)
    with CaptureQueriesContext(connection) as captured:
        resp = client.get("/api/review/queue", {"project": project.pk, "limit": 10, "strategy": "margin"})
    assert (resp.status_code, len(resp.data["items"])) == (200, 10)
    window = f"LIMIT {ACTIVE_LEARNING_WINDOW}"
    sql = [q["sql"] for q in captured.captured_queries]
    assert sum(q.rstrip().endswith(window) for q in sql) == 1  # the window, read on its own
    assert not any(f"{window})" in q for q in sql)  # and never nested inside another query
