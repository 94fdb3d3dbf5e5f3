"""The project dashboard in real Chromium: charts drawn with their data points, readable at 820 px."""

from datetime import timedelta

import pytest
from django.utils import timezone

from analytics.models import ProjectDailyStats
from labeling.models import Item
from tests.analytics.test_quality import audit_item
from tests.factories import ItemFactory
from tests.review.scenario import item_waiting, submit
from tests.review.test_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def chart_box(page, selector: str) -> dict:
    return page.locator(selector).evaluate(
        "svg => { const r = svg.getBoundingClientRect();"
        " return {width: r.width, height: r.height,"
        " points: svg.querySelectorAll('.chart-point, .chart-bar').length}; }")


def test_a_manager_sees_the_dashboard_charts(live_server, page, artifacts_dir, world, client_for):
    project, today = world.project, timezone.localdate()
    project.deadline = today + timedelta(days=20)
    project.save()
    for days_ago in range(5, 0, -1):
        ProjectDailyStats.objects.create(project=project, day=today - timedelta(days=days_ago), total=40,
                                         unlabelled=30 - 5 * days_ago, auto_accepted=5 + 4 * days_ago,
                                         reviewed=5 + days_ago, needs_review=0, decided_auto=4, decided_human=2)
    rita = client_for(world.reviewer)
    for n, (top, decision, labels) in enumerate([("cat", "approve", None), ("dog", "modify", ["cat"]),
                                                 ("bird", "approve", None), ("cat", "reject", None)]):
        item = item_waiting(project, world.schema, top=top, text=f"A sentence about animals {n}")
        assert submit(rita, item, decision, labels=labels, seconds=5 + n).status_code == 201
    for n in range(12):
        ItemFactory(project=project, state=Item.State.AUTO_ACCEPTED, final_source=Item.FinalSource.AUTO,
                    final_labels=["cat"], decided_at=timezone.now(), text=f"auto-accepted {n}")
    for confidence, truth in [(0.95, "cat"), (0.9, "dog"), (0.7, "bird"), (0.55, "cat")]:
        audit_item(world, top="cat", truth=truth, confidence=confidence)

    page.set_viewport_size({"width": 820, "height": 1000})
    log_in(page, live_server.url, world.manager.email)
    page.goto(f"{live_server.url}/projects/{project.pk}/dashboard")

    over_time = chart_box(page, "#chart-over-time svg")
    throughput = chart_box(page, "#chart-throughput svg")
    reliability = chart_box(page, "#chart-reliability svg")
    recall = chart_box(page, "#chart-recall svg")
    # 6 days (5 recorded, today live) × 5 states, zeros included
    assert over_time["points"] == 30
    # 5 past days × (model 4, people 2) + today (model 12, people 4)
    assert throughput["points"] == 12
    # 4 audit items in 4 confidence bins: a bar (accuracy) and a point (mean confidence) each
    assert reliability["points"] == 8
    # recall: cat 3/4, bird 1/2; dog and (rejected) 0 draw no bar
    assert recall["points"] == 2
    for box in (over_time, throughput, reliability, recall):
        assert box["width"] > 300 and box["height"] > 80
    # Readable at 820 px: nothing wider than the window.
    assert page.evaluate("document.documentElement.scrollWidth") <= 820
    assert page.locator("#auto-accept-rate").inner_text() == "60.0%"  # 12 of the 20 items the model labelled
    assert page.locator("#model-accuracy").inner_text() == "50.0%"
    page.screenshot(path=str(artifacts_dir / "analytics_project_dashboard.png"), full_page=True)

    csv = page.request.get(f"{live_server.url}/projects/{project.pk}/dashboard/states.csv")
    assert csv.status == 200
    assert csv.text().splitlines()[3] == "auto_accepted,12"
