"""GET /api/projects/{id}/items (the data browser's list) and GET /api/jobs: filters, scoping, sorting,
and a query count that does not grow with the page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from exports.models import Export
from labeling.models import Item
from tests.factories import JobFactory, ProjectFactory
from tests.review.scenario import item_waiting, schema_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(org):
    project = ProjectFactory(organization=org, name="Pets")
    schema_for(project)
    return project


def items_of(project, **fields):
    schema = project.schemas.get()
    return item_waiting(project, schema, **fields)


def ids(resp) -> list[int]:
    assert resp.status_code == 200, resp.data
    return [row["id"] for row in resp.data["results"]]


def queries(call) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        resp = call()
    return len(captured.captured_queries), resp


def test_items_filter_by_state_label_confidence_and_source_and_sort(org, make_member, client_for, project):
    viewer = client_for(make_member("viewer", org))
    low_cat = items_of(project, top="cat", confidence=0.3)
    high_dog = items_of(project, top="dog", confidence=0.9, state=Item.State.PREDICTED)
    reviewed = items_of(project, top="cat", confidence=0.6)
    Item.objects.filter(pk=reviewed.pk).update(state=Item.State.REVIEWED, final_labels=["bird"],
                                               final_source=Item.FinalSource.REVIEW)
    imported = items_of(project, top="dog", confidence=0.5)
    Item.objects.filter(pk=imported.pk).update(state=Item.State.REVIEWED, final_labels=["dog"],
                                               final_source=Item.FinalSource.IMPORT)
    url = f"/api/projects/{project.pk}/items"

    assert ids(viewer.get(url)) == [imported.pk, reviewed.pk, high_dog.pk, low_cat.pk]  # newest first
    assert ids(viewer.get(url, {"state": "needs_review"})) == [low_cat.pk]
    # a decided label wins over the model's: the reviewed item said bird, not cat
    assert ids(viewer.get(url, {"label": "cat"})) == [low_cat.pk]
    assert ids(viewer.get(url, {"label": "dog"})) == [imported.pk, high_dog.pk]
    assert ids(viewer.get(url, {"min_confidence": 0.5, "max_confidence": 0.9, "sort": "confidence"})) == [
        imported.pk, reviewed.pk, high_dog.pk]
    assert ids(viewer.get(url, {"source": "review"})) == [reviewed.pk]
    assert ids(viewer.get(url, {"source": "none", "sort": "-confidence"})) == [high_dog.pk, low_cat.pk]
    row = viewer.get(url, {"source": "import"}).data["results"][0]
    assert (row["final_labels"], row["final_source"], row["predicted_labels"], row["confidence"]) == (
        ["dog"], "import", ["dog"], 0.5)

    bad = viewer.get(url, {"min_confidence": 0.8, "max_confidence": 0.2})
    assert (bad.status_code, bad.data) == (400, {"min_confidence": ["min_confidence cannot be above max_confidence."]})
    assert viewer.get(url, {"state": "nonsense"}).status_code == 400


def test_another_organizations_items_and_jobs_are_404(org, other_org, make_member, client_for, project):
    outsider = client_for(make_member("admin", other_org))
    JobFactory(project=project)
    assert outsider.get(f"/api/projects/{project.pk}/items").status_code == 404
    assert outsider.get("/api/jobs", {"project": project.pk}).status_code == 404
    assert outsider.get("/api/jobs").data["results"] == []


def test_the_items_list_costs_the_same_queries_for_5_or_50_items(org, make_member, client_for, project):
    viewer = client_for(make_member("viewer", org))
    for i in range(5):
        items_of(project, confidence=0.3 + i / 100)
    small, _ = queries(lambda: viewer.get(f"/api/projects/{project.pk}/items"))
    for i in range(45):
        items_of(project, confidence=0.5 + i / 100)
    Item.objects.filter(project=project).update(final_schema=project.schemas.get(), final_labels=["cat"],
                                                final_source=Item.FinalSource.REVIEW)
    large, resp = queries(lambda: viewer.get(f"/api/projects/{project.pk}/items", {"label": "cat"}))
    assert resp.data["count"] == 50 and len(resp.data["results"]) == 50
    assert resp.data["results"][0]["final_schema_version"] == 1
    assert small == large


def test_jobs_list_filters_scopes_and_costs_constant_queries(org, make_member, client_for, project):
    viewer = client_for(make_member("viewer", org))
    other = ProjectFactory(organization=org, name="Other")
    schema_for(other)
    first = JobFactory(project=project, status="succeeded")
    running = JobFactory(project=project, status="running")
    rescore = JobFactory(project=other, status="succeeded", kind="rescore")

    assert ids(viewer.get("/api/jobs")) == [rescore.pk, running.pk, first.pk]
    assert ids(viewer.get("/api/jobs", {"project": project.pk})) == [running.pk, first.pk]
    assert ids(viewer.get("/api/jobs", {"status": "succeeded"})) == [rescore.pk, first.pk]
    assert ids(viewer.get("/api/jobs", {"kind": "rescore"})) == [rescore.pk]
    assert viewer.get("/api/jobs", {"status": "nonsense"}).status_code == 400
    row = viewer.get("/api/jobs", {"kind": "rescore"}).data["results"][0]
    assert (row["project"], row["status"], row["kind"]) == (other.pk, "succeeded", "rescore")

    few, _ = queries(lambda: viewer.get("/api/jobs"))
    for _ in range(30):
        JobFactory(project=other)
    many, resp = queries(lambda: viewer.get("/api/jobs"))
    assert resp.data["count"] == 33
    assert few == many


def test_a_projects_exports_are_listed_with_download_links(org, make_member, client_for, project, other_org):
    viewer = client_for(make_member("viewer", org))
    schema = project.schemas.get()
    done = Export.objects.create(organization=org, project=project, schema=schema, format="json",
                                 request_hash="a", status="succeeded", size_bytes=1234, file="exports/x.zip")
    queued = Export.objects.create(organization=org, project=project, schema=schema, format="csv",
                                   request_hash="b")

    resp = viewer.get(f"/api/projects/{project.pk}/exports")

    assert resp.status_code == 200
    assert [(e["id"], e["status"], e["size_bytes"], e["download_url"]) for e in resp.data["results"]] == [
        (queued.public_id, "queued", 0, None),
        (done.public_id, "succeeded", 1234, f"/api/export/download/{done.public_id}.zip"),
    ]
    outsider = client_for(make_member("admin", other_org))
    assert outsider.get(f"/api/projects/{project.pk}/exports").status_code == 404
