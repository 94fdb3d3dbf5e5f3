"""Progress figures against hand counts: the project summary (``/api/projects/{id}/analytics``), the daily
history written by the periodic task, throughput per day and the ETA against the deadline."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from analytics.models import ProjectDailyStats
from analytics.selectors import project_dashboard, project_summary
from analytics.services import daily_stats_record
from labeling.models import Item
from tests.factories import ItemFactory, LabelSchemaFactory, ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(org, make_member):
    return make_member("admin", org)


@pytest.fixture
def client(admin, org, client_for):
    return client_for(admin, org)


def test_summary_counts_states_labels_and_deadline_progress(client, org):
    project = ProjectFactory(organization=org, deadline=timezone.localdate() + timedelta(days=10))
    old = LabelSchemaFactory(project=project, categories=["positive", "negative", "mixed"])
    schema = LabelSchemaFactory(project=project, categories=["positive", "negative", "neutral"])
    now = timezone.now()
    for labels, state, source, used in [(["positive"], "reviewed", "review", schema),
                                        (["positive"], "auto_accepted", "auto", schema),
                                        (["negative"], "reviewed", "review", schema),
                                        (["mixed"], "reviewed", "import", old)]:
        ItemFactory(project=project, final_labels=labels, final_schema=used, state=state, final_source=source,
                    decided_at=now)
    for state in ("unlabelled", "unlabelled", "predicted", "needs_review"):
        ItemFactory(project=project, state=state)
    ItemFactory(state="reviewed", final_labels=["positive"])  # another project

    resp = client.get(f"/api/projects/{project.id}/analytics")

    today = timezone.localdate()
    assert resp.status_code == 200
    assert resp.json() == {
        "total_items": 8,
        "by_state": {"unlabelled": 2, "predicted": 1, "auto_accepted": 1, "needs_review": 1, "reviewed": 3},
        "by_label": {"positive": 2, "negative": 1, "neutral": 0, "mixed": 1},
        "schema_version": 2,
        "progress": {"done": 4, "remaining": 4, "percent_done": 50.0,
                     "deadline": project.deadline.isoformat(), "days_left": 10, "needed_per_day": 1,
                     "decided_per_day_last_7_days": 0.6, "on_track": False},
        "by_source": {"": 4, "import": 1, "auto": 1, "review": 2},
        "today_decided": {"auto": 1, "human": 3},
        "auto_accept": {"auto_accepted": 1, "labelled_by_model": 6, "rate": 1 / 6,
                        "formula": "auto-accept rate = items auto-accepted ÷ items the model has labelled "
                                   "(all but unlabelled)"},
        # pace 4 decided in 7 days; ⌈4 ÷ (4/7)⌉ = 7 days, before the deadline in 10
        "eta": {"remaining": 4, "pace_per_day": 4 / 7, "eta_days": 7,
                "eta_date": (today + timedelta(days=7)).isoformat(), "deadline": project.deadline.isoformat(),
                "days_left": 10, "needed_per_day": 1, "finishes_in_time": True,
                "formula": "ETA = today + ⌈items remaining ÷ pace⌉ days; pace = items decided in the last 7 days "
                           f"(today included) ÷ 7: {today.isoformat()} + ⌈4 ÷ 0.6⌉ = "
                           f"{(today + timedelta(days=7)).isoformat()}"},
    }


def test_no_pace_means_no_eta_and_a_finished_project_is_on_time(org):
    today = date(2026, 3, 10)
    stalled = ProjectFactory(organization=org, deadline=date(2026, 3, 20))
    ItemFactory(project=stalled, state="needs_review")
    finished = ProjectFactory(organization=org, deadline=date(2026, 3, 1))
    ItemFactory(project=finished, state="auto_accepted", final_source="auto")

    stalled_eta = project_summary(project=stalled, today=today)["eta"]
    finished_eta = project_summary(project=finished, today=today)["eta"]

    assert (stalled_eta["eta_days"], stalled_eta["eta_date"], stalled_eta["finishes_in_time"]) == (None, None, False)
    assert stalled_eta["formula"].endswith(": 1 items remaining at 0 items/day: no ETA")
    assert (finished_eta["eta_days"], finished_eta["eta_date"], finished_eta["finishes_in_time"]) == (0, today, False)
    assert (finished_eta["remaining"], finished_eta["days_left"]) == (0, -9)


def _at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def test_the_daily_task_records_history_and_throughput_per_day(org, world, client_for):
    project, today = world.project, timezone.localdate()
    yesterday = today - timedelta(days=1)
    for n, (state, source, when) in enumerate([
            ("auto_accepted", "auto", yesterday), ("auto_accepted", "auto", yesterday), ("reviewed", "review", yesterday),
            ("auto_accepted", "auto", today), ("reviewed", "import", today), ("needs_review", "", None),
            ("unlabelled", "", None)]):
        ItemFactory(project=project, state=state, final_source=source, final_labels=["cat"] if source else None,
                    decided_at=_at(when) if when else None, text=f"history item {n}")
    # What the task saw at the end of yesterday (its snapshot of states), written then.
    ProjectDailyStats.objects.create(project=project, day=yesterday, total=5, unlabelled=2, needs_review=1,
                                     auto_accepted=2, reviewed=0)

    written = daily_stats_record(today=today)

    assert written == 1
    rows = {row.day: row for row in ProjectDailyStats.objects.filter(project=project)}
    assert set(rows) == {yesterday, today}
    # Yesterday keeps its snapshot of states; its decided counts are brought up to date.
    assert (rows[yesterday].total, rows[yesterday].unlabelled, rows[yesterday].auto_accepted,
            rows[yesterday].decided_auto, rows[yesterday].decided_human) == (5, 2, 2, 2, 1)
    assert (rows[today].total, rows[today].unlabelled, rows[today].needs_review, rows[today].auto_accepted,
            rows[today].reviewed, rows[today].decided_auto, rows[today].decided_human) == (7, 1, 1, 3, 2, 1, 1)
    assert daily_stats_record(today=today) == 1  # idempotent: the same rows again
    assert ProjectDailyStats.objects.filter(project=project).count() == 2

    dashboard = project_dashboard(project=project, today=today, days=3)
    assert [(row["day"], row["total"], row["decided_auto"], row["decided_human"]) for row in dashboard["history"]] == [
        (yesterday, 5, 2, 1), (today, 7, 1, 1)]
    assert dashboard["throughput"]["days"] == [
        {"day": yesterday, "auto": 2, "human": 1, "total": 3}, {"day": today, "auto": 1, "human": 1, "total": 2}]
    assert (dashboard["throughput"]["decided"], dashboard["throughput"]["mean_per_day"]) == (5, 2.5)
    # The pace behind the ETA: 5 decided over the last 7 days.
    assert dashboard["summary"]["eta"]["pace_per_day"] == 5 / 7
    assert dashboard["summary"]["eta"]["eta_days"] == 3  # ⌈2 remaining × 7 ÷ 5⌉


def test_reviews_and_their_seconds_are_recorded_per_day(world, client_for):
    from tests.review.scenario import item_waiting, submit

    rita = client_for(world.reviewer)
    for seconds in (4, 6):
        assert submit(rita, item_waiting(world.project, world.schema), "approve", seconds=seconds).status_code == 201

    daily_stats_record()

    row = ProjectDailyStats.objects.get(project=world.project, day=timezone.localdate())
    assert (row.reviews, row.review_seconds, row.reviewed, row.decided_human) == (2, 10.0, 2, 2)
    assert Item.objects.filter(project=world.project, state="reviewed").count() == 2
