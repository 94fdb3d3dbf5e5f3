"""The leased review queue (``review.selectors.queue`` + ``review.services.queue_lease``) through its API."""

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from labeling.models import Item
from review import selectors
from review.selectors import UNKNOWN_STRATEGY
from tests.factories import ItemFactory
from tests.review.scenario import item_waiting, queue, submit

pytestmark = pytest.mark.django_db


def ids(resp) -> list[int]:
    return [item["id"] for item in resp.data["items"]]


def audit_rank(pk: int) -> str:
    return hashlib.md5(str(pk).encode()).hexdigest()


def test_audit_slice_interleaved_with_the_lowest_confidence(world, client_for):
    p, s = world.project, world.schema
    high = item_waiting(p, s, confidence=0.9)
    low = item_waiting(p, s, top="dog", confidence=0.4, probabilities=[0.35, 0.4, 0.25])
    mid = item_waiting(p, s, confidence=0.6)
    audit_confident = item_waiting(p, s, confidence=0.99, state=Item.State.AUTO_ACCEPTED, in_audit_slice=True)
    audit_waiting = item_waiting(p, s, confidence=0.7, in_audit_slice=True)
    audit_done = item_waiting(p, s, confidence=0.35, state=Item.State.REVIEWED, in_audit_slice=True,
                              final_source=Item.FinalSource.REVIEW)
    item_waiting(p, s, confidence=0.34, state=Item.State.AUTO_ACCEPTED)  # neither waiting nor audit
    ItemFactory(project=p, state=Item.State.UNLABELLED, in_audit_slice=True)  # no prediction yet

    resp = queue(client_for(world.reviewer), p, limit=10)

    assert resp.status_code == 200
    # one audited label so far and no other: two strategy picks, then an audit item, and so on; the audit
    # items in their fixed shuffle (by the hash of their id)
    first_audit, second_audit = sorted([audit_confident.pk, audit_waiting.pk], key=audit_rank)
    assert ids(resp) == [low.pk, mid.pk, first_audit, high.pk, second_audit]
    assert [item["reason"] for item in resp.data["items"]] == ["uncertainty", "uncertainty", "audit", "uncertainty",
                                                              "audit"]
    assert resp.data["strategy"] == "uncertainty"
    assert audit_done.pk not in ids(resp)
    shown = resp.data["items"][0]
    assert shown["kind"] == "text"
    assert shown["text"] == low.text
    assert shown["file_url"] is None
    assert shown["predicted_labels"] == ["dog"]
    assert shown["confidence"] == 0.4
    assert shown["predictions"] == [{"label": "dog", "confidence": 0.4}, {"label": "cat", "confidence": 0.35},
                                    {"label": "bird", "confidence": 0.25}]


def test_the_audit_slice_is_served_in_a_fixed_shuffle_not_in_id_order(world, client_for):
    # Items imported one folder (one class) after another: in id order the first audited items would all
    # be cats, and the threshold chosen on the audited part would be chosen on cats alone.
    audit = [item_waiting(world.project, world.schema, top=top, confidence=0.6, in_audit_slice=True)
             for top in ["cat"] * 4 + ["dog"] * 4 + ["bird"] * 4]
    shuffled = sorted([item.pk for item in audit], key=audit_rank)
    assert shuffled != [item.pk for item in audit]
    client = client_for(world.reviewer)

    served = []
    for _ in audit:  # one at a time, each decided before the next is asked for
        resp = queue(client, world.project, limit=1)
        assert [item["reason"] for item in resp.data["items"]] == ["audit"]
        served += ids(resp)
        assert submit(client, served[-1]).status_code == 201

    assert served == shuffled
    assert ids(queue(client, world.project, limit=1)) == []


def test_items_are_leased_to_the_caller_and_a_refetch_returns_the_same(world, client_for):
    items = [item_waiting(world.project, world.schema, confidence=c) for c in (0.1, 0.2, 0.3, 0.4)]
    client = client_for(world.reviewer)

    first = queue(client, world.project, limit=2)
    again = queue(client, world.project, limit=2)
    more = queue(client, world.project, limit=3)

    assert ids(first) == [items[0].pk, items[1].pk]
    assert ids(again) == [items[0].pk, items[1].pk]
    assert ids(more) == [items[0].pk, items[1].pk, items[2].pk]
    leased = Item.objects.filter(lease_owner=world.reviewer).order_by("id")
    assert list(leased.values_list("id", flat=True)) == [items[0].pk, items[1].pk, items[2].pk]
    expires = Item.objects.get(pk=items[0].pk).lease_expires_at
    assert timedelta(seconds=590) < expires - timezone.now() <= timedelta(seconds=600)


def test_an_unexpired_lease_of_someone_else_is_never_handed_out(world, client_for):
    mine, theirs = item_waiting(world.project, world.schema, confidence=0.1), \
        item_waiting(world.project, world.schema, confidence=0.2)
    Item.objects.filter(pk=mine.pk).update(lease_owner=world.reviewer2,
                                           lease_expires_at=timezone.now() + timedelta(seconds=30))

    resp = queue(client_for(world.reviewer), world.project, limit=5)

    assert ids(resp) == [theirs.pk]


def test_an_expired_lease_returns_the_item(world, client_for):
    abandoned = item_waiting(world.project, world.schema, confidence=0.1)
    Item.objects.filter(pk=abandoned.pk).update(lease_owner=world.reviewer2,
                                                lease_expires_at=timezone.now() - timedelta(seconds=1))

    resp = queue(client_for(world.reviewer), world.project, limit=5)

    assert ids(resp) == [abandoned.pk]
    abandoned.refresh_from_db()
    assert abandoned.lease_owner_id == world.reviewer.pk
    assert abandoned.lease_expires_at > timezone.now()


def test_unknown_strategy_is_a_400_listing_the_available_ones(world, client_for):
    resp = queue(client_for(world.reviewer), world.project, strategy="psychic")

    assert resp.status_code == 400
    assert resp.data == {"strategy": [UNKNOWN_STRATEGY.format(
        name="psychic", available="disagreement, diversity, entropy, margin, random, uncertainty, weighted_diversity")]}


def test_the_projects_default_strategy_is_used_and_must_be_known(world, client_for):
    world.project.queue_strategy = "clairvoyance"
    world.project.save(update_fields=["queue_strategy"])

    resp = queue(client_for(world.reviewer), world.project)

    assert resp.status_code == 400
    assert resp.data == {"strategy": [UNKNOWN_STRATEGY.format(
        name="clairvoyance", available=", ".join(sorted(selectors.QUEUE_STRATEGIES)))]}


def test_a_registered_strategy_orders_the_pool(world, client_for, monkeypatch):
    items = [item_waiting(world.project, world.schema, confidence=c) for c in (0.1, 0.2, 0.3)]

    def newest_first(*, pool, project, user, limit):
        return selectors.pool_in_order(pool, list(pool.order_by("-id").values_list("id", flat=True)[:limit * 2]))

    monkeypatch.setitem(selectors.QUEUE_STRATEGIES, "newest", newest_first)
    resp = queue(client_for(world.reviewer), world.project, strategy="newest", limit=2)

    assert resp.status_code == 200
    assert ids(resp) == [items[2].pk, items[1].pk]
    assert resp.data["strategy"] == "newest"
    assert {item["reason"] for item in resp.data["items"]} == {"newest"}


@pytest.mark.parametrize(("strategy", "order"), [
    ("uncertainty", ["flat", "close", "sure"]),   # the lowest top probability first
    ("margin", ["close", "flat", "sure"]),        # the smallest gap between the top two first
    ("entropy", ["flat", "close", "sure"]),       # the most spread out first
])
def test_active_learning_strategies_order_the_queue(world, client_for, strategy, order):
    world.project.default_model = ""  # probabilities only: these items have no stored embeddings
    world.project.save(update_fields=["default_model"])
    items = {
        "close": item_waiting(world.project, world.schema, confidence=0.5, probabilities=[0.5, 0.45, 0.05]),
        "flat": item_waiting(world.project, world.schema, confidence=0.4, probabilities=[0.4, 0.3, 0.3]),
        "sure": item_waiting(world.project, world.schema, confidence=0.9, probabilities=[0.9, 0.05, 0.05]),
    }

    resp = queue(client_for(world.reviewer), world.project, strategy=strategy, limit=3)

    assert resp.status_code == 200
    assert ids(resp) == [items[name].pk for name in order]
    assert {item["reason"] for item in resp.data["items"]} == {strategy}


def test_an_active_learning_strategy_on_an_empty_queue_hands_out_nothing(world, client_for):
    resp = queue(client_for(world.reviewer), world.project, strategy="margin")

    assert resp.status_code == 200
    assert resp.data["items"] == []


def test_skipped_items_are_left_out_and_release_gives_them_back(world, client_for):
    first, second = item_waiting(world.project, world.schema, confidence=0.1), \
        item_waiting(world.project, world.schema, confidence=0.2)
    client = client_for(world.reviewer)
    assert ids(queue(client, world.project, limit=1)) == [first.pk]

    released = client.post("/api/review/release", {"project": world.project.pk, "items": [first.pk]}, format="json")
    after_skip = queue(client, world.project, limit=1, exclude=str(first.pk))

    assert released.status_code == 200
    assert released.data == {"released": 1}
    assert ids(after_skip) == [second.pk]
    assert ids(queue(client_for(world.reviewer2), world.project, limit=1)) == [first.pk]


def test_an_item_already_decided_by_the_caller_is_not_handed_to_them_again(world, client_for):
    world.project.overlap_fraction = 1.0
    world.project.overlap_reviewers = 2
    world.project.save()
    item = item_waiting(world.project, world.schema, confidence=0.1)
    rita = client_for(world.reviewer)
    assert ids(queue(rita, world.project)) == [item.pk]
    assert submit(rita, item).status_code == 201

    assert ids(queue(rita, world.project)) == []
    assert ids(queue(client_for(world.reviewer2), world.project)) == [item.pk]
