"""The dashboards cost the same number of queries whatever the project's size, and so does the manage page
of a project with a thousand classes."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics.selectors import MATRIX_MAX_CLASSES
from analytics.services import daily_stats_record
from labeling.models import Item
from tests.factories import ProjectFactory
from tests.review.scenario import item_waiting, schema_for, submit

pytestmark = pytest.mark.django_db

DASHBOARD_MAX_QUERIES = 25


def count(call) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        resp = call()
    return len(captured.captured_queries), resp


def project_of(org, reviewers, client_for, size: int, categories=("cat", "dog", "bird")):
    project = ProjectFactory(organization=org)
    schema = schema_for(project, categories, shortcuts={})
    Item.objects.bulk_create([
        Item(project=project, kind="text", text=f"auto {n}", content_hash=f"{project.pk}-auto-{n}",
             state=Item.State.AUTO_ACCEPTED, final_source=Item.FinalSource.AUTO, final_labels=[categories[n % 3]],
             predicted_labels=[categories[n % 3]], confidence=0.9)
        for n in range(size * 5)])
    for n in range(size):
        item = item_waiting(project, schema, top=categories[n % 3], in_audit_slice=n % 2 == 0)
        assert submit(client_for(reviewers[n % len(reviewers)]), item, "approve", seconds=n + 1).status_code == 201
    return project


@pytest.mark.parametrize("path", ["/api/analytics/project-dashboard/{id}", "/api/analytics/quality-metrics/{id}",
                                  "/api/analytics/cost-savings/{id}", "/api/projects/{id}/analytics",
                                  "/projects/{id}/dashboard", "/projects/{id}/manage"])
def test_queries_do_not_grow_with_the_project(org, make_member, client_for, client, path):
    manager = make_member("admin", org)
    reviewers = [make_member("reviewer", org) for _ in range(3)]
    small = project_of(org, reviewers, client_for, 3)
    large = project_of(org, reviewers, client_for, 30)
    daily_stats_record()
    api = client_for(manager)
    client.force_login(manager)
    get = client.get if not path.startswith("/api/") else api.get

    small_count, small_resp = count(lambda: get(path.format(id=small.pk)))
    large_count, large_resp = count(lambda: get(path.format(id=large.pk)))

    assert (small_resp.status_code, large_resp.status_code) == (200, 200)
    assert small_count == large_count
    assert large_count <= DASHBOARD_MAX_QUERIES


def test_the_manage_page_of_a_thousand_classes_shows_twenty_and_other_in_constant_queries(
        org, make_member, client_for, client):
    manager = make_member("admin", org)
    reviewer = make_member("reviewer", org)
    names = [f"class-{n:04d}" for n in range(1000)]
    small = ProjectFactory(organization=org)
    small_schema = schema_for(small, names[:3], shortcuts={})
    item = item_waiting(small, small_schema, top=names[0])
    assert submit(client_for(reviewer), item, "approve").status_code == 201
    large = ProjectFactory(organization=org)
    schema = schema_for(large, names, shortcuts={})
    Item.objects.bulk_create([
        Item(project=large, kind="text", text=f"settled {n}", content_hash=f"settled-{n}",
             state=Item.State.REVIEWED, final_source=Item.FinalSource.REVIEW, final_labels=[names[n % 1000]],
             final_schema=schema, predicted_labels=[names[(n * 7) % 1000]], confidence=0.5)
        for n in range(3000)])
    item = item_waiting(large, schema, top=names[0], probabilities=[0.001] * 1000)
    assert submit(client_for(reviewer), item, "approve").status_code == 201
    client.force_login(manager)

    small_count, _ = count(lambda: client.get(f"/projects/{small.pk}/manage"))
    large_count, page = count(lambda: client.get(f"/projects/{large.pk}/manage"))

    assert page.status_code == 200
    assert small_count == large_count
    model = page.context["model"]
    assert len(model["classes"]) == MATRIX_MAX_CLASSES + 1 and model["classes"][-1] == "(other)"
    assert len(page.context["confusion_rows"]) == MATRIX_MAX_CLASSES + 1
    assert model["count"] == 3001
    html = page.content.decode()
    assert html.count("<tr><th>") >= MATRIX_MAX_CLASSES + 1  # the matrix rows
    assert "most frequent classes; the others are counted under (other)" in html
