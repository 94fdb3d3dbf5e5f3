"""Review settings through the API: the queue's default strategy, the lease length and overlap."""

import pytest

from accounts.models import AuditEvent
from projects.models import Project
from review import selectors
from review.selectors import UNKNOWN_STRATEGY

pytestmark = pytest.mark.django_db


def test_managers_change_the_review_settings(world, client_for):
    resp = client_for(world.manager).put("/api/review/settings", {
        "project": world.project.pk, "queue_strategy": "margin", "lease_seconds": 300, "overlap_reviewers": 3,
        "overlap_fraction": 0.1}, format="json")

    assert resp.status_code == 200
    assert resp.data == {"queue_strategy": "margin", "lease_seconds": 300, "overlap_reviewers": 3,
                         "overlap_fraction": 0.1, "strategies": sorted(selectors.QUEUE_STRATEGIES)}
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
])
def test_invalid_settings_are_a_400_and_change_nothing(world, client_for, body, errors):
    resp = client_for(world.manager).put("/api/review/settings", {"project": world.project.pk, **body},
                                         format="json")

    assert resp.status_code == 400
    assert resp.data == errors
    project = Project.objects.get(pk=world.project.pk)
    assert (project.queue_strategy, project.lease_seconds, project.overlap_reviewers, project.overlap_fraction) == (
        "uncertainty", 600, 2, 0.0)
