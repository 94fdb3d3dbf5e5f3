"""The server-rendered pages through Django's test client: login, project list, review and manager pages."""

import pytest

from accounts.models import AuditEvent
from labeling.models import Item
from projects.models import Project
from review import views
from review.models import ReviewDecision
from tests.factories import PASSWORD
from tests.review.scenario import item_waiting, submit

pytestmark = pytest.mark.django_db


def test_login_page_logs_in_with_email_and_password(world, client):
    page = client.get("/login/")
    assert page.status_code == 200
    assert b'name="username"' in page.content and b'name="password"' in page.content

    wrong = client.post("/login/", {"username": world.reviewer.email, "password": "nope"})
    right = client.post("/login/", {"username": world.reviewer.email, "password": PASSWORD})

    assert wrong.status_code == 200
    assert b"Please enter a correct email address and password" in wrong.content
    assert (right.status_code, right["Location"]) == (302, "/")
    assert client.get("/login/")["Location"] == "/"  # already logged in
    logout = client.post("/logout/")
    assert (logout.status_code, logout["Location"]) == (302, "/login/")


def test_project_list_shows_progress(world, client):
    for _ in range(3):
        item_waiting(world.project, world.schema)
    reviewed = item_waiting(world.project, world.schema)
    Item.objects.filter(pk=reviewed.pk).update(state=Item.State.REVIEWED, final_source=Item.FinalSource.REVIEW)
    client.force_login(world.reviewer)

    page = client.get("/")

    assert page.status_code == 200
    html = page.content.decode()
    assert world.project.name in html
    assert "<strong>1</strong> of 4 items reviewed" in html
    assert "3 waiting for review" in html
    assert 'style="width: 25.0%"' in html
    assert f'href="/projects/{world.project.pk}/review"' in html
    assert f'href="/projects/{world.project.pk}/manage"' not in html  # a reviewer does not manage


def test_review_page_carries_the_schema_and_progress(world, client):
    item_waiting(world.project, world.schema)
    client.force_login(world.reviewer)

    page = client.get(f"/projects/{world.project.pk}/review")

    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-label="cat" data-shortcut="c"' in html
    assert '<kbd>D</kbd>' in html
    assert page.context["config"]["progress"] == {"total": 1, "reviewed": 0, "waiting": 1, "audit_pending": 0,
                                                  "adjudication": 0, "to_review": 1, "mine": 0}
    assert page.context["config"]["multiLabel"] is False
    assert 'id="review-config"' in html
    assert page.cookies["csrftoken"].value


def test_manager_page_shows_stats_and_saves_review_settings(world, client, client_for):
    item = item_waiting(world.project, world.schema, top="cat")
    submit(client_for(world.reviewer), item, "modify", labels=["dog"], seconds=7)
    client.force_login(world.manager)

    page = client.get(f"/projects/{world.project.pk}/manage")
    saved = client.post(f"/projects/{world.project.pk}/manage", {
        "form": "settings", "queue_strategy": "uncertainty", "lease_seconds": "120", "overlap_reviewers": "3",
        "overlap_fraction": "0.25"}, follow=True)
    refused = client.post(f"/projects/{world.project.pk}/manage", {
        "form": "settings", "overlap_fraction": "1.5"}, follow=True)

    html = page.content.decode()
    assert page.status_code == 200
    assert "rita@example.com" in html
    assert "100.0%" in html  # rita's modify rate
    assert 'id="confusion"' in html
    project = Project.objects.get(pk=world.project.pk)
    assert (project.lease_seconds, project.overlap_reviewers, project.overlap_fraction) == (120, 3, 0.25)
    assert [str(m) for m in saved.context["messages"]] == [views.SETTINGS_SAVED]
    assert AuditEvent.objects.filter(action="project.review_settings_updated").count() == 1
    assert [str(m) for m in refused.context["messages"]] == [
        views.FORM_INVALID.format(errors="overlap_fraction: Ensure this value is less than or equal to 1.0.")]


def test_manager_page_sets_gold_and_settles_a_tie(world, client, client_for):
    world.project.overlap_fraction = 1.0
    world.project.save()
    gold = item_waiting(world.project, world.schema, state=Item.State.AUTO_ACCEPTED)
    tied = item_waiting(world.project, world.schema, top="cat")
    submit(client_for(world.reviewer), tied, "approve")
    submit(client_for(world.reviewer2), tied, "modify", labels=["dog"])
    client.force_login(world.manager)
    manage = f"/projects/{world.project.pk}/manage"

    page = client.get(manage)
    client.post(manage, {"form": "gold", "item": str(gold.pk), "labels": ["bird"]})
    client.post(manage, {"form": "adjudicate", "item": str(tied.pk), "answer": "dog"})

    assert f'id="adjudicate-{tied.pk}"' in page.content.decode()
    gold.refresh_from_db()
    tied.refresh_from_db()
    assert gold.gold_labels == ["bird"]
    assert (tied.state, tied.final_labels, tied.decided_by_id) == ("reviewed", ["dog"], world.manager.pk)
    assert ReviewDecision.objects.filter(is_adjudication=True).count() == 1


def test_manager_page_states_the_auto_accept_precision(world, client):
    from labeling.models import ModelCalibration

    client.force_login(world.manager)
    before = client.get(f"/projects/{world.project.pk}/manage").content.decode()
    # at the default 97% target and 5% delta, the prediction-powered test certifies from 70 audited items
    assert ('Nothing is auto-accepted yet: that takes <strong id="audit-needed">70</strong> audit items with a '
            "person's label, and this project's audit sample holds 0 (0 labelled).") in before
    statement = ("auto-accepted labels are at least 97.0% correct with 95% confidence (Learn-then-Test, binomial, "
                 "on 180 audited items, 160 of them above the threshold, 160 correct: 100.0%, lower bound 98.1%); "
                 "41 of 100 eligible items (41.0%) auto-accepted")
    ModelCalibration.objects.create(project=world.project, model_name=world.project.default_model, temperature=1.7,
                                    fitted_on=180, ece_before=0.12, ece_after=0.03, threshold=0.91,
                                    precision={"statement": statement})
    html = client.get(f"/projects/{world.project.pk}/manage").content.decode()
    assert f'<p id="audit-state">{statement}</p>' in html
    assert "0.910 (audit slice)" in html
    assert "1.700 on 180 items" in html
    assert "0.120 → 0.030" in html
