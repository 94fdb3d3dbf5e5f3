"""GET /api/review/stats (served by analytics): exact numbers per project and per reviewer."""

import pytest

from analytics.selectors import REJECTED_CLASS
from labeling.models import Item
from review.models import ReviewDecision
from tests.review.scenario import item_waiting, schema_for, submit

pytestmark = pytest.mark.django_db


def test_stats_per_project_and_reviewer(world, client_for, settings):
    p, s = world.project, world.schema
    rita, rob = client_for(world.reviewer), client_for(world.reviewer2)
    # (reviewer, predicted, decision, labels, seconds)
    script = [
        (rita, "cat", "approve", None, 3), (rita, "cat", "modify", ["dog"], 5), (rita, "dog", "reject", None, 10),
        (rita, "bird", "approve", None, 2), (rob, "dog", "approve", None, 4), (rob, "cat", "approve", None, 6),
        (rob, "bird", "modify", ["cat"], 1),
    ]
    for client, predicted, decision, labels, seconds in script:
        item = item_waiting(p, s, top=predicted)
        assert submit(client, item, decision, labels=labels, seconds=seconds).status_code == 201
    gold_right = item_waiting(p, s, top="cat", state=Item.State.AUTO_ACCEPTED, gold_labels=["cat"])
    gold_wrong = item_waiting(p, s, top="cat", state=Item.State.AUTO_ACCEPTED, gold_labels=["dog"])
    submit(rita, gold_right, "approve", seconds=50)
    submit(rob, gold_wrong, "approve", seconds=50)
    waiting = item_waiting(p, s, top="cat")
    submit(rob, waiting, "approve", seconds=99)
    assert rob.post("/api/review/undo", {"project": p.pk}, format="json").status_code == 200

    resp = rita.get("/api/review/stats", {"project": p.pk})

    assert resp.status_code == 200
    data = resp.data
    assert data["reviewers"] == [
        {"id": world.reviewer.pk, "email": "rita@example.com", "name": world.reviewer.full_name,
         "reviewed": 4, "approve": 2, "modify": 1, "reject": 1,
         "approve_rate": 0.5, "modify_rate": 0.25, "reject_rate": 0.25, "adjudicated": 0,
         "gold": {"answered": 1, "correct": 1, "accuracy": 1.0}, "model_agreement": 0.5,
         "seconds": 20.0, "items_per_hour": 4 * 3600 / 20,
         "median_seconds": 4.0, "kappa_mean": None},
        {"id": world.reviewer2.pk, "email": "rob@example.com", "name": world.reviewer2.full_name,
         "reviewed": 3, "approve": 2, "modify": 1, "reject": 0,
         "approve_rate": 2 / 3, "modify_rate": 1 / 3, "reject_rate": 0.0, "adjudicated": 0,
         "gold": {"answered": 1, "correct": 0, "accuracy": 0.0}, "model_agreement": 2 / 3,
         "seconds": 11.0, "items_per_hour": 3 * 3600 / 11,
         "median_seconds": 4.0, "kappa_mean": None},
    ]
    project = data["project"]
    assert project["items"] == {"total": 10, "reviewed": 7, "waiting": 1, "audit_pending": 0, "adjudication": 0,
                                "to_review": 8}
    assert (project["reviewed"], project["approve"], project["modify"], project["reject"]) == (7, 4, 2, 1)
    assert (project["approve_rate"], project["modify_rate"], project["reject_rate"]) == (4 / 7, 2 / 7, 1 / 7)
    assert project["median_seconds"] == 4.0
    assert project["gold"] == {"answered": 2, "correct": 1, "accuracy": 0.5}
    assert project["model_agreement"] == 4 / 7
    assert project["agreement"] == {"items": 0, "alpha": None, "pairs": []}

    model = project["model"]
    assert model["multi_label"] is False
    assert model["classes"] == ["cat", "dog", "bird", REJECTED_CLASS]
    # rows: what people decided; columns: the model's top label
    assert model["matrix"] == [[2, 0, 1, 0], [1, 1, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0]]
    assert (model["count"], model["accuracy"]) == (7, 4 / 7)
    assert model["per_class"] == {
        "cat": {"precision": 2 / 3, "recall": 2 / 3, "support": 3},
        "dog": {"precision": 0.5, "recall": 0.5, "support": 2},
        "bird": {"precision": 0.5, "recall": 1.0, "support": 1},
        REJECTED_CLASS: {"precision": None, "recall": 0.0, "support": 1},
    }
    assert ReviewDecision.objects.filter(undone_at__isnull=False).count() == 1


def test_model_accuracy_per_label_for_multi_label_projects(world, client_for):
    schema = schema_for(world.project, ["red", "green", "blue"], multi_label=True, shortcuts={})
    client = client_for(world.reviewer)
    for predicted, decision, labels in [
        (["red", "green"], "approve", None),           # exact
        (["red"], "modify", ["red", "blue"]),          # red right, blue missed
        (["green", "blue"], "modify", ["green"]),      # blue wrong
        (["blue"], "reject", None),                    # blue wrong, nothing right
    ]:
        item = item_waiting(world.project, schema, top=predicted, confidence=0.5,
                            probabilities=[0.5, 0.5, 0.5])
        assert submit(client, item, decision, labels=labels).status_code == 201

    model = client.get("/api/review/stats", {"project": world.project.pk}).data["project"]["model"]

    assert model == {
        "multi_label": True, "count": 4, "accuracy": 0.25,
        "formula": "accuracy = items whose model label set equals the people's ÷ items settled in review",
        "per_label": {
            "red": {"precision": 1.0, "recall": 1.0, "support": 2},
            "green": {"precision": 1.0, "recall": 1.0, "support": 2},
            "blue": {"precision": 0.0, "recall": 0.0, "support": 1},
        },
    }
