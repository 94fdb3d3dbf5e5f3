"""Learning from people: calibration on the audit slice, head versions promoted only when better,
re-scoring of waiting items, and the trigger every `learn_every` labels."""

import numpy as np
import pytest

from analytics.selectors import calibration_report
from labeling.engine.calibration import expected_calibration_error, softmax
from labeling.inference.jobs import chunk_run, job_create
from labeling.learning.calibration import MIN_AUDIT_LABELS, calibration_fit, project_learn
from labeling.lifecycle import labels_added
from labeling.models import HeadVersion, Item, Job, ModelCalibration, Prediction
from projects.models import Project
from tests.conftest import wait_until
from tests.factories import ItemFactory, LabelSchemaFactory, ProjectFactory

SPORT = ["The striker scored twice in the final", "The team won the championship game", "He ran the marathon in record time",
         "The goalkeeper saved a penalty", "The tennis match went to five sets", "She won gold in the swimming race",
         "The coach praised the defence after the match", "Fans cheered as the players scored"]
FOOD = ["Simmer the onions in butter until soft", "Bake the bread for forty minutes", "Add salt and pepper to the soup",
        "Whisk the eggs with sugar and flour", "Roast the chicken with garlic and lemon", "Chop the basil for the pasta sauce",
        "Let the dough rise before baking", "Stir the risotto slowly with stock"]


@pytest.mark.django_db
def test_calibration_fit_on_overconfident_audit_logits_lowers_ece():
    project = ProjectFactory(target_precision=0.9)
    rng = np.random.default_rng(0)
    n = 400
    labels = rng.integers(0, 3, n)
    # True probability of the top class is ~0.7, but the logits claim ~0.99: over-confident by design.
    correct = rng.random(n) < 0.7
    predicted = np.where(correct, labels, (labels + 1) % 3)
    logits = np.zeros((n, 3))
    logits[np.arange(n), predicted] = 6.0
    calibration = calibration_fit(project=project, model_name="m", audit_logits=logits, audit_labels=labels)
    before = expected_calibration_error(softmax(logits), labels)
    assert calibration.fitted_on == n
    assert calibration.ece_before == pytest.approx(before)
    assert calibration.temperature > 1.5
    assert calibration.ece_after < 0.05 < before
    # Every prediction has the same confidence, 70% correct: no threshold reaches 90% precision.
    assert calibration.threshold is None
    assert calibration.precision["statement"].startswith("no threshold reaches the 90.0% target")


@pytest.mark.django_db
def test_threshold_needs_enough_audited_labels():
    project = ProjectFactory(target_precision=0.8)
    labels = np.zeros(MIN_AUDIT_LABELS - 1, dtype=int)
    logits = np.tile([3.0, 0.0], (len(labels), 1))
    assert calibration_fit(project=project, model_name="m", audit_logits=logits, audit_labels=labels).threshold is None
    labels = np.zeros(MIN_AUDIT_LABELS, dtype=int)
    logits = np.tile([3.0, 0.0], (len(labels), 1))
    calibration = calibration_fit(project=project, model_name="m2", audit_logits=logits, audit_labels=labels)
    assert calibration.threshold is not None
    assert calibration.precision["audited_above"] == MIN_AUDIT_LABELS
    assert calibration.precision["statement"].startswith("auto-accepted labels: 100.0% correct (95% CI ")


@pytest.mark.django_db
@pytest.mark.slow
def test_learning_promotes_a_better_head_and_rescores_waiting_items():
    project = ProjectFactory(default_model="minilm-zero-shot", audit_slice_size=8, target_precision=0.9)
    # Category names that say nothing: zero-shot is near chance, a head trained on labels is not.
    LabelSchemaFactory(project=project, categories=["alpha", "beta"])
    items = [ItemFactory(project=project, text=t) for t in SPORT + FOOD]
    waiting = [ItemFactory(project=project, text=t) for t in ("The referee blew the whistle", "Fry the garlic in oil")]
    job = job_create(project=project, created_by=None)
    chunk_run(job_id=job.id, index=0)
    for item in items:
        Item.objects.filter(pk=item.pk).update(final_labels=["alpha" if item.text in SPORT else "beta"],
                                               final_source="review", state="reviewed")
    summary = project_learn(project_id=project.id)
    head = HeadVersion.objects.get(project=project)
    assert (head.version, head.is_active, head.trained_on) == (1, True, 16)
    assert summary["promoted"] is True
    assert head.heldout_accuracy > head.baseline_accuracy
    assert summary["rescored"] == 2
    rescore = Job.objects.get(project=project, kind=Job.Kind.RESCORE)
    for item, expected in zip(waiting, ["alpha", "beta"], strict=True):
        item.refresh_from_db()
        assert item.predicted_labels == [expected]
        assert item.prediction.job_id == rescore.id
        assert item.prediction.model_name == "minilm-zero-shot+head-v1"
    report = calibration_report(project=Project.objects.get(pk=project.pk))
    assert report["model"] == "minilm-zero-shot+head-v1"
    assert report["head_version"] == 1
    # A second round with no new information cannot beat the active head: it is kept, not promoted.
    project_learn(project_id=project.id)
    assert list(HeadVersion.objects.filter(project=project).values_list("version", "is_active")) == [(2, False), (1, True)]


@pytest.mark.worker
def test_labels_added_triggers_learning_on_the_worker(worker):
    project = ProjectFactory(default_model="vader-sentiment", audit_slice_size=50, learn_every=3)
    LabelSchemaFactory(project=project, categories=["positive", "negative", "neutral"])
    texts = ["I love it", "I hate it", "Great stuff", "Terrible stuff", "Wonderful", "Awful"]
    items = [ItemFactory(project=project, text=t) for t in texts]
    job = job_create(project=project, created_by=None)
    chunk_run(job_id=job.id, index=0)
    for item, label in zip(items, ["positive", "negative"] * 3, strict=True):
        Item.objects.filter(pk=item.pk).update(final_labels=[label], final_source="review", state="reviewed")
    assert labels_added(project_id=project.id, count=2) is False
    assert Project.objects.get(pk=project.pk).labels_since_learning == 2
    assert labels_added(project_id=project.id, count=1) is True
    assert Project.objects.get(pk=project.pk).labels_since_learning == 0
    calibration = wait_until(lambda: ModelCalibration.objects.filter(project=project, model_name="vader-sentiment",
                                                                     fitted_on=6).first(),
                             timeout=60, message="the learning task to fit calibration")
    assert calibration.fitted_at is not None
    assert Prediction.objects.filter(item__project=project).count() == 6


@pytest.mark.django_db
def test_imported_labels_count_toward_learning(org, make_member, client_for, media_root):
    from django.core.files.uploadedfile import SimpleUploadedFile

    project = ProjectFactory(organization=org, default_model="vader-sentiment", learn_every=100)
    LabelSchemaFactory(project=project, categories=["positive", "negative", "neutral"])
    csv = "text,label\nI love it,positive\nI hate it,negative\nIt is a box,\n"
    upload = SimpleUploadedFile("labelled.csv", csv.encode(), content_type="text/csv")
    resp = client_for(make_member("admin", org), org).post(
        "/api/upload", {"project": project.id, "files": [upload]}, format="multipart")
    assert resp.status_code == 201, resp.data
    assert Project.objects.get(pk=project.pk).labels_since_learning == 2
