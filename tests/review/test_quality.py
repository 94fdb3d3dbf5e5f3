"""Quality: overlap and consensus (ties go to a manager), gold checks, and agreement over real decisions."""

import pytest

from labeling.models import HumanLabel, Item
from projects.schemas import LABELS_UNKNOWN
from review import services
from review.models import ReviewDecision
from tests.review.scenario import item_waiting, queue, submit

pytestmark = pytest.mark.django_db


def overlap(project, reviewers=2, fraction=1.0):
    project.overlap_reviewers = reviewers
    project.overlap_fraction = fraction
    project.save(update_fields=["overlap_reviewers", "overlap_fraction"])


def ids(resp) -> list[int]:
    return [item["id"] for item in resp.data["items"]]


def test_overlap_is_a_deterministic_fraction_of_items(world):
    overlap(world.project, reviewers=3, fraction=0.3)

    needs = [services.overlap_required(project=world.project, item_id=pk) for pk in range(1, 2001)]

    assert set(needs) == {1, 3}
    assert 0.27 < needs.count(3) / 2000 < 0.33
    assert needs == [services.overlap_required(project=world.project, item_id=pk) for pk in range(1, 2001)]
    overlap(world.project, reviewers=3, fraction=0.0)
    assert {services.overlap_required(project=world.project, item_id=pk) for pk in range(1, 200)} == {1}


def test_an_overlapped_item_goes_back_to_the_queue_until_it_has_enough_reviews(world, client_for):
    overlap(world.project)
    item = item_waiting(world.project, world.schema, top="cat")
    rita, rob = client_for(world.reviewer), client_for(world.reviewer2)

    assert ids(queue(rita, world.project)) == [item.pk]
    assert submit(rita, item, "approve").status_code == 201
    item.refresh_from_db()
    assert (item.state, item.review_count, item.required_reviews, item.lease_owner_id, item.final_labels) == (
        "needs_review", 1, 2, None, None)
    assert HumanLabel.objects.count() == 0
    assert ids(queue(rita, world.project)) == []
    assert submit(rita, item, "approve").data == {"item": [services.ALREADY_DECIDED]}

    assert ids(queue(rob, world.project)) == [item.pk]
    resp = submit(rob, item, "modify", labels=["cat"])

    assert resp.status_code == 201
    item.refresh_from_db()
    assert (item.state, item.final_labels, item.review_outcome, item.decided_by_id, item.review_count) == (
        "reviewed", ["cat"], "approved", world.reviewer2.pk, 2)
    assert list(HumanLabel.objects.values_list("item_id", "labels")) == [(item.pk, ["cat"])]


def test_the_majority_of_three_settles_an_item(world, client_for, make_member, org):
    overlap(world.project, reviewers=3)
    third = make_member("reviewer", org)
    item = item_waiting(world.project, world.schema, top="cat")

    submit(client_for(world.reviewer), item, "modify", labels=["dog"])
    submit(client_for(world.reviewer2), item, "approve")
    submit(client_for(third), item, "modify", labels=["dog"])

    item.refresh_from_db()
    assert (item.state, item.final_labels, item.review_outcome, item.queue_reason) == (
        "reviewed", ["dog"], "modified", "")


def test_a_tie_goes_to_a_manager_whose_decision_settles_it(world, client_for):
    overlap(world.project)
    item = item_waiting(world.project, world.schema, top="cat")
    rita, rob, manager = client_for(world.reviewer), client_for(world.reviewer2), client_for(world.manager)
    submit(rita, item, "approve")
    submit(rob, item, "reject")

    item.refresh_from_db()
    assert (item.state, item.queue_reason, item.review_count, item.final_labels) == (
        "needs_review", "adjudication", 2, None)
    assert ids(queue(manager, world.project)) == []
    listed = manager.get("/api/review/adjudication", {"project": world.project.pk})
    assert listed.status_code == 200
    assert [(i["id"], [(d["reviewer"], d["decision"], d["labels"]) for d in i["decisions"]]) for i in listed.data] == [
        (item.pk, [("rita@example.com", "approve", ["cat"]), ("rob@example.com", "reject", [])])]
    assert rita.get("/api/review/adjudication", {"project": world.project.pk}).status_code == 403
    assert submit(rita, item, "approve").data == {"item": [services.AWAITS_ADJUDICATION]}

    resp = submit(manager, item, "modify", labels=["bird"])

    assert resp.status_code == 201
    item.refresh_from_db()
    assert (item.state, item.final_labels, item.decided_by_id, item.review_outcome, item.queue_reason) == (
        "reviewed", ["bird"], world.manager.pk, "modified", "")
    assert ReviewDecision.objects.get(reviewer=world.manager).is_adjudication is True
    assert manager.get("/api/review/adjudication", {"project": world.project.pk}).data == []


def test_undo_after_another_reviewer_decided_is_a_409(world, client_for):
    overlap(world.project)
    item = item_waiting(world.project, world.schema)
    submit(client_for(world.reviewer), item)
    submit(client_for(world.reviewer2), item)

    resp = client_for(world.reviewer).post("/api/review/undo", {"project": world.project.pk}, format="json")

    assert resp.status_code == 409
    assert resp.data == {"detail": services.UNDO_SUPERSEDED}
    undone = client_for(world.reviewer2).post("/api/review/undo", {"project": world.project.pk}, format="json")
    assert undone.status_code == 200
    item.refresh_from_db()
    assert (item.state, item.review_count, item.lease_owner_id) == ("needs_review", 1, world.reviewer2.pk)


def test_gold_items_are_shown_to_each_reviewer_once_and_scored(world, client_for, settings):
    settings.REVIEW_GOLD_RATE = 1.0
    manager, rita, rob = client_for(world.manager), client_for(world.reviewer), client_for(world.reviewer2)
    gold_cat = item_waiting(world.project, world.schema, top="cat", state=Item.State.AUTO_ACCEPTED)
    gold_dog = item_waiting(world.project, world.schema, top="cat", state=Item.State.AUTO_ACCEPTED)
    waiting = item_waiting(world.project, world.schema, top="bird")

    bad = manager.post("/api/review/gold", {"item": gold_cat.pk, "labels": ["tiger"]}, format="json")
    assert bad.status_code == 400
    assert bad.data == {"labels": [LABELS_UNKNOWN.format(version=1, labels="'tiger'")]}
    assert manager.post("/api/review/gold", {"item": gold_cat.pk, "labels": ["cat"]}, format="json").status_code == 200
    assert manager.post("/api/review/gold", {"item": gold_dog.pk, "labels": ["Dog"]}, format="json").data[
        "gold_labels"] == ["dog"]
    assert rita.post("/api/review/gold", {"item": gold_dog.pk, "labels": ["dog"]}, format="json").status_code == 403

    shown = queue(rita, world.project, limit=5)
    assert sorted(ids(shown)) == sorted([gold_cat.pk, gold_dog.pk, waiting.pk])
    assert {item["reason"] for item in shown.data["items"]} == {"uncertainty"}  # blind
    assert submit(rita, gold_cat, "approve").status_code == 201
    assert submit(rita, gold_dog, "approve").status_code == 201
    assert submit(rita, gold_dog, "approve").data == {"item": [services.GOLD_ALREADY_ANSWERED]}

    assert ids(queue(rita, world.project, limit=5)) == [waiting.pk]
    assert sorted(ids(queue(rob, world.project, limit=5))) == sorted([gold_cat.pk, gold_dog.pk])
    assert list(ReviewDecision.objects.order_by("id").values_list("item_id", "is_gold", "gold_correct")) == [
        (gold_cat.pk, True, True), (gold_dog.pk, True, False)]
    for item in (gold_cat, gold_dog):  # gold never changes final labels
        item.refresh_from_db()
        assert (item.state, item.final_labels, item.review_count) == ("auto_accepted", None, 0)
    assert HumanLabel.objects.count() == 0

    listed = manager.get("/api/review/gold", {"project": world.project.pk})
    assert [(g["id"], g["gold_labels"], g["answered"], g["correct"]) for g in listed.data] == [
        (gold_cat.pk, ["cat"], 1, 1), (gold_dog.pk, ["dog"], 1, 0)]
    stats = rita.get("/api/review/stats", {"project": world.project.pk}).data
    assert [(r["email"], r["gold"]) for r in stats["reviewers"]] == [
        ("rita@example.com", {"answered": 2, "correct": 1, "accuracy": 0.5})]
    assert stats["project"]["gold"] == {"answered": 2, "correct": 1, "accuracy": 0.5}
    assert stats["project"]["reviewed"] == 0

    cleared = manager.post("/api/review/gold", {"item": gold_dog.pk, "labels": None}, format="json")
    assert cleared.data["gold_labels"] is None


def test_kappa_and_alpha_over_real_decisions_match_hand_values(world, client_for, settings):
    """Two reviewers on six items (cat/dog):   rita: c c d d c d
                                               rob:  c d d d c c
    observed agreement 4/6, chance 1/2 → kappa = (2/3 - 1/2) / (1/2) = 1/3;
    coincidences o_cc = 4, o_dd = 4, o_cd = o_dc = 2, n = 12 → alpha = 1 - 11 * 4 / (2 * 6 * 6) = 7/18."""
    overlap(world.project)
    rita_says = ["cat", "cat", "dog", "dog", "cat", "dog"]
    rob_says = ["cat", "dog", "dog", "dog", "cat", "cat"]
    items = [item_waiting(world.project, world.schema, top="cat") for _ in rita_says]
    rita, rob = client_for(world.reviewer), client_for(world.reviewer2)
    for item, a, b in zip(items, rita_says, rob_says, strict=True):
        assert submit(rita, item, "modify", labels=[a]).status_code == 201
        assert submit(rob, item, "modify", labels=[b]).status_code == 201
    extra = item_waiting(world.project, world.schema)  # decided then undone: it counts nowhere
    submit(rita, extra, "modify", labels=["bird"])
    rita.post("/api/review/undo", {"project": world.project.pk}, format="json")

    agreement = rita.get("/api/review/stats", {"project": world.project.pk}).data["project"]["agreement"]

    pair = sorted([world.reviewer.pk, world.reviewer2.pk], key=str)
    assert agreement["items"] == 6
    assert agreement["alpha"] == pytest.approx(7 / 18, abs=1e-12)
    assert len(agreement["pairs"]) == 1
    assert agreement["pairs"][0]["reviewers"] == pair
    assert agreement["pairs"][0]["items"] == 6
    assert agreement["pairs"][0]["kappa"] == pytest.approx(1 / 3, abs=1e-12)
    emails = {world.reviewer.pk: "rita@example.com", world.reviewer2.pk: "rob@example.com"}
    assert agreement["pairs"][0]["emails"] == [emails[pk] for pk in pair]
