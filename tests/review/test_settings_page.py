"""The project settings page: every setting (the project's, the learning and the review queue's) saved through
the services the API uses, and an invalid value changes nothing and is named beside its field."""

import pytest
from django.utils.html import escape

from accounts.models import AuditEvent
from labeling.models import LearningRound
from projects.models import Project
from review.selectors import QUEUE_STRATEGIES, UNKNOWN_STRATEGY
from review.views import FORM_INVALID, PROJECT_SETTINGS_SAVED
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

FORM = {"name": "Renamed", "description": "d", "deadline": "2031-05-06", "default_model": "vader-sentiment",
        "target_precision": "0.9", "precision_delta": "0.1", "strict_precision": ["false", "true"],
        "auto_accept_threshold": "", "audit_slice_size": "80", "learn_first": "0", "learn_every": "25",
        "review_policy": "all", "qa_sample_rate": "0.1", "queue_strategy": "margin", "lease_seconds": "300",
        "overlap_fraction": "0.2", "overlap_reviewers": "3", "gold_rate": "0.25"}
FIELDS = ("name", "description", "default_model", "target_precision", "precision_delta", "strict_precision",
          "auto_accept_threshold", "audit_slice_size", "learn_first", "learn_every", "learn_next_at", "review_policy",
          "qa_sample_rate", "queue_strategy", "lease_seconds", "overlap_fraction", "overlap_reviewers", "gold_rate")


def settings_of(project) -> tuple:
    project = Project.objects.get(pk=project.pk)
    return tuple(getattr(project, name) for name in FIELDS)


def test_a_manager_saves_every_setting_through_the_apis_services(world, client):
    client.force_login(world.manager)
    page = client.get(f"/projects/{world.project.pk}/settings")
    html = page.content.decode()
    assert page.status_code == 200
    for name in ("default_model", "target_precision", "precision_delta", "strict_precision", "audit_slice_size",
                 "learn_first", "learn_every", "review_policy", "qa_sample_rate", "queue_strategy",
                 "overlap_fraction", "overlap_reviewers", "gold_rate"):
        assert f'id="setting-{name}"' in html, name

    saved = client.post(f"/projects/{world.project.pk}/settings", FORM, follow=True)

    assert [str(m) for m in saved.context["messages"]] == [PROJECT_SETTINGS_SAVED]
    assert settings_of(world.project) == ("Renamed", "d", "vader-sentiment", 0.9, 0.1, True, None, 80, 0, 25, 25,
                                          "all", 0.1, "margin", 300, 0.2, 3, 0.25)
    assert str(Project.objects.get(pk=world.project.pk).deadline) == "2031-05-06"
    events = dict(AuditEvent.objects.filter(target_id=str(world.project.pk)).values_list("action", "metadata"))
    assert events["project.learning_settings_updated"] == {
        "target_precision": 0.9, "precision_delta": 0.1, "strict_precision": True, "audit_slice_size": 80,
        "learn_first": 0, "learn_every": 25, "learn_next_at": 25}
    assert events["project.review_settings_updated"] == {"queue_strategy": "margin", "lease_seconds": 300,
                                                         "overlap_fraction": 0.2, "overlap_reviewers": 3,
                                                         "gold_rate": 0.25}
    # the precision target moved: its items were re-decided by a round, as PATCH /api/projects/{id}/learning does
    assert list(LearningRound.objects.filter(project=world.project).values_list("trigger", flat=True)) == ["settings"]
    again = client.get(f"/projects/{world.project.pk}/settings").content.decode()
    assert 'name="target_precision" id="setting-target_precision" value="0.9"' in again
    assert 'id="setting-strict_precision" checked' in again

    # unticking "Strict" sends only the hidden "false"
    client.post(f"/projects/{world.project.pk}/settings", {**FORM, "strict_precision": "false"})
    assert Project.objects.get(pk=world.project.pk).strict_precision is False
    # a blank gold rate is the deployment's default again
    client.post(f"/projects/{world.project.pk}/settings", {**FORM, "gold_rate": ""})
    assert Project.objects.get(pk=world.project.pk).gold_rate is None


def test_invalid_settings_change_nothing_and_are_named_beside_their_field(world, client):
    client.force_login(world.manager)
    before = settings_of(world.project)
    bad = client.post(f"/projects/{world.project.pk}/settings",
                      {**FORM, "target_precision": "1.5", "learn_every": "", "overlap_reviewers": "1"})

    html = bad.content.decode()
    assert bad.status_code == 400
    assert [str(m) for m in bad.context["messages"]] == [FORM_INVALID.format(errors=(
        "Reviewers per overlapped item: Ensure this value is greater than or equal to 2.; "
        "Target precision: Ensure this value is less than or equal to 0.999.; "
        "Then learn every: A valid integer is required."))]
    assert ('<span class="field-error" id="error-target_precision" role="alert">'
            "Ensure this value is less than or equal to 0.999.</span>") in html
    assert 'value="1.5"' in html  # what was typed stays, to be corrected
    assert settings_of(world.project) == before
    assert not AuditEvent.objects.filter(target_id=str(world.project.pk)).exists()

    unknown = client.post(f"/projects/{world.project.pk}/settings", {**FORM, "queue_strategy": "psychic"})
    assert unknown.status_code == 400
    assert ('id="error-queue_strategy" role="alert">' + escape(UNKNOWN_STRATEGY.format(
        name="psychic", available=", ".join(sorted(QUEUE_STRATEGIES))))) in unknown.content.decode()
    assert settings_of(world.project) == before  # the project's part, saved first, was rolled back


def test_only_managers_of_the_project_see_its_settings(world, client, other_org, make_member):
    client.force_login(world.reviewer)
    assert client.get(f"/projects/{world.project.pk}/settings").status_code == 403
    assert client.post(f"/projects/{world.project.pk}/settings", FORM).status_code == 403
    theirs = ProjectFactory(organization=other_org)
    client.force_login(world.manager)
    assert client.get(f"/projects/{theirs.pk}/settings").status_code == 404
    assert Project.objects.get(pk=world.project.pk).name == world.project.name
