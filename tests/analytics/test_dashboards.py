"""Reviewer agreement and speed on the project dashboard, the personal dashboard and the staff overview,
against hand counts."""

from datetime import timedelta

import pytest
from django.utils import timezone

from labeling.models import Item, Job
from modelship.models import WorkerHeartbeat
from tests.factories import ItemFactory, ProjectFactory
from tests.review.scenario import item_waiting, submit

pytestmark = pytest.mark.django_db


def test_agreement_kappa_alpha_and_reviewer_speed(world, client_for):
    world.project.overlap_fraction, world.project.overlap_reviewers = 1.0, 2
    world.project.save()
    rita, rob = client_for(world.reviewer), client_for(world.reviewer2)
    # Both reviewers on every item: (rita's answer, rob's answer); seconds rita 10 each, rob 20 each.
    for rita_says, rob_says in [("cat", "cat"), ("dog", "dog"), ("cat", "dog"), ("bird", "bird")]:
        item = item_waiting(world.project, world.schema, top="cat")
        for client, answer, seconds in ((rita, rita_says, 10), (rob, rob_says, 20)):
            decision = "approve" if answer == "cat" else "modify"
            labels = None if answer == "cat" else [answer]
            assert submit(client, item, decision, labels=labels, seconds=seconds).status_code == 201

    data = client_for(world.viewer).get(f"/api/analytics/project-dashboard/{world.project.pk}").json()

    agreement = data["reviewers"]["project"]["agreement"]
    # p_o = 3/4; rita cat 2, dog 1, bird 1; rob cat 1, dog 2, bird 1 → p_e = 5/16; κ = (3/4 − 5/16) / (11/16) = 7/11
    assert agreement["items"] == 4
    assert agreement["pairs"] == [{"reviewers": sorted([world.reviewer.pk, world.reviewer2.pk]),
                                   "kappa": pytest.approx(7 / 11), "items": 4,
                                   "emails": [u.email for u in sorted([world.reviewer, world.reviewer2],
                                                                      key=lambda u: u.pk)]}]
    # Coincidences cc 2, dd 2, cd = dc 1, bb 2; n = 8; α = 1 − 7 × 2 ÷ (2 × (9 + 6 + 6)) = 2/3
    assert agreement["alpha"] == pytest.approx(2 / 3)
    by_email = {r["email"]: r for r in data["reviewers"]["reviewers"]}
    assert (by_email["rita@example.com"]["reviewed"], by_email["rita@example.com"]["seconds"],
            by_email["rita@example.com"]["items_per_hour"], by_email["rita@example.com"]["median_seconds"]) == (
        4, 40.0, 360.0, 10.0)
    assert (by_email["rob@example.com"]["items_per_hour"], by_email["rob@example.com"]["kappa_mean"]) == (
        180.0, pytest.approx(7 / 11))
    assert data["reviewers"]["project"]["items_per_hour"] == 8 * 3600 / 120


def test_personal_dashboard_counts_my_live_decisions(world, client_for, settings):
    rita = client_for(world.reviewer)
    for seconds in (3, 5, 7):
        assert submit(rita, item_waiting(world.project, world.schema), "approve", seconds=seconds).status_code == 201
    assert submit(rita, item_waiting(world.project, world.schema), "approve", seconds=100).status_code == 201
    assert rita.post("/api/review/undo", {"project": world.project.pk}, format="json").status_code == 200
    submit(client_for(world.reviewer2), item_waiting(world.project, world.schema), "approve")  # someone else
    elsewhere = ProjectFactory()  # not rita's organization: never listed

    resp = rita.get("/api/analytics/user-dashboard")

    data = resp.json()
    today = timezone.localdate().isoformat()
    assert resp.status_code == 200
    assert (data["reviewed"], data["reviewed_today"], data["seconds"], data["items_per_hour"]) == (3, 3, 15.0, 720.0)
    assert data["model_agreement"] == 1.0
    assert data["gold"] == {"answered": 0, "correct": 0, "accuracy": None}
    assert len(data["days"]) == 14 and data["days"][-1] == {"day": today, "reviewed": 3}
    assert sum(day["reviewed"] for day in data["days"]) == 3
    assert data["projects"] == [{"id": world.project.pk, "name": world.project.name,
                                 "organization": world.project.organization.name, "role": "reviewer",
                                 "reviewed": 3, "seconds": 15.0}]
    assert elsewhere.pk not in [p["id"] for p in data["projects"]]


def test_platform_overview_counts_everything_for_staff(org, make_member, client_for):
    staff = make_member("admin", org, is_staff=True)
    make_member("viewer", org)
    project = ProjectFactory(organization=org)
    for state in ("unlabelled", "unlabelled", "auto_accepted", "reviewed"):
        ItemFactory(project=project, state=state)
    from projects.models import LabelSchema

    schema = LabelSchema.objects.create(project=project, version=1)
    now = timezone.now()
    Job.objects.create(project=project, model_name="m", schema=schema, status="succeeded", done=100,
                       started_at=now - timedelta(hours=2), finished_at=now - timedelta(hours=1))
    Job.objects.create(project=project, model_name="m", schema=schema, status="running", done=5,
                       started_at=now - timedelta(minutes=30))
    WorkerHeartbeat.objects.create(hostname="w1@host", queues=["default"], last_seen=now)
    WorkerHeartbeat.objects.create(hostname="w2@host", queues=["inference"], last_seen=now)
    WorkerHeartbeat.objects.create(hostname="gone@host", queues=["default"], last_seen=now - timedelta(hours=1))

    data = client_for(staff).get("/api/analytics/platform-overview").json()

    assert data["organizations"] == {"total": 1, "personal": 0}
    assert (data["users"]["total"], data["users"]["staff"]) == (2, 1)
    assert data["projects"] == {"total": 1, "active": 1}
    assert data["items"] == {"total": 4, "by_state": {"unlabelled": 2, "predicted": 0, "auto_accepted": 1,
                                                      "needs_review": 0, "reviewed": 1}}
    assert data["jobs"]["by_status"] == {"queued": 0, "running": 1, "succeeded": 1, "failed": 0, "cancelled": 0}
    assert (data["jobs"]["last_24_hours"], data["jobs"]["items_scored_last_24_hours"]) == (2, 105)
    assert [w["hostname"] for w in data["workers"]["live"]] == ["w1@host", "w2@host"]
    # busy: 3600 s (finished job) + ~1800 s (running job, up to now) over 2 workers × 86400 s
    assert data["workers"]["busy_seconds_last_24_hours"] == pytest.approx(5400, abs=5)
    assert data["workers"]["utilisation"] == pytest.approx(5400 / 172800, abs=1e-4)
    assert data["workers"]["formula"].startswith("worker utilisation = seconds jobs were running in the last 24 h "
                                                 "÷ (live workers × 86400 s) = ")
    assert Item.objects.count() == 4
