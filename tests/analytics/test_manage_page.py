"""The manage (Quality) page: the project's tabs, the audit items still needed before anything is
auto-accepted (the guarantee's number, the same on a finished job's page), the learning rounds, and
starting a round by hand."""

from datetime import UTC, datetime

import pytest

from accounts.models import AuditEvent
from labeling.learning.calibration import audit_needed
from labeling.learning.services import LEARNING_STARTED
from labeling.models import Item, LearningRound
from tests.factories import JobFactory, LabelSchemaFactory, ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(org):
    """A 90%-with-probability-90% project: its guarantee needs 22 audited items (not the old fixed 30);
    25 items are in the audit slice and people labelled 5 of them."""
    project = ProjectFactory(organization=org, default_model="vader-sentiment", target_precision=0.9,
                             precision_delta=0.1, audit_slice_size=25)
    schema = LabelSchemaFactory(project=project, categories=["positive", "negative"])
    Item.objects.bulk_create([
        Item(project=project, kind="text", text=f"audit {n}", content_hash=f"audit-{n}", in_audit_slice=True,
             state=Item.State.REVIEWED if n < 5 else Item.State.NEEDS_REVIEW,
             final_source=Item.FinalSource.REVIEW if n < 5 else "", final_labels=["positive"] if n < 5 else [],
             final_schema=schema if n < 5 else None)
        for n in range(25)])
    return project


def test_the_audit_items_still_needed_are_the_guarantees_on_the_manage_and_the_job_page(project, org, client,
                                                                                       make_member):
    manager = make_member("admin", org)
    job = JobFactory(project=project, total=25, done=25)
    client.force_login(manager)

    manage = client.get(f"/projects/{project.pk}/manage")
    finished = client.get(f"/projects/{project.pk}/jobs/{job.pk}")

    assert audit_needed(project) == 22
    expected = ('Nothing is auto-accepted yet: <strong id="audit-remaining">17</strong> more audit items need a '
                "person's label first (5 of <span id=\"audit-needed\">22</span> done).")
    assert (manage.status_code, finished.status_code) == (200, 200)
    assert expected in manage.content.decode()
    assert expected in finished.content.decode()
    assert manage.context["calibration"]["audit_slice"] == finished.context["calibration"]["audit_slice"] == {
        "size": 25, "labelled": 5, "needed": 22, "remaining": 17}


@pytest.mark.parametrize(("strict", "needed"), [(False, 70), (True, 76)])
def test_an_audit_slice_smaller_than_the_need_says_so(project, org, client, make_member, strict, needed):
    # 97% with δ 0.1: the prediction-powered test certifies from 70 audited items, the binomial one
    # (strict mode) needs 76 all correct
    project.target_precision, project.strict_precision = 0.97, strict
    project.save()
    client.force_login(make_member("admin", org))
    job = JobFactory(project=project, total=25, done=25)
    for url in (f"/projects/{project.pk}/manage", f"/projects/{project.pk}/jobs/{job.pk}"):
        html = client.get(url).content.decode()
        assert (f'Nothing is auto-accepted yet: that takes <strong id="audit-needed">{needed}</strong> audit items '
                "with a person's label, and this project's audit sample holds 25 (5 labelled).") in html


def test_the_manage_page_has_the_project_tabs_and_lists_the_learning_rounds(project, org, client, make_member):
    client.force_login(make_member("admin", org))
    LearningRound.objects.create(
        project=project, trigger="schedule", started_at=datetime(2026, 11, 2, 9, 30, tzinfo=UTC), labels_used=120,
        audited=40, model_name="vader-sentiment+head", head_version=3, promoted=False,
        promotion_reason="held-out accuracy 0.81 is not above the current 0.84", temperature_before=1.0,
        temperature_after=1.42, ece_before=0.121, ece_after=0.034, threshold=0.913,
        statement="Auto-accepted labels are at least 90% precise with probability 90%.", coverage=0.625,
        eligible=80, auto_accepted=50, accepted_now=12, returned_to_review=3)

    page = client.get(f"/projects/{project.pk}/manage")

    html = page.content.decode()
    assert '<nav class="tabs" aria-label="Project">' in html
    assert f'<a href="/projects/{project.pk}/manage" aria-current="page">Quality</a>' in html
    assert f'<a href="/projects/{project.pk}/settings">Settings</a>' in html
    row = html[html.index('<table class="table" id="learning-rounds">'):]
    row = row[:row.index("</table>")]
    for text in ('<time datetime="2026-11-02T09:30:00+00:00">2026-11-02 09:30</time>',
                 "Human labels reached the cadence", "120 <span class=\"muted\">(40 audit)</span>",
                 'vader-sentiment+head <span class="muted">v3</span>',
                 "no <span class=\"muted small\">held-out accuracy 0.81 is not above the current 0.84</span>",
                 "T 1.00 → 1.42; ECE 0.121 → 0.034", "0.913", "62.5% <span class=\"muted\">(50/80)</span>",
                 "+12 / −3", "Auto-accepted labels are at least 90% precise with probability 90%."):
        assert text in row, text


def test_learn_now_queues_a_round(project, org, client, make_member, django_capture_on_commit_callbacks):
    client.force_login(make_member("admin", org))
    with django_capture_on_commit_callbacks() as callbacks:
        resp = client.post(f"/projects/{project.pk}/manage", {"form": "learn"}, follow=True)
    assert [str(m) for m in resp.context["messages"]] == [LEARNING_STARTED]
    assert len(callbacks) == 1  # the task is sent once the request commits
    assert AuditEvent.objects.filter(action="project.learning_started", target_id=str(project.pk)).count() == 1
