"""Review settings through the API: the queue's default strategy, the lease length and overlap."""

import pytest

from accounts.models import AuditEvent
from labeling.models import Item
from projects.models import Project
from review import selectors
from review.selectors import UNKNOWN_STRATEGY
from tests.review.scenario import item_waiting, queue

pytestmark = pytest.mark.django_db


def ids(resp) -> list[int]:
    return [row["id"] for row in resp.data["items"]]


def test_managers_change_the_review_settings(world, client_for):
    resp = client_for(world.manager).put("/api/review/settings", {
        "project": world.project.pk, "queue_strategy": "margin", "lease_seconds": 300, "overlap_reviewers": 3,
        "overlap_fraction": 0.1}, format="json")

    assert resp.status_code == 200
    assert resp.data == {"queue_strategy": "margin", "lease_seconds": 300, "overlap_reviewers": 3,
                         "overlap_fraction": 0.1, "gold_rate": None, "gold_rate_in_force": 0.0,
                         "strategies": sorted(selectors.QUEUE_STRATEGIES)}
    project = Project.objects.get(pk=world.project.pk)
    assert (project.queue_strategy, project.lease_seconds, project.overlap_reviewers, project.overlap_fraction) == (
        "margin", 300, 3, 0.1)
    event = AuditEvent.objects.get(action="project.review_settings_updated")
    assert event.metadata == {"queue_strategy": "margin", "lease_seconds": 300, "overlap_reviewers": 3,
                              "overlap_fraction": 0.1}


@pytest.mark.parametrize(("body", "errors"), [
    ({"queue_strategy": "psychic"}, {"strategy": [UNKNOWN_STRATEGY.format(
        name="psychic", available=", ".join(sorted(selectors.QUEUE_STRATEGIES)))]}),
    ({"overlap_fraction": 1.5}, {"overlap_fraction": ["Ensure this value is less than or equal to 1.0."]}),
    ({"overlap_reviewers": 1}, {"overlap_reviewers": ["Ensure this value is greater than or equal to 2."]}),
    ({"lease_seconds": 5}, {"lease_seconds": ["Ensure this value is greater than or equal to 30."]}),
    ({"gold_rate": 1.5}, {"gold_rate": ["Ensure this value is less than or equal to 1.0."]}),
    ({"gold_rate": -0.1}, {"gold_rate": ["Ensure this value is greater than or equal to 0.0."]}),
])
def test_invalid_settings_are_a_400_and_change_nothing(world, client_for, body, errors):
    resp = client_for(world.manager).put("/api/review/settings", {"project": world.project.pk, **body},
                                         format="json")

    assert resp.status_code == 400
    assert resp.data == errors
    project = Project.objects.get(pk=world.project.pk)
    assert (project.queue_strategy, project.lease_seconds, project.overlap_reviewers, project.overlap_fraction,
            project.gold_rate) == ("uncertainty", 600, 2, 0.0, None)


def test_a_projects_gold_rate_overrides_the_deployments_default(world, client_for, settings):
    settings.REVIEW_GOLD_RATE = 0.0
    manager, rita, rob = client_for(world.manager), client_for(world.reviewer), client_for(world.reviewer2)
    gold = item_waiting(world.project, world.schema, top="cat", state=Item.State.AUTO_ACCEPTED)
    assert manager.post("/api/review/gold", {"item": gold.pk, "labels": ["cat"]}, format="json").status_code == 200
    waiting = item_waiting(world.project, world.schema, top="bird")
    assert ids(queue(rita, world.project, limit=5)) == [waiting.pk]  # the default: no gold checks

    resp = manager.put("/api/review/settings", {"project": world.project.pk, "gold_rate": 1.0}, format="json")

    assert resp.status_code == 200
    assert (resp.data["gold_rate"], resp.data["gold_rate_in_force"]) == (1.0, 1.0)
    assert AuditEvent.objects.filter(action="project.review_settings_updated").last().metadata == {"gold_rate": 1.0}
    assert ids(queue(rob, world.project, limit=5)) == [gold.pk]  # rita holds the waiting item

    reset = manager.put("/api/review/settings", {"project": world.project.pk, "gold_rate": None}, format="json")
    assert (reset.status_code, reset.data["gold_rate"], reset.data["gold_rate_in_force"]) == (200, None, 0.0)
    assert Project.objects.get(pk=world.project.pk).gold_rate is None
