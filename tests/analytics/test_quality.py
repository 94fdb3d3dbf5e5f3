"""Quality figures against hand counts: accuracy, per class and the confusion matrix, the reliability diagram
and its ECE on the audit slice, the calibration report (``/api/analytics/quality-metrics/{id}``)."""

import numpy as np
import pytest

from analytics.selectors import OTHER_CLASSES, REJECTED_CLASS, model_accuracy
from labeling.engine.calibration import expected_calibration_error
from labeling.models import Item, ModelCalibration
from tests.factories import ProjectFactory
from tests.review.scenario import item_waiting, schema_for, submit

pytestmark = pytest.mark.django_db


def settle(world, client, predicted, decision, labels=None, **fields):
    item = item_waiting(world.project, world.schema, top=predicted, **fields)
    assert submit(client, item, decision, labels=labels).status_code == 201
    return item


def test_confusion_matrix_per_class_and_accuracy(world, client_for):
    rita = client_for(world.reviewer)
    # (model's label, decision, people's label)
    for predicted, decision, labels in [("cat", "approve", None), ("cat", "approve", None), ("cat", "modify", ["dog"]),
                                        ("dog", "approve", None), ("dog", "modify", ["bird"]), ("bird", "approve", None),
                                        ("dog", "reject", None)]:
        settle(world, rita, predicted, decision, labels)
    item_waiting(world.project, world.schema, top="cat")  # waiting: not compared

    resp = client_for(world.viewer).get(f"/api/analytics/quality-metrics/{world.project.pk}")

    assert resp.status_code == 200
    model = resp.json()["model"]
    assert model["classes"] == ["cat", "dog", "bird", REJECTED_CLASS]
    # rows: people's label; columns: the model's
    assert model["matrix"] == [[2, 0, 0, 0], [1, 1, 0, 0], [0, 1, 1, 0], [0, 1, 0, 0]]
    assert (model["count"], model["accuracy"]) == (7, 4 / 7)
    assert model["per_class"] == {
        "cat": {"precision": 2 / 3, "recall": 1.0, "support": 2},
        "dog": {"precision": 1 / 3, "recall": 0.5, "support": 2},
        "bird": {"precision": 1.0, "recall": 0.5, "support": 2},
        REJECTED_CLASS: {"precision": None, "recall": 0.0, "support": 1},
    }
    assert model["formula"] == ("accuracy = items where the model's top label equals the people's ÷ items settled "
                                "in review")


def settled_items(project, schema, pairs):
    """Items settled in review, in bulk: (model's label, people's label, how many)."""
    Item.objects.bulk_create([
        Item(project=project, kind="text", text=f"{predicted} {truth} {n}", content_hash=f"{predicted}-{truth}-{n}",
             state=Item.State.REVIEWED, final_source=Item.FinalSource.REVIEW, final_labels=[truth],
             final_schema=schema, predicted_labels=[predicted], confidence=0.5)
        for predicted, truth, count in pairs for n in range(count)])


def test_a_thousand_classes_show_the_twenty_most_frequent_and_other(org):
    project = ProjectFactory(organization=org)
    names = [f"class-{n:04d}" for n in range(1000)]
    schema = schema_for(project, names, shortcuts={})
    # class-0000..0024 approved 25..1 times (frequency falls with the index); class-0999 confused once.
    settled_items(project, schema, [(names[n], names[n], 25 - n) for n in range(25)] + [(names[0], names[999], 1)])

    model = model_accuracy(project=project)

    assert model["classes"] == names[:20] + [OTHER_CLASSES]
    assert len(model["matrix"]) == 21 and all(len(row) == 21 for row in model["matrix"])
    # (other) row: class-0020..0024 approved 5+4+3+2+1 = 15 times, plus class-0999 predicted as class-0000.
    assert model["matrix"][20] == [1] + [0] * 19 + [15]
    assert model["matrix"][0][0] == 25
    assert (model["count"], model["accuracy"]) == (326, 325 / 326)
    assert len(model["per_class"]) == 1000
    assert model["per_class"][names[999]] == {"precision": None, "recall": 0.0, "support": 1}


def audit_item(world, *, top, truth, confidence):
    """An audit-slice item the model labelled ``top`` at ``confidence``, labelled ``truth`` by a person."""
    item = item_waiting(world.project, world.schema, top=top, confidence=confidence, in_audit_slice=True)
    Item.objects.filter(pk=item.pk).update(state=Item.State.REVIEWED, final_source=Item.FinalSource.REVIEW,
                                           final_labels=[truth])
    return item


def test_reliability_bins_and_ece_on_the_audit_slice(world, client_for):
    # 15 bins of width 1/15; bin b holds (b/15, (b+1)/15].
    cases = [("cat", "cat", 0.95), ("cat", "dog", 0.95), ("dog", "dog", 0.97), ("bird", "bird", 0.60),
             ("bird", "cat", 0.62), ("cat", "cat", 0.41)]
    for top, truth, confidence in cases:
        audit_item(world, top=top, truth=truth, confidence=confidence)
    item_waiting(world.project, world.schema, top="cat", confidence=0.99)  # not audited: left out
    ModelCalibration.objects.create(project=world.project, model_name=world.project.default_model, temperature=1.5,
                                    fitted_on=6, ece_before=0.2, ece_after=0.05, threshold=0.9)

    data = client_for(world.viewer).get(f"/api/analytics/quality-metrics/{world.project.pk}").json()

    bins = data["reliability"]["bins"]
    # 0.41 → bin 6 (0.4, 0.4667]; 0.60 and 0.62 → bin 8 (0.5333, 0.6] and bin 9 (0.6, 0.6667]; 0.95, 0.97 → bin 14
    assert [(b["bin"], b["items"], b["correct"]) for b in bins] == [(6, 1, 1), (8, 1, 1), (9, 1, 0), (14, 3, 2)]
    assert bins[3]["confidence"] == pytest.approx((0.95 + 0.95 + 0.97) / 3)
    assert bins[3]["accuracy"] == pytest.approx(2 / 3)
    by_hand = (1 / 6 * abs(1 - 0.41) + 1 / 6 * abs(1 - 0.60) + 1 / 6 * abs(0 - 0.62)
               + 3 / 6 * abs(2 / 3 - (0.95 + 0.95 + 0.97) / 3))
    assert data["reliability"]["ece"] == pytest.approx(by_hand)
    assert data["reliability"]["items"] == 6
    # The same as the engine's ECE on the same confidences.
    classes = ["cat", "dog", "bird"]
    probs = np.array([[c if k == top else (1 - c) / 2 for k in classes] for top, _, c in cases])
    labels = np.array([classes.index(truth) for _, truth, _ in cases])
    assert data["reliability"]["ece"] == pytest.approx(expected_calibration_error(probs, labels))
    calibration = data["calibration"]
    assert (calibration["temperature"], calibration["fitted_on"], calibration["ece_before"],
            calibration["ece_after"], calibration["threshold"], calibration["threshold_source"]) == (
        1.5, 6, 0.2, 0.05, 0.9, "audit slice")
    # 97% with 95% confidence: the prediction-powered test certifies from 70 audited items above a threshold
    assert calibration["audit_slice"] == {"size": 6, "labelled": 6, "needed": 70, "remaining": 70 - 6}
