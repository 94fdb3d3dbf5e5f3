"""The trust loop: the items always follow the statement (after every round and every settings change),
a round that cannot fit better leaves calibration as it was, the adaptive learning cadence, and the
learning settings and rounds over the API."""

import numpy as np
import pytest

from accounts.models import AuditEvent
from analytics.selectors import calibration_report
from labeling.engine import FewShotHead
from labeling.engine.calibration import softmax
from labeling.engine.registry import TEXT_MODEL
from labeling.inference.scoring import prior_logits
from labeling.learning.rounds import eligible_q, project_round
from labeling.learning.services import UNKNOWN_QUEUE_STRATEGY
from labeling.lifecycle import labels_added, next_round_at
from labeling.models import HeadVersion, Item, ItemEmbedding, LearningRound, ModelCalibration, Prediction
from projects.models import Project
from tests.factories import LabelSchemaFactory, ProjectFactory

CLASSES = ["positive", "negative", "neutral"]
MODEL = "vader-sentiment"  # a model without embeddings: rounds work from the stored logits


def _synthetic_project(*, n: int = 1500, audit: int = 400, labelled_other: int = 60, seed: int = 0,
                       overconfidence: float = 2.5, organization=None, **project_fields):
    """A project whose items carry stored predictions of a model ``overconfidence`` times too sure of
    itself; ``audit`` random items are in the audit slice and labelled with the truth, as are
    ``labelled_other`` items outside it; the rest wait, as a classify job leaves them."""
    rng = np.random.default_rng(seed)
    fields = {"default_model": MODEL, "audit_slice_size": audit} | project_fields
    project = ProjectFactory(**fields, **({"organization": organization} if organization else {}))
    schema = LabelSchemaFactory(project=project, categories=CLASSES)
    truth = rng.integers(0, 3, n)
    logits = rng.normal(0, 1, (n, 3))
    logits[np.arange(n), truth] += rng.uniform(0.5, 4.0, n)
    logits *= overconfidence
    probabilities = softmax(logits)
    items = Item.objects.bulk_create([Item(project=project, kind=Item.Kind.TEXT, text=f"item {i}",
                                           content_hash=f"{project.pk}-{i}", state=Item.State.PREDICTED)
                                      for i in range(n)])
    predictions = Prediction.objects.bulk_create([
        Prediction(item=item, model_name=MODEL, schema=schema, labels=[CLASSES[int(p.argmax())]],
                   confidence=float(p.max()), probabilities=p.round(6).tolist(), logits=z.round(5).tolist())
        for item, p, z in zip(items, probabilities, logits, strict=True)])
    order = rng.permutation(n)
    audited, other = set(order[:audit].tolist()), set(order[audit:audit + labelled_other].tolist())
    for k, (item, prediction) in enumerate(zip(items, predictions, strict=True)):
        item.prediction, item.predicted_labels, item.confidence = prediction, prediction.labels, prediction.confidence
        item.in_audit_slice = k in audited
        if k in audited or k in other:
            item.state, item.final_labels, item.final_schema = Item.State.REVIEWED, [CLASSES[truth[k]]], schema
            item.final_source, item.review_outcome = Item.FinalSource.REVIEW, Item.ReviewOutcome.APPROVED
        else:
            item.state, item.queue_reason = Item.State.NEEDS_REVIEW, Item.QueueReason.UNCERTAIN
    Item.objects.bulk_update(items, ["prediction", "predicted_labels", "confidence", "in_audit_slice", "state",
                                     "final_labels", "final_schema", "final_source", "review_outcome",
                                     "queue_reason"], batch_size=1000)
    project.refresh_from_db()
    return project, schema, {item.pk: CLASSES[truth[k]] for k, item in enumerate(items)}


def assert_items_follow_the_statement(project, schema, record: LearningRound):
    """The count of auto-accepted items is what the statement says, none is below the threshold in force,
    and every eligible item at or above it is accepted (policy: review below the threshold)."""
    calibration = ModelCalibration.objects.get(project=project, model_name=record.model_name)
    accepted = Item.objects.filter(project=project, state=Item.State.AUTO_ACCEPTED)
    eligible = Item.objects.filter(project=project).filter(eligible_q(schema))
    assert accepted.count() == record.auto_accepted == calibration.precision["accepted"]
    assert eligible.count() == record.eligible == calibration.precision["eligible"]
    assert calibration.threshold == record.threshold
    if record.threshold is None:
        assert record.auto_accepted == 0
        return
    assert f"{record.auto_accepted:,} of {record.eligible:,} eligible items" in record.statement
    assert min(accepted.values_list("confidence", flat=True)) >= record.threshold
    assert not eligible.filter(confidence__gte=record.threshold).exclude(state=Item.State.AUTO_ACCEPTED).exists()
    assert set(accepted.values_list("final_source", flat=True)) == {Item.FinalSource.AUTO}
    report = calibration_report(project=Project.objects.get(pk=project.pk))
    assert report["precision"]["statement"] == record.statement
    assert report["threshold"] == record.threshold


@pytest.mark.django_db
def test_a_round_calibrates_certifies_and_re_decides_every_item_in_one_pass():
    project, schema, truth = _synthetic_project()
    summary = project_round(project_id=project.pk)
    record = LearningRound.objects.get(project=project)
    assert summary["round"] == record.pk
    assert (record.trigger, record.labels_used, record.audited) == ("schedule", 460, 400)
    assert record.promotion_reason == "no head: the project's items have no stored embeddings"
    # the model is over-confident: the temperature grows, and it is judged out of fold before it is kept
    assert record.temperature_before == 1.0 and record.temperature_after > 1.5
    assert record.calibration_reason.startswith("refitted: held-out NLL ")
    assert record.ece_after < record.ece_before
    assert record.threshold is not None and record.auto_accepted > 0
    assert record.statement.startswith("auto-accepted labels are at least 97.0% correct with 95% confidence "
                                       "(Learn-then-Test, ")
    assert_items_follow_the_statement(project, schema, record)
    # re-scored from the stored logits at the new temperature (no forward pass): a re-score job's predictions
    item = Item.objects.filter(project=project, state=Item.State.AUTO_ACCEPTED).select_related("prediction").first()
    assert item.prediction.temperature == pytest.approx(record.temperature_after)
    assert item.final_labels == item.predicted_labels
    # and the accepted labels really are at least 97% right here
    accepted = Item.objects.filter(project=project, state=Item.State.AUTO_ACCEPTED).values_list("id", "final_labels")
    assert np.mean([labels == [truth[pk]] for pk, labels in accepted]) >= 0.97


@pytest.mark.django_db
def test_a_round_that_cannot_fit_better_leaves_calibration_as_it_was():
    project, schema, _ = _synthetic_project(seed=1)
    project_round(project_id=project.pk)
    first = LearningRound.objects.get(project=project)
    calibration = ModelCalibration.objects.get(project=project, model_name=MODEL)
    # no new labels: a refit cannot beat the temperature already fitted on the same items
    project_round(project_id=project.pk)
    second = LearningRound.objects.filter(project=project).first()
    assert second.pk != first.pk
    assert second.calibration_reason.startswith("kept: a new fit is not better on held-out NLL")
    assert second.temperature_before == second.temperature_after == first.temperature_after
    again = ModelCalibration.objects.get(project=project, model_name=MODEL)
    assert (again.temperature, again.nll_after) == (calibration.temperature, calibration.nll_after)
    assert (second.auto_accepted, second.threshold) == (first.auto_accepted, first.threshold)
    assert (second.accepted_now, second.returned_to_review) == (0, 0)
    assert_items_follow_the_statement(project, schema, second)


@pytest.mark.django_db
def test_a_settings_change_re_decides_the_items_at_once(org, make_member, client_for):
    project, schema, _ = _synthetic_project(seed=2, organization=org)
    project_round(project_id=project.pk)
    before = LearningRound.objects.get(project=project)
    manager = make_member("admin", org)
    client = client_for(manager, org)

    resp = client.patch(f"/api/projects/{project.pk}/learning", {"target_precision": 0.9}, format="json")
    assert resp.status_code == 200, resp.data
    assert resp.data["settings"]["target_precision"] == 0.9
    looser = LearningRound.objects.filter(project=project).first()
    assert (looser.trigger, resp.data["round"]["id"]) == ("settings", looser.pk)
    assert looser.threshold < before.threshold and looser.auto_accepted > before.auto_accepted
    assert looser.accepted_now == looser.auto_accepted - before.auto_accepted
    assert looser.temperature_after == before.temperature_after  # a settings change refits nothing
    assert_items_follow_the_statement(project, schema, looser)

    resp = client.patch(f"/api/projects/{project.pk}/learning", {"target_precision": 0.99, "strict_precision": True},
                        format="json")
    assert resp.status_code == 200, resp.data
    stricter = LearningRound.objects.filter(project=project).first()
    # items auto-accepted at 90% that no longer clear the stricter threshold go back to review
    assert stricter.returned_to_review > 0
    assert stricter.auto_accepted < looser.auto_accepted
    assert_items_follow_the_statement(project, schema, stricter)
    back = Item.objects.filter(project=project).filter(eligible_q(schema), state=Item.State.NEEDS_REVIEW)
    assert set(back.values_list("queue_reason", flat=True)) == {Item.QueueReason.UNCERTAIN}
    assert list(AuditEvent.objects.filter(action="project.learning_settings_updated").order_by("id")
                .values_list("metadata", flat=True)) == [{"target_precision": 0.9},
                                                         {"target_precision": 0.99, "strict_precision": True}]


@pytest.mark.django_db
def test_more_audit_items_are_drawn_and_held_for_review_when_the_audit_size_grows(org, make_member, client_for):
    project, schema, _ = _synthetic_project(seed=3, organization=org)
    project_round(project_id=project.pk)
    client = client_for(make_member("admin", org), org)
    resp = client.patch(f"/api/projects/{project.pk}/learning", {"audit_slice_size": 700}, format="json")
    assert resp.status_code == 200, resp.data
    assert Item.objects.filter(project=project, in_audit_slice=True).count() == 700
    waiting = Item.objects.filter(project=project, in_audit_slice=True).exclude(final_source=Item.FinalSource.REVIEW)
    labelled = Item.objects.filter(project=project, in_audit_slice=True, final_source=Item.FinalSource.REVIEW).count()
    assert 400 <= labelled < 460 and waiting.count() == 700 - labelled  # 300 drawn, a few already labelled
    assert set(waiting.values_list("state", "queue_reason")) == {(Item.State.NEEDS_REVIEW, Item.QueueReason.AUDIT)}
    assert_items_follow_the_statement(project, schema, LearningRound.objects.filter(project=project).first())


@pytest.mark.django_db
def test_learning_settings_are_validated_and_need_a_manager(org, other_org, make_member, client_for):
    project = ProjectFactory(organization=org, default_model=MODEL)
    manager, reviewer = make_member("admin", org), make_member("reviewer", org)
    url = f"/api/projects/{project.pk}/learning"
    client = client_for(manager, org)
    resp = client.patch(url, {"target_precision": 1.5, "precision_delta": 0}, format="json")
    assert resp.status_code == 400
    assert resp.data == {"target_precision": ["Ensure this value is less than or equal to 0.999."],
                         "precision_delta": ["Ensure this value is greater than or equal to 0.001."]}
    resp = client.patch(url, {"queue_strategy": "psychic"}, format="json")
    assert resp.status_code == 400
    assert resp.data == {"queue_strategy": [UNKNOWN_QUEUE_STRATEGY.format(
        name="psychic", available="disagreement, diversity, entropy, margin, random, uncertainty, weighted_diversity")]}
    assert not AuditEvent.objects.filter(action="project.learning_settings_updated").exists()
    assert client_for(reviewer, org).patch(url, {"learn_every": 5}, format="json").status_code == 403
    assert client_for(reviewer, org).get(url).status_code == 200
    assert client_for(make_member("admin", other_org), other_org).get(url).status_code == 404
    resp = client.patch(url, {"learn_first": 0, "learn_every": 25, "queue_strategy": "margin"}, format="json")
    assert resp.status_code == 200
    assert resp.data["round"] is None  # the cadence and the strategy move no item
    project.refresh_from_db()
    assert (project.learn_first, project.learn_every, project.queue_strategy, project.learn_next_at) == (
        0, 25, "margin", 25)


@pytest.mark.django_db
def test_rounds_are_listed_and_one_can_be_started(org, make_member, client_for):
    project, _, _ = _synthetic_project(n=600, audit=200, seed=4, organization=org)
    project_round(project_id=project.pk)
    client = client_for(make_member("admin", org), org)
    resp = client.get(f"/api/projects/{project.pk}/learning")
    assert resp.status_code == 200
    (row,) = resp.data["rounds"]
    record = LearningRound.objects.get(project=project)
    assert row["id"] == record.pk and row["statement"] == record.statement
    assert set(row) >= {"started_at", "labels_used", "head_version", "promoted", "promotion_reason",
                        "temperature_before", "temperature_after", "threshold", "coverage", "auto_accepted"}
    assert resp.data["settings"]["learn_next_at"] == project.learn_next_at
    resp = client.post(f"/api/projects/{project.pk}/learn")
    assert resp.status_code == 202
    assert resp.data == {"detail": "A learning round was queued."}
    assert AuditEvent.objects.filter(action="project.learning_started").count() == 1


def test_the_cadence_doubles_then_steps_by_learn_every():
    marks = [10]
    while len(marks) < 8:
        marks.append(next_round_at(marks[-1], first=10, every=50))
    assert marks == [10, 20, 40, 80, 130, 180, 230, 280]
    assert next_round_at(25, first=0, every=25) == 50


@pytest.mark.django_db
def test_labels_added_never_loses_the_overshoot():
    project = ProjectFactory(learn_first=10, learn_every=50)
    assert project.learn_next_at == 10
    assert labels_added(project_id=project.pk, count=9) is False
    assert labels_added(project_id=project.pk, count=1) is True  # the 10th label
    project.refresh_from_db()
    assert (project.labels_counted, project.learn_next_at) == (10, 20)
    # an import of 25 labels: one round, and the next mark is counted from the same grid, past 35
    assert labels_added(project_id=project.pk, count=25) is True
    project.refresh_from_db()
    assert (project.labels_counted, project.learn_next_at) == (35, 40)
    assert labels_added(project_id=project.pk, count=4) is False
    assert labels_added(project_id=project.pk, count=1) is True


def _store_embeddings(project, truth: dict, *, signal: float, seed: int = 0, dim: int = 32):
    """MiniLM-like embeddings for every item, stored as a classify job stores them: ``signal`` of each
    item's true category's direction plus noise (0: embeddings that say nothing about the category)."""
    rng = np.random.default_rng(seed)
    rows = []
    for item_id, label in truth.items():
        vector = rng.normal(0, 1, dim)
        vector[CLASSES.index(label)] += signal
        rows.append(ItemEmbedding(item_id=item_id, model_name=TEXT_MODEL, vector=vector.astype(np.float16).tobytes()))
    ItemEmbedding.objects.bulk_create(rows, batch_size=2000)


@pytest.mark.django_db
def test_a_sentiment_head_worse_than_its_prior_on_held_out_items_is_never_promoted():
    # the prior (VADER's stored logits) is right on most items; the embeddings carry nothing
    project, schema, truth = _synthetic_project(n=800, audit=200, labelled_other=100, seed=5)
    _store_embeddings(project, truth, signal=0.0)
    project_round(project_id=project.pk)
    record = LearningRound.objects.get(project=project)
    head = HeadVersion.objects.get(project=project)
    assert (record.promoted, head.is_active) == (False, False)
    assert head.heldout_accuracy <= head.baseline_accuracy
    assert record.promotion_reason == (
        f"kept the prior {MODEL}: {head.heldout_accuracy:.1%} held-out accuracy on 200 audited items does not "
        f"beat {head.baseline_accuracy:.1%}")
    # the prior's accuracy is measured on the same audited items, from its predictions made before review
    audited = Item.objects.filter(project=project, in_audit_slice=True).order_by("id")
    ids = list(audited.values_list("id", flat=True))
    prior = prior_logits(ids, MODEL, 3)
    assert head.baseline_accuracy == pytest.approx(np.mean([CLASSES[int(np.argmax(z))] == truth[i]
                                                             for i, z in zip(ids, prior, strict=True)]))
    # the prior's log-probabilities reached the head as features
    assert FewShotHead.from_bytes(bytes(head.head)).prior_dims == 3
    assert record.model_name == MODEL  # the items keep the prior's predictions
    assert_items_follow_the_statement(project, schema, record)


@pytest.mark.django_db
def test_a_sentiment_head_with_the_prior_as_features_is_promoted_and_re_scores_the_items_with_it():
    project, schema, truth = _synthetic_project(n=800, audit=200, labelled_other=100, seed=6)
    _store_embeddings(project, truth, signal=4.0)
    project_round(project_id=project.pk)
    record = LearningRound.objects.get(project=project)
    head_version = HeadVersion.objects.get(project=project)
    assert (record.promoted, head_version.is_active) == (True, True)
    assert record.promotion_reason.startswith("promoted: ") and f"(the prior {MODEL})" in record.promotion_reason
    head = FewShotHead.from_bytes(bytes(head_version.head))
    assert head.prior_dims == 3 and head.weights.shape == (3, 32 + 3)
    # every waiting item was re-scored through the head, from its stored embedding and the prior's logits
    waiting = Item.objects.filter(project=project).filter(eligible_q(schema)).select_related("prediction")
    item = waiting.order_by("id").first()
    vector = np.frombuffer(bytes(ItemEmbedding.objects.get(item=item).vector), dtype=np.float16).astype(np.float32)
    expected = head.decision_function(vector[None, :], prior_logits([item.pk], MODEL, 3))[0]
    assert item.prediction.model_name == f"{MODEL}+head-v{head_version.version}"
    assert item.prediction.logits == pytest.approx(expected, abs=1e-4)
    assert_items_follow_the_statement(project, schema, record)
