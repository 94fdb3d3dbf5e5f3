"""A job's progress moves per model batch, before its chunk is written; polling it is one query."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from labeling.inference import jobs
from labeling.inference.jobs import chunk_run, job_create, job_scored
from tests.factories import ItemFactory, LabelSchemaFactory, ProjectFactory


def sentiment_project(org):
    project = ProjectFactory(organization=org, default_model="vader-sentiment", audit_slice_size=0)
    LabelSchemaFactory(project=project, categories=["positive", "negative", "neutral"])
    return project


@pytest.mark.django_db
def test_progress_moves_per_batch_inside_one_chunk(org, make_member, client_for, monkeypatch):
    project = sentiment_project(org)
    for i in range(70):
        ItemFactory(project=project, text=f"I love this product, number {i}!")
    job = job_create(project=project, created_by=None, chunk_size=256)
    assert job.chunk_size == 256  # one chunk: before this change the job sat at 0% until it finished
    client = client_for(make_member("viewer", org), org)
    seen = []
    original = jobs.predictions_write

    def write_and_look(**kwargs):  # what a client polling the job sees just before the chunk is written
        resp = client.get(f"/api/jobs/{job.id}")
        seen.append((resp.data["status"], resp.data["done"], resp.data["scored"], resp.data["progress"]))
        return original(**kwargs)

    monkeypatch.setattr(jobs, "predictions_write", write_and_look)
    monkeypatch.setattr(jobs.get_classifier("vader-sentiment"), "batch_size", 32)  # as a MiniLM or image model's
    batches = []
    real_add = jobs.job_scored_add
    monkeypatch.setattr(jobs, "job_scored_add", lambda **kw: (batches.append(kw["count"]), real_add(**kw)))
    chunk_run(job_id=job.id, index=0)
    assert batches == [32, 32, 6]
    assert seen == [("running", 0, 70, 1.0)]
    resp = client.get(f"/api/jobs/{job.id}")
    assert (resp.data["status"], resp.data["done"], resp.data["scored"], resp.data["progress"]) == (
        "succeeded", 70, 70, 1.0)
    assert job_scored(job_id=job.id) == 70


@pytest.mark.django_db
def test_a_queued_job_reads_zero_and_polling_is_one_query(org, make_member, client_for):
    project = sentiment_project(org)
    ItemFactory(project=project, text="fine")
    job = job_create(project=project, created_by=None)
    client = client_for(make_member("labeler", org), org)
    client.get(f"/api/jobs/{job.id}")
    with CaptureQueriesContext(connection) as queries:
        resp = client.get(f"/api/jobs/{job.id}")
    assert (resp.status_code, resp.data["scored"], resp.data["progress"]) == (200, 0, 0.0)
    # The job, its project and the caller's roles in one query (the token's user is read by authentication).
    assert len(queries.captured_queries) == 1
    assert "accounts_membership" in queries.captured_queries[0]["sql"]
