"""The project settings page: the project's and the review queue's settings through their services."""

import pytest

from projects.models import Project
from review.views import FORM_INVALID, PROJECT_SETTINGS_SAVED

pytestmark = pytest.mark.django_db

FORM = {"name": "Renamed", "description": "d", "deadline": "", "default_model": "minilm-zero-shot",
        "auto_accept_threshold": "", "audit_slice_size": "80", "review_policy": "all", "qa_sample_rate": "0.1",
        "queue_strategy": "margin", "lease_seconds": "300", "overlap_fraction": "0.2", "overlap_reviewers": "3"}


def test_a_manager_saves_the_settings(world, client):
    client.force_login(world.manager)
    page = client.get(f"/projects/{world.project.pk}/settings")
    assert page.status_code == 200 and 'name="overlap_fraction"' in page.content.decode()

    saved = client.post(f"/projects/{world.project.pk}/settings", FORM, follow=True)

    assert PROJECT_SETTINGS_SAVED in saved.content.decode()
    p = Project.objects.get(pk=world.project.pk)
    assert (p.name, p.auto_accept_threshold, p.audit_slice_size, p.review_policy, p.qa_sample_rate, p.queue_strategy,
            p.lease_seconds, p.overlap_fraction, p.overlap_reviewers) == (
        "Renamed", None, 80, "all", 0.1, "margin", 300, 0.2, 3)


def test_bad_settings_change_nothing_and_reviewers_may_not_see_them(world, client):
    client.force_login(world.manager)
    bad = client.post(f"/projects/{world.project.pk}/settings", {**FORM, "overlap_reviewers": "1"}, follow=True)
    assert FORM_INVALID.format(errors="overlap_reviewers: Ensure this value is greater than or equal to 2.") \
        in bad.content.decode()
    assert Project.objects.get(pk=world.project.pk).name == world.project.name
    client.force_login(world.reviewer)
    assert client.get(f"/projects/{world.project.pk}/settings").status_code == 403
