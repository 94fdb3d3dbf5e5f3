"""Decisions through the API: submit, batch (all or nothing) and undo, and what each writes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEvent
from labeling.models import HumanLabel, Item
from projects.models import Project
from projects.schemas import LABELS_UNKNOWN
from review import services
from review.models import ReviewDecision
from tests.review.scenario import item_waiting, queue, schema_for, submit

pytestmark = pytest.mark.django_db


def review_fields(item: Item) -> dict:
    item.refresh_from_db()
    return {
        "state": item.state, "final_labels": item.final_labels, "final_schema_id": item.final_schema_id,
        "final_source": item.final_source, "decided_by_id": item.decided_by_id, "review_outcome": item.review_outcome,
        "review_count": item.review_count, "required_reviews": item.required_reviews,
        "lease_owner_id": item.lease_owner_id, "predicted_labels": item.predicted_labels,
    }


def test_approve_stores_the_final_label_apart_from_the_prediction(world, client_for):
    item = item_waiting(world.project, world.schema, top="cat", confidence=0.4)
    client = client_for(world.reviewer)
    queue(client, world.project)

    resp = submit(client, item, "approve", seconds=3.5)

    assert resp.status_code == 201
    assert resp.data["decision"] == "approve"
    assert resp.data["labels"] == ["cat"]
    assert resp.data["item_state"] == "reviewed"
    assert resp.data["review_outcome"] == "approved"
    assert resp.data["schema_version"] == 1
    assert review_fields(item) == {
        "state": "reviewed", "final_labels": ["cat"], "final_schema_id": world.schema.pk, "final_source": "review",
        "decided_by_id": world.reviewer.pk, "review_outcome": "approved", "review_count": 1, "required_reviews": 1,
        "lease_owner_id": None, "predicted_labels": ["cat"],
    }
    assert item.decided_at is not None
    decision = ReviewDecision.objects.get()
    assert (decision.item_id, decision.reviewer_id, decision.decision, decision.labels, decision.schema_id,
            decision.seconds_spent, decision.prediction_id, decision.is_gold, decision.agrees_with_model) == (
        item.pk, world.reviewer.pk, "approve", ["cat"], world.schema.pk, 3.5, item.prediction_id, False, True)
    assert list(HumanLabel.objects.values_list("item_id", "labels", "schema_id", "source", "created_by_id")) == [
        (item.pk, ["cat"], world.schema.pk, "review", world.reviewer.pk)]
    assert decision.human_label_id == HumanLabel.objects.get().pk
    assert list(AuditEvent.objects.filter(action="review.decided").values_list("actor_id", "target_id")) == [
        (world.reviewer.pk, str(item.pk))]


def test_modify_takes_the_reviewers_labels_in_canonical_spelling(world, client_for):
    item = item_waiting(world.project, world.schema, top="cat")

    resp = submit(client_for(world.reviewer), item, "modify", labels=["  Dog "])

    assert resp.status_code == 201
    assert resp.data["labels"] == ["dog"]
    fields = review_fields(item)
    assert (fields["final_labels"], fields["review_outcome"], fields["predicted_labels"]) == (["dog"], "modified",
                                                                                            ["cat"])
    assert ReviewDecision.objects.get().agrees_with_model is False


def test_reject_leaves_the_item_without_labels_and_out_of_human_labels(world, client_for):
    item = item_waiting(world.project, world.schema, top="cat")

    resp = submit(client_for(world.reviewer), item, "reject")

    assert resp.status_code == 201
    fields = review_fields(item)
    assert (fields["state"], fields["final_labels"], fields["review_outcome"], fields["final_source"]) == (
        "reviewed", None, "rejected", "review")
    assert ReviewDecision.objects.get().labels == []
    assert HumanLabel.objects.count() == 0


def test_a_label_outside_the_schema_is_a_400_naming_it_and_writes_nothing(world, client_for):
    item = item_waiting(world.project, world.schema)

    resp = submit(client_for(world.reviewer), item, "modify", labels=["dog", "wolf"])

    assert resp.status_code == 400
    assert resp.data == {"labels": [LABELS_UNKNOWN.format(version=1, labels="'wolf'")]}
    assert "'wolf'" in resp.data["labels"][0]
    assert ReviewDecision.objects.count() == 0
    assert review_fields(item)["state"] == "needs_review"


def test_labels_are_checked_against_the_current_schema_version(world, client_for):
    item = item_waiting(world.project, world.schema, top="cat")
    schema_for(world.project, ["cat", "dog", "fox"])  # version 2 drops "bird"

    old = submit(client_for(world.reviewer), item, "modify", labels=["bird"])
    new = submit(client_for(world.reviewer), item, "modify", labels=["fox"])

    assert old.status_code == 400
    assert old.data == {"labels": [LABELS_UNKNOWN.format(version=2, labels="'bird'")]}
    assert new.status_code == 201
    assert new.data["schema_version"] == 2
    assert review_fields(item)["final_schema_id"] == Project.objects.get().schemas.get(version=2).pk


@pytest.mark.parametrize(("decision", "labels", "message"), [
    ("modify", None, services.LABELS_REQUIRED),
    ("reject", ["dog"], services.REJECT_WITHOUT_LABELS),
])
def test_labels_must_match_the_decision(world, client_for, decision, labels, message):
    item = item_waiting(world.project, world.schema)

    resp = submit(client_for(world.reviewer), item, decision, labels=labels)

    assert resp.status_code == 400
    assert resp.data == {"labels": [message]}


def test_approve_needs_a_prediction(world, client_for):
    item = item_waiting(world.project, world.schema)
    Item.objects.filter(pk=item.pk).update(prediction=None, predicted_labels=None, confidence=None)

    resp = submit(client_for(world.reviewer), item, "approve")

    assert resp.status_code == 400
    assert resp.data == {"decision": [services.NOTHING_TO_APPROVE]}


def test_someone_elses_lease_is_a_409(world, client_for):
    item = item_waiting(world.project, world.schema)
    queue(client_for(world.reviewer2), world.project)

    resp = submit(client_for(world.reviewer), item)

    assert resp.status_code == 409
    assert resp.data == {"item": [services.LEASED_TO_ANOTHER]}
    assert ReviewDecision.objects.count() == 0


def test_an_expired_lease_of_someone_else_does_not_block(world, client_for):
    item = item_waiting(world.project, world.schema)
    Item.objects.filter(pk=item.pk).update(lease_owner=world.reviewer2,
                                           lease_expires_at=timezone.now() - timedelta(seconds=1))

    assert submit(client_for(world.reviewer), item).status_code == 201


def test_an_item_not_waiting_for_review_is_a_409(world, client_for):
    item = item_waiting(world.project, world.schema, state=Item.State.AUTO_ACCEPTED)

    resp = submit(client_for(world.reviewer), item)

    assert resp.status_code == 409
    assert resp.data == {"item": [services.ITEM_NOT_OPEN]}


def test_batch_writes_all(world, client_for):
    items = [item_waiting(world.project, world.schema, top="cat") for _ in range(3)]
    body = {"project": world.project.pk, "decisions": [
        {"item": items[0].pk, "decision": "approve", "seconds_spent": 1},
        {"item": items[1].pk, "decision": "modify", "labels": ["bird"], "seconds_spent": 2},
        {"item": items[2].pk, "decision": "reject", "seconds_spent": 3},
    ]}

    resp = client_for(world.reviewer).post("/api/review/batch", body, format="json")

    assert resp.status_code == 201
    assert [(d["item"], d["decision"], d["labels"], d["item_state"]) for d in resp.data["decisions"]] == [
        (items[0].pk, "approve", ["cat"], "reviewed"), (items[1].pk, "modify", ["bird"], "reviewed"),
        (items[2].pk, "reject", [], "reviewed")]
    assert [review_fields(i)["final_labels"] for i in items] == [["cat"], ["bird"], None]
    assert HumanLabel.objects.count() == 2


def test_a_batch_with_one_bad_decision_writes_nothing_and_names_it(world, client_for):
    items = [item_waiting(world.project, world.schema, top="cat") for _ in range(3)]
    body = {"project": world.project.pk, "decisions": [
        {"item": items[0].pk, "decision": "approve"},
        {"item": items[1].pk, "decision": "modify", "labels": ["unicorn"]},
        {"item": items[2].pk, "decision": "reject"},
    ]}

    resp = client_for(world.reviewer).post("/api/review/batch", body, format="json")

    assert resp.status_code == 400
    assert resp.data == {
        "detail": services.BATCH_INVALID.format(count=1, total=3),
        "errors": {"1": {"labels": [LABELS_UNKNOWN.format(version=1, labels="'unicorn'")]}},
    }
    assert ReviewDecision.objects.count() == 0
    assert HumanLabel.objects.count() == 0
    assert AuditEvent.objects.filter(action="review.decided").count() == 0
    assert [review_fields(i)["state"] for i in items] == ["needs_review"] * 3


def test_a_batch_names_every_bad_decision(world, client_for, other_org):
    mine = item_waiting(world.project, world.schema)
    leased = item_waiting(world.project, world.schema)
    Item.objects.filter(pk=leased.pk).update(lease_owner=world.reviewer2,
                                             lease_expires_at=timezone.now() + timedelta(minutes=5))
    body = {"project": world.project.pk, "decisions": [
        {"item": mine.pk, "decision": "approve"},
        {"item": mine.pk, "decision": "reject"},
        {"item": leased.pk, "decision": "approve"},
        {"item": 999999, "decision": "approve"},
    ]}

    resp = client_for(world.reviewer).post("/api/review/batch", body, format="json")

    assert resp.status_code == 400
    assert resp.data["errors"] == {
        "1": {"item": [services.DUPLICATE_IN_BATCH]},
        "2": {"item": [services.LEASED_TO_ANOTHER]},
        "3": {"item": [services.ITEM_NOT_IN_PROJECT]},
    }
    assert ReviewDecision.objects.count() == 0


def test_a_malformed_batch_entry_is_named_by_its_index(world, client_for):
    item = item_waiting(world.project, world.schema)
    body = {"project": world.project.pk, "decisions": [
        {"item": item.pk, "decision": "approve"}, {"item": item.pk, "decision": "maybe"}]}

    resp = client_for(world.reviewer).post("/api/review/batch", body, format="json")

    assert resp.status_code == 400
    assert resp.data == {"detail": services.BATCH_INVALID.format(count=1, total=2),
                         "errors": {"1": {"decision": ['"maybe" is not a valid choice.']}}}
    assert ReviewDecision.objects.count() == 0


def test_undo_restores_the_item_and_leases_it_again(world, client_for):
    item = item_waiting(world.project, world.schema, top="cat")
    client = client_for(world.reviewer)
    queue(client, world.project)
    before = review_fields(item)
    assert submit(client, item, "modify", labels=["dog"]).status_code == 201

    resp = client.post("/api/review/undo", {"project": world.project.pk}, format="json")

    assert resp.status_code == 200
    assert resp.data["undone"]["item"] == item.pk
    assert resp.data["undone"]["undone_at"] is not None
    assert resp.data["item"]["id"] == item.pk
    assert review_fields(item) == {**before, "lease_owner_id": world.reviewer.pk}
    assert item.decided_at is None
    assert item.lease_expires_at > timezone.now()
    assert HumanLabel.objects.count() == 0
    assert ReviewDecision.objects.get().undone_at is not None
    assert AuditEvent.objects.filter(action="review.undone", target_id=str(item.pk)).count() == 1
    # decided again, differently
    assert submit(client, item, "approve").status_code == 201
    assert review_fields(item)["final_labels"] == ["cat"]


def test_undo_takes_back_only_the_latest_decision(world, client_for):
    first, second = item_waiting(world.project, world.schema), item_waiting(world.project, world.schema)
    client = client_for(world.reviewer)
    submit(client, first)
    submit(client, second)

    client.post("/api/review/undo", {"project": world.project.pk}, format="json")

    assert review_fields(first)["state"] == "reviewed"
    assert review_fields(second)["state"] == "needs_review"


def test_undo_with_nothing_to_undo_is_a_409(world, client_for):
    resp = client_for(world.reviewer).post("/api/review/undo", {"project": world.project.pk}, format="json")

    assert resp.status_code == 409
    assert resp.data == {"detail": services.NOTHING_TO_UNDO}


def test_human_labels_count_towards_learning_after_commit(world, client_for, django_capture_on_commit_callbacks):
    items = [item_waiting(world.project, world.schema, top="cat") for _ in range(3)]
    body = {"project": world.project.pk, "decisions": [
        {"item": items[0].pk, "decision": "approve"}, {"item": items[1].pk, "decision": "reject"},
        {"item": items[2].pk, "decision": "modify", "labels": ["dog"]}]}

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        resp = client_for(world.reviewer).post("/api/review/batch", body, format="json")

    assert resp.status_code == 201
    assert len(callbacks) == 1
    assert Project.objects.get(pk=world.project.pk).labels_since_learning == 2  # the rejection gave no label
