"""Reviewers pulling the queue at the same moment never receive the same item (PostgreSQL, real threads)."""

import threading

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from labeling.models import Item
from review.models import ReviewDecision
from review.services import queue_lease
from tests.review.scenario import item_waiting

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def in_thread(target, results: dict, key):
    def run():
        try:
            results[key] = target()
        except BaseException as exc:  # reported by the test
            results[key] = exc
        finally:
            connection.close()

    return threading.Thread(target=run)


def test_two_reviewers_pulling_at_the_same_time_never_get_the_same_item(postgres_only, world):
    items = [item_waiting(world.project, world.schema, confidence=0.34 + i / 200) for i in range(40)]
    rounds = 10  # 2 reviewers x 3 items a round drain 40 items in 7 rounds; the last ones come back empty
    barrier = threading.Barrier(2, timeout=30)

    def review_all(user):
        client = APIClient()
        client.force_authenticate(user)
        received = []
        for _ in range(rounds):
            barrier.wait()  # both fetch at the same moment, every round
            resp = client.get("/api/review/queue", {"project": world.project.pk, "limit": 3})
            assert resp.status_code == 200, resp.data
            batch = [item["id"] for item in resp.data["items"]]
            received.extend(batch)
            for pk in batch:
                decided = client.post("/api/review/submit", {"item": pk, "decision": "approve"}, format="json")
                assert decided.status_code == 201, decided.data
        return received

    results: dict = {}
    threads = [in_thread(lambda u=u: review_all(u), results, u.email) for u in (world.reviewer, world.reviewer2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    for outcome in results.values():
        if isinstance(outcome, BaseException):
            raise outcome
    rita, rob = results["rita@example.com"], results["rob@example.com"]
    assert set(rita).isdisjoint(rob)
    assert len(rita) == len(set(rita))
    assert len(rob) == len(set(rob))
    assert len(rita) + len(rob) == 40
    assert ReviewDecision.objects.count() == 40
    assert sorted(ReviewDecision.objects.values_list("item_id", flat=True)) == sorted(i.pk for i in items)
    assert Item.objects.filter(state=Item.State.REVIEWED).count() == 40


def test_a_lease_being_taken_is_skipped_not_waited_for(postgres_only, world):
    """While one reviewer's lease transaction is still open, another is handed the next items at once."""
    items = [item_waiting(world.project, world.schema, confidence=0.34 + i / 100) for i in range(6)]
    first_locked, second_done = threading.Event(), threading.Event()

    def first():
        with transaction.atomic():
            lease = queue_lease(user=world.reviewer, project=world.project, limit=3)
            first_locked.set()
            assert second_done.wait(timeout=30)
        return [item.pk for item in lease.items]

    def second():
        assert first_locked.wait(timeout=30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '5s'")  # a blocked lease would fail here, not hang
        lease = queue_lease(user=world.reviewer2, project=world.project, limit=3)
        second_done.set()
        return [item.pk for item in lease.items]

    results: dict = {}
    threads = [in_thread(first, results, "first"), in_thread(second, results, "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    for outcome in results.values():
        if isinstance(outcome, BaseException):
            raise outcome
    assert results["first"] == [items[0].pk, items[1].pk, items[2].pk]
    assert results["second"] == [items[3].pk, items[4].pk, items[5].pk]
