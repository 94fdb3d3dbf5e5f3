"""The periodic task on a real worker: scheduled in beat, it writes today's row and compacts the counts."""

import pytest
from celery import current_app
from django.conf import settings
from django.utils import timezone

from analytics.models import ItemCount, ProjectDailyStats
from labeling.models import Item
from tests.conftest import wait_until
from tests.factories import ItemFactory, ProjectFactory

pytestmark = pytest.mark.worker


def test_the_daily_stats_task_is_scheduled_and_runs_on_the_worker(worker, postgres_only):
    project = ProjectFactory()
    for state in ("unlabelled", "unlabelled", "needs_review"):
        ItemFactory(project=project, state=state)
    Item.objects.filter(project=project, state="needs_review").update(state="reviewed", final_source="review",
                                                                     final_labels=["cat"])
    assert ItemCount.objects.filter(project_id=project.pk).count() == 5  # 3 inserts; one update: −1 and +1

    schedule = settings.CELERY_BEAT_SCHEDULE["analytics-daily-stats"]
    assert (schedule["task"], schedule["schedule"]) == ("analytics.tasks.daily_stats_record", 1800.0)
    current_app.send_task(schedule["task"])

    row = wait_until(lambda: ProjectDailyStats.objects.filter(project=project, day=timezone.localdate()).first(),
                     timeout=60, message="the daily statistics row")
    assert (row.total, row.unlabelled, row.reviewed, row.needs_review) == (3, 2, 1, 0)
    wait_until(lambda: ItemCount.objects.filter(project_id=project.pk).count() == 2, timeout=30,
               message="the counts compacted")
    assert sorted(ItemCount.objects.filter(project_id=project.pk).values_list("state", "n")) == [
        ("reviewed", 1), ("unlabelled", 2)]
