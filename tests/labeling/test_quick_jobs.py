"""The seed's quick start: classify/text/batch and classify/image/batch without a project go to the
caller's own scratch project, and the results are at GET /api/jobs/{id}/results."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from labeling.inference.classify import QUICK_ROLE_REQUIRED
from labeling.inference.jobs import chunk_run
from labeling.models import Item
from projects.models import Project
from tests.factories import image_bytes

TEXTS = ["I love this product!", "This is terrible and I hate it", "The box is 30 cm wide"]


@pytest.mark.django_db
def test_a_text_batch_without_a_project_runs_in_the_callers_scratch_project(org, make_member, client_for):
    labeler = make_member("labeler", org, email="ada@example.com")
    client = client_for(labeler, org)
    resp = client.post("/api/classify/text/batch", {"texts": TEXTS}, format="json")
    assert resp.status_code == 202, resp.data
    project = Project.objects.get(organization=org)
    assert (project.name, project.project_type, project.template, project.default_model, project.created_by) == (
        "Quick text jobs of ada@example.com", "text_classification", "sentiment", "vader-sentiment", labeler)
    job = resp.data["job"]
    assert {k: job[k] for k in ("project", "model_name", "status", "total", "done", "failed", "progress")} == {
        "project": project.id, "model_name": "vader-sentiment", "status": "queued", "total": 3, "done": 0,
        "failed": 0, "progress": 0.0}
    assert (resp.data["imported"]["accepted"], resp.data["imported"]["duplicates"]) == (3, 0)

    chunk_run(job_id=job["id"], index=0)  # what the worker does with the job's one chunk
    status = client.get(f"/api/jobs/{job['id']}")
    assert (status.status_code, status.data["status"], status.data["done"], status.data["progress"]) == (
        200, "succeeded", 3, 1.0)
    results = client.get(f"/api/jobs/{job['id']}/results")
    assert results.status_code == 200
    assert sorted((r["item"]["text"], r["labels"]) for r in results.data["results"]) == sorted([
        ("I love this product!", ["positive"]), ("This is terrible and I hate it", ["negative"]),
        ("The box is 30 cm wide", ["neutral"])])

    again = client.post("/api/classify/text/batch", {"texts": ["Wonderful, great value"]}, format="json")
    assert again.status_code == 202
    assert again.data["job"]["project"] == project.id  # the same scratch project, not a new one
    assert Project.objects.filter(organization=org).count() == 1
    assert Item.objects.filter(project=project).count() == 4


@pytest.mark.django_db
def test_the_seeds_image_batch_with_files_only(org, make_member, client_for):
    admin = make_member("admin", org, email="grace@example.com")
    files = [SimpleUploadedFile(f"image{i}.png", image_bytes("PNG", (32, 32), color=(40 * i, 90, 200)),
                                content_type="image/png") for i in (1, 2)]
    resp = client_for(admin, org).post("/api/classify/image/batch", {"files": files}, format="multipart")
    assert resp.status_code == 202, resp.data
    project = Project.objects.get(organization=org)
    assert (project.name, project.project_type, project.template, project.default_model) == (
        "Quick image jobs of grace@example.com", "image_classification", "imagenet", "efficientnet-lite0-imagenet")
    assert (resp.data["job"]["project"], resp.data["job"]["total"], resp.data["imported"]["accepted"]) == (
        project.id, 2, 2)


@pytest.mark.django_db
def test_viewers_and_reviewers_must_name_a_project(org, make_member, client_for):
    for role in ("viewer", "reviewer"):
        resp = client_for(make_member(role, org), org).post("/api/classify/text/batch", {"texts": TEXTS},
                                                            format="json")
        assert (resp.status_code, resp.data) == (403, {"detail": QUICK_ROLE_REQUIRED})
    assert not Project.objects.filter(organization=org).exists()
