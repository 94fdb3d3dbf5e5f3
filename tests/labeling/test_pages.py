"""Labeling pages through Django's test client: upload, auto-label and a job, the data browser, an item."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from labeling.models import Item, Job
from labeling.views import JOB_STARTED
from tests.factories import JobFactory, ProjectFactory
from tests.review.scenario import item_waiting, schema_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(org):
    project = ProjectFactory(organization=org, name="Pets", default_model="vader-sentiment")
    schema_for(project)
    return project


def test_the_data_browser_filters_sorts_and_opens_an_item(client, org, make_member, project):
    schema = project.schemas.get()
    cats = [item_waiting(project, schema, top="cat", confidence=0.4 + i / 100, text=f"a cat, number {i}")
            for i in range(3)]
    dog = item_waiting(project, schema, top="dog", confidence=0.95, text="a dog")
    client.force_login(make_member("viewer", org))

    everything = client.get(f"/projects/{project.pk}/items").content.decode()
    dogs = client.get(f"/projects/{project.pk}/items", {"label": "dog", "sort": "confidence"}).content.decode()
    confident = client.get(f"/projects/{project.pk}/items", {"min_confidence": "0.41", "max_confidence": "0.9",
                                                              "sort": "-confidence"}).content.decode()
    wrong = client.get(f"/projects/{project.pk}/items", {"min_confidence": "2"}).content.decode()

    assert [f'href="/projects/{project.pk}/items/{i.pk}"' in everything for i in [*cats, dog]] == [True] * 4
    assert "a dog" in dogs and "a cat" not in dogs
    assert confident.index("a cat, number 2") < confident.index("a cat, number 1") and "number 0" not in confident
    assert "min_confidence: Ensure this value is less than or equal to 1.0." in wrong

    item = client.get(f"/projects/{project.pk}/items/{dog.pk}").content.decode()
    assert f"Item #{dog.pk}" in item and "a dog" in item
    assert '<span class="prediction-label">dog</span><span class="prediction-value">95.0%</span>' in item


def test_the_data_browser_page_costs_the_same_queries_for_a_page_of_4_or_48(client, org, make_member, project):
    schema = project.schemas.get()
    client.force_login(make_member("viewer", org))
    for i in range(4):
        item_waiting(project, schema, confidence=0.3 + i / 100)
    with CaptureQueriesContext(connection) as few:
        client.get(f"/projects/{project.pk}/items", {"state": "needs_review"})
    for i in range(60):
        item_waiting(project, schema, confidence=0.5 + i / 1000)
    with CaptureQueriesContext(connection) as many:
        page = client.get(f"/projects/{project.pk}/items", {"state": "needs_review"})
    assert page.content.decode().count('class="item-tile"') == 48
    assert len(few.captured_queries) == len(many.captured_queries)


def test_an_empty_project_says_to_upload_and_auto_label_needs_items(client, org, make_member):
    project = ProjectFactory(organization=org, project_type="image_classification")
    client.force_login(make_member("admin", org))
    items = client.get(f"/projects/{project.pk}/items").content.decode()
    jobs = client.get(f"/projects/{project.pk}/jobs").content.decode()
    upload = client.get(f"/projects/{project.pk}/upload").content.decode()
    assert "No data yet" in items and f"the <a href=\"/projects/{project.pk}/labels\">labels</a>" in items
    assert "Add this project's labels first" in jobs
    assert 'id="upload-input"' in upload and 'id="no-schema"' in upload


def test_auto_label_starts_a_job_with_the_chosen_model_and_the_job_page_says_what_is_next(
        client, org, make_member, project):
    schema = project.schemas.get()
    for i in range(3):
        item_waiting(project, schema, state=Item.State.UNLABELLED, text=f"text {i}")
    client.force_login(make_member("labeler", org))
    form = client.get(f"/projects/{project.pk}/jobs").content.decode()
    assert "Auto-label 3 items" in form
    assert '<option value="vader-sentiment" selected>vader-sentiment (project default)</option>' in form

    started = client.post(f"/projects/{project.pk}/jobs", {"model": "vader-sentiment"}, follow=True)
    job = Job.objects.get()
    assert started.redirect_chain == [(f"/projects/{project.pk}/jobs/{job.pk}", 302)]
    assert JOB_STARTED.format(count=3, model="vader-sentiment") in started.content.decode()
    assert (job.model_name, job.total, job.chunks.count()) == ("vader-sentiment", 3, 1)
    # running: "what is next" is hidden and empty; the page reloads once the job is over
    assert 'id="audit-state"' not in started.content.decode() and 'id="job-next" hidden' in started.content.decode()

    Job.objects.filter(pk=job.pk).update(status="succeeded", done=3)
    finished = client.get(f"/projects/{project.pk}/jobs/{job.pk}").content.decode()
    assert 'aria-valuenow="100.0"' in finished
    assert 'id="job-cancel"' not in finished
    audit_size = Item.objects.filter(project=project, in_audit_slice=True).count()
    assert ('Nothing is auto-accepted yet: that takes <strong id="audit-needed">70</strong> audit items with a '
            "person's label, and "
            f"this project's audit sample holds {audit_size} (0 labelled).") in finished

    for i in range(110):  # a bigger audit sample, 12 of it labelled by people
        item_waiting(project, schema, in_audit_slice=True, text=f"audit {i}", state=Item.State.REVIEWED if i < 12
                     else Item.State.NEEDS_REVIEW, final_source=Item.FinalSource.REVIEW if i < 12 else "")
    bigger = client.get(f"/projects/{project.pk}/jobs/{job.pk}").content.decode()
    assert ('Nothing is auto-accepted yet: <strong id="audit-remaining">58</strong> more audit items need a '
            "person's label first (12 of <span id=\"audit-needed\">70</span> done).") in bigger

    client.force_login(make_member("reviewer", org))
    assert client.post(f"/projects/{project.pk}/jobs", {"model": "vader-sentiment"}).status_code == 403
    assert Job.objects.count() == 1


def test_the_jobs_page_lists_every_visible_project_and_filters(client, org, other_org, make_member, project):
    mine = JobFactory(project=project, status="running")
    theirs = JobFactory(project=ProjectFactory(organization=other_org), status="running")
    client.force_login(make_member("viewer", org))
    page = client.get("/jobs/", {"status": "running"}).content.decode()
    none = client.get("/jobs/", {"status": "failed"}).content.decode()
    assert f'href="/projects/{project.pk}/jobs/{mine.pk}"' in page and f"#{theirs.pk}<" not in page
    assert 'id="jobs-empty"' in none
    assert client.get(f"/projects/{theirs.project_id}/jobs/{theirs.pk}").status_code == 404
