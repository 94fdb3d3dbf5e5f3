"""labeling.lifecycle: every Item transition, allowed and refused, on real rows."""

from datetime import timedelta

import pytest
from django.utils import timezone

from labeling import lifecycle
from labeling.lifecycle import FreshPrediction, TransitionRefused
from labeling.models import HumanLabel, Item, Job, Prediction
from projects.models import Project
from tests.factories import ItemFactory, LabelSchemaFactory, ProjectFactory, UserFactory

State, Reason, Source = Item.State, Item.QueueReason, Item.FinalSource


@pytest.fixture
def project(db):
    return ProjectFactory()


@pytest.fixture
def schema(project):
    return LabelSchemaFactory(project=project, categories=["positive", "negative"])


def _predicted(project, schema, item, labels, confidence):
    job = Job.objects.get_or_create(project=project, model_name="m", schema=schema)[0]
    prediction = Prediction.objects.create(item=item, job=job, model_name="m", schema=schema, labels=labels,
                                           confidence=confidence)
    return FreshPrediction(item_id=item.pk, prediction_id=prediction.pk, labels=labels, confidence=confidence)


def _decide(item_id, in_audit_slice, confidence):
    if in_audit_slice:
        return State.NEEDS_REVIEW, Reason.AUDIT
    return (State.AUTO_ACCEPTED, Reason.NONE) if confidence >= 0.9 else (State.NEEDS_REVIEW, Reason.UNCERTAIN)


def _row(item):
    item.refresh_from_db()
    return (item.state, item.queue_reason, item.final_labels, item.final_source)


# --- imported ---------------------------------------------------------------------------------

def test_an_item_imported_without_labels_is_unlabelled_and_with_labels_is_reviewed(project, schema):
    now = timezone.now()
    user = UserFactory()
    plain = lifecycle.item_imported_fields(labels=None, schema_id=schema.pk, user_id=user.pk, now=now)
    labelled = lifecycle.item_imported_fields(labels=["positive"], schema_id=schema.pk, user_id=user.pk, now=now)
    assert plain == {"state": State.UNLABELLED, "final_labels": None, "final_schema_id": None,
                     "final_source": Source.NONE, "decided_by_id": None, "decided_at": None}
    assert labelled == {"state": State.REVIEWED, "final_labels": ["positive"], "final_schema_id": schema.pk,
                        "final_source": Source.IMPORT, "decided_by_id": user.pk, "decided_at": now}


# --- predicted --------------------------------------------------------------------------------

def test_predicted_items_are_auto_accepted_or_queued_with_their_reason(project, schema):
    sure, unsure, audit = ItemFactory(project=project), ItemFactory(project=project), \
        ItemFactory(project=project, in_audit_slice=True)
    predictions = [_predicted(project, schema, sure, ["positive"], 0.95),
                   _predicted(project, schema, unsure, ["negative"], 0.4),
                   _predicted(project, schema, audit, ["negative"], 0.99)]
    assert lifecycle.items_predicted(predictions=predictions, schema_id=schema.pk, decide=_decide) == 3
    assert _row(sure) == (State.AUTO_ACCEPTED, Reason.NONE, ["positive"], Source.AUTO)
    assert sure.final_schema_id == schema.pk and sure.decided_at is not None and sure.confidence == 0.95
    assert _row(unsure) == (State.NEEDS_REVIEW, Reason.UNCERTAIN, None, Source.NONE)
    assert unsure.predicted_labels == ["negative"] and unsure.prediction_id == predictions[1].prediction_id
    assert _row(audit) == (State.NEEDS_REVIEW, Reason.AUDIT, None, Source.NONE)


def test_a_prediction_never_moves_an_item_a_person_decided_or_reviewers_are_on(project, schema):
    decided = ItemFactory(project=project, state=State.REVIEWED, final_labels=["negative"],
                          final_source=Source.REVIEW)
    overlapping = ItemFactory(project=project, state=State.NEEDS_REVIEW, queue_reason=Reason.UNCERTAIN,
                              review_count=1, required_reviews=2)
    tied = ItemFactory(project=project, state=State.NEEDS_REVIEW, queue_reason=Reason.ADJUDICATION)
    predictions = [_predicted(project, schema, item, ["positive"], 0.99) for item in (decided, overlapping, tied)]
    assert lifecycle.items_predicted(predictions=predictions, schema_id=schema.pk, decide=_decide) == 0
    assert _row(decided) == (State.REVIEWED, Reason.NONE, ["negative"], Source.REVIEW)
    assert decided.predicted_labels == ["positive"]  # the prediction itself is recorded
    assert _row(overlapping) == (State.NEEDS_REVIEW, Reason.UNCERTAIN, None, Source.NONE)
    assert _row(tied) == (State.NEEDS_REVIEW, Reason.ADJUDICATION, None, Source.NONE)


# --- leased and released ----------------------------------------------------------------------

def test_leasing_skips_items_someone_else_holds_and_release_gives_back_only_your_own(project):
    rita, sam = UserFactory(), UserFactory()
    later = timezone.now() + timedelta(minutes=10)
    free = ItemFactory(project=project, state=State.NEEDS_REVIEW)
    held = ItemFactory(project=project, state=State.NEEDS_REVIEW, lease_owner=sam, lease_expires_at=later)
    assert lifecycle.items_leased(item_ids=[free.pk, held.pk], user=rita, expires_at=later) == 1
    free.refresh_from_db()
    held.refresh_from_db()
    assert (free.lease_owner_id, free.lease_expires_at) == (rita.pk, later)
    assert held.lease_owner_id == sam.pk
    assert lifecycle.items_released(project=project, user=rita, item_ids=[free.pk, held.pk]) == 1
    free.refresh_from_db()
    held.refresh_from_db()
    assert (free.lease_owner_id, free.lease_expires_at, held.lease_owner_id) == (None, None, sam.pk)


# --- reviewed, adjudication, reopened ---------------------------------------------------------

def test_a_review_settles_the_item_and_clears_queue_and_lease(project, schema):
    rita = UserFactory()
    now = timezone.now()
    item = ItemFactory(project=project, state=State.NEEDS_REVIEW, queue_reason=Reason.UNCERTAIN, lease_owner=rita,
                       lease_expires_at=now + timedelta(minutes=5))
    before = lifecycle.item_snapshot(item)
    lifecycle.item_review_counted(item, required_reviews=1)
    lifecycle.item_reviewed(item, labels=["positive"], outcome=Item.ReviewOutcome.MODIFIED, schema=schema, user=rita,
                            now=now)
    lifecycle.items_review_save([item])
    item.refresh_from_db()
    assert (item.state, item.queue_reason, item.final_labels, item.final_source, item.review_outcome) == (
        State.REVIEWED, Reason.NONE, ["positive"], Source.REVIEW, Item.ReviewOutcome.MODIFIED)
    assert (item.review_count, item.lease_owner_id, item.decided_by_id) == (1, None, rita.pk)
    assert before["state"] == State.NEEDS_REVIEW and before["review_count"] == 0


@pytest.mark.parametrize(("state", "message"), [
    (State.REVIEWED, lifecycle.ALREADY_REVIEWED),
    (State.UNLABELLED, lifecycle.NOT_REVIEWABLE.format(state="unlabelled")),
])
def test_a_review_is_refused_on_an_item_not_waiting_for_one(project, schema, state, message):
    item = ItemFactory(project=project, state=state)
    for transition in (lambda: lifecycle.item_review_counted(item, required_reviews=1),
                       lambda: lifecycle.item_reviewed(item, labels=["positive"], outcome=Item.ReviewOutcome.MODIFIED,
                                                       schema=schema, user=None, now=timezone.now()),
                       lambda: lifecycle.item_sent_to_adjudication(item)):
        with pytest.raises(TransitionRefused) as refused:
            transition()
        assert (refused.value.message, refused.value.status_code) == (message, 409)
    assert _row(item)[0] == state


def test_a_tie_sends_the_item_to_adjudication(project):
    item = ItemFactory(project=project, state=State.NEEDS_REVIEW, queue_reason=Reason.POLICY, required_reviews=2,
                       review_count=1)
    lifecycle.item_review_counted(item, required_reviews=2)
    lifecycle.item_sent_to_adjudication(item)
    lifecycle.items_review_save([item])
    item.refresh_from_db()
    assert (item.state, item.queue_reason, item.review_count) == (State.NEEDS_REVIEW, Reason.ADJUDICATION, 2)


def test_reopening_restores_the_item_and_leases_it_to_the_reviewer_again(project, schema):
    rita = UserFactory()
    item = ItemFactory(project=project, state=State.NEEDS_REVIEW, queue_reason=Reason.QA)
    before = lifecycle.item_snapshot(item)
    lifecycle.item_review_counted(item, required_reviews=1)
    lifecycle.item_reviewed(item, labels=None, outcome=Item.ReviewOutcome.REJECTED, schema=schema, user=rita,
                            now=timezone.now())
    lifecycle.items_review_save([item])
    until = timezone.now() + timedelta(minutes=10)
    lifecycle.item_reopened(item, before=before, user=rita, lease_expires_at=until)
    item.refresh_from_db()
    assert _row(item) == (State.NEEDS_REVIEW, Reason.QA, None, Source.NONE)
    assert (item.review_count, item.review_outcome, item.decided_by_id) == (0, "", None)
    assert (item.lease_owner_id, item.lease_expires_at) == (rita.pk, until)


def test_reopening_an_item_nobody_reviewed_is_refused(project):
    item = ItemFactory(project=project, state=State.NEEDS_REVIEW, queue_reason=Reason.UNCERTAIN)
    with pytest.raises(TransitionRefused) as refused:
        lifecycle.item_reopened(item, before=lifecycle.item_snapshot(item), user=None,
                                lease_expires_at=timezone.now())
    assert refused.value.message == lifecycle.NOT_IN_REVIEW


# --- label issue resolved ---------------------------------------------------------------------

def test_resolving_a_label_issue_relabels_clears_queue_and_lease_and_counts_for_learning(project, schema):
    Project.objects.filter(pk=project.pk).update(learn_every=0)
    rita, sam = UserFactory(), UserFactory()
    item = ItemFactory(project=project, state=State.REVIEWED, final_labels=["negative"], final_source=Source.IMPORT,
                       queue_reason=Reason.AUDIT, lease_owner=sam,
                       lease_expires_at=timezone.now() + timedelta(minutes=3))
    label = lifecycle.item_label_issue_resolved(item, labels=["positive"], schema=schema, user=rita,
                                                now=timezone.now())
    item.refresh_from_db()
    assert _row(item) == (State.REVIEWED, Reason.NONE, ["positive"], Source.REVIEW)
    assert (item.review_outcome, item.decided_by_id, item.lease_owner_id, item.lease_expires_at) == (
        Item.ReviewOutcome.MODIFIED, rita.pk, None, None)
    assert list(HumanLabel.objects.filter(item=item).values_list("pk", "labels", "source")) == [
        (label.pk, ["positive"], HumanLabel.Source.REVIEW)]
    assert Project.objects.get(pk=project.pk).labels_since_learning == 1


def test_resolving_a_label_issue_on_an_item_without_a_human_label_is_refused(project, schema):
    item = ItemFactory(project=project, state=State.AUTO_ACCEPTED, final_labels=["negative"], final_source=Source.AUTO)
    with pytest.raises(TransitionRefused) as refused:
        lifecycle.item_label_issue_resolved(item, labels=["positive"], schema=schema, user=None, now=timezone.now())
    assert refused.value.message == lifecycle.NO_HUMAN_LABEL
    assert _row(item) == (State.AUTO_ACCEPTED, Reason.NONE, ["negative"], Source.AUTO)
    assert not HumanLabel.objects.filter(item=item).exists()


# --- the learning trigger ---------------------------------------------------------------------

def test_labels_added_counts_and_resets_every_learn_every(project, django_capture_on_commit_callbacks):
    Project.objects.filter(pk=project.pk).update(learn_every=3)
    assert lifecycle.labels_added(project_id=project.pk, count=0) is False
    assert lifecycle.labels_added(project_id=project.pk, count=2) is False
    assert Project.objects.get(pk=project.pk).labels_since_learning == 2
    with django_capture_on_commit_callbacks() as callbacks:
        assert lifecycle.labels_added(project_id=project.pk, count=1) is True
    assert Project.objects.get(pk=project.pk).labels_since_learning == 0
    assert len(callbacks) == 1  # the learning task, enqueued after commit
