"""Auto-labeling jobs: chunks on a real worker, exactly one prediction per item, the review policy,
and the API's answers to bad input."""

import pytest
from django.test import override_settings

from labeling.inference.classify import BATCH_TOO_LARGE, EMPTY_TEXT, WRONG_KIND
from labeling.inference.jobs import NO_ITEMS, UNKNOWN_MODEL, WRONG_MODALITY, chunk_run, job_create
from labeling.inference.scoring import qa_sampled
from labeling.inference.tasks import inference_chunk
from labeling.models import Item, Job, JobChunk, Prediction
from tests.conftest import wait_until
from tests.factories import ItemFactory, LabelSchemaFactory, ProjectFactory

TEXTS_POSITIVE = ["I love this product!", "Absolutely wonderful, great value", "This is the best day ever, so happy"]
TEXTS_NEGATIVE = ["This is terrible and I hate it", "Awful, broken, the worst purchase", "I am angry and sad"]
TEXTS_NEUTRAL = ["The box is 30 cm wide", "It arrived on Tuesday", "The manual has twelve pages"]


def sentiment_project(org, **settings):
    settings.setdefault("audit_slice_size", 0)
    project = ProjectFactory(organization=org, default_model="vader-sentiment", **settings)
    LabelSchemaFactory(project=project, categories=["positive", "negative", "neutral"])
    return project


def add_items(project, texts):
    return [ItemFactory(project=project, text=t) for t in texts]


@pytest.mark.worker
def test_job_on_a_real_worker_leaves_one_prediction_per_item(worker, org, make_member):
    user = make_member("admin", org)
    project = sentiment_project(org)
    items = add_items(project, [f"{t} (copy {i})" for i in range(25) for t in TEXTS_POSITIVE + TEXTS_NEGATIVE])
    job = job_create(project=project, created_by=user, chunk_size=64)
    assert job.total == 150
    assert JobChunk.objects.filter(job=job).count() == 3
    wait_until(lambda: Job.objects.get(pk=job.pk).status == Job.Status.SUCCEEDED, timeout=60, message="the job")
    job.refresh_from_db()
    assert (job.done, job.failed) == (150, 0)
    assert Prediction.objects.filter(job=job).count() == 150
    assert sorted(Prediction.objects.filter(job=job).values_list("item_id", flat=True)) == sorted(i.id for i in items)
    # A chunk delivered again (a worker died before acking) leaves the counts and rows as they were.
    inference_chunk.delay(job.id, 0)
    chunk_run(job_id=job.id, index=1)
    first = Item.objects.get(pk=items[0].pk)
    wait_until(lambda: JobChunk.objects.get(job=job, index=0).attempts >= 1, message="the redelivered chunk")
    job.refresh_from_db()
    assert (job.done, job.failed, job.status) == (150, 0, Job.Status.SUCCEEDED)
    assert Prediction.objects.filter(job=job).count() == 150
    assert first.predicted_labels == ["positive"]
    assert first.prediction.job_id == job.id


@pytest.mark.django_db
def test_a_chunk_run_twice_writes_and_counts_once():
    project = sentiment_project(ProjectFactory().organization)
    add_items(project, [f"{t} #{i}" for i in range(8) for t in TEXTS_POSITIVE + TEXTS_NEGATIVE + TEXTS_NEUTRAL])
    job = job_create(project=project, created_by=None, chunk_size=64)
    assert list(JobChunk.objects.filter(job=job).values_list("index", flat=True)) == [0, 1]
    chunk_run(job_id=job.id, index=0)
    chunk_run(job_id=job.id, index=0)
    job.refresh_from_db()
    assert (job.status, job.done, job.failed) == (Job.Status.RUNNING, 64, 0)
    assert Prediction.objects.filter(job=job).count() == 64
    assert JobChunk.objects.get(job=job, index=0).attempts == 1
    chunk_run(job_id=job.id, index=1)
    job.refresh_from_db()
    assert (job.status, job.done, job.failed) == (Job.Status.SUCCEEDED, 72, 0)
    assert Prediction.objects.filter(job=job).count() == 72
    assert Prediction.objects.filter(job=job).values("item_id").distinct().count() == 72


@pytest.mark.django_db
def test_policy_manual_threshold_auto_accepts_confident_items_and_queues_the_rest():
    project = sentiment_project(ProjectFactory().organization, auto_accept_threshold=0.6)
    items = add_items(project, TEXTS_POSITIVE + TEXTS_NEUTRAL)
    job = job_create(project=project, created_by=None)
    chunk_run(job_id=job.id, index=0)
    states = {}
    for item in Item.objects.filter(pk__in=[i.pk for i in items]):
        states[item.text] = (item.state, item.final_source)
        if item.confidence >= 0.6:
            assert item.state == Item.State.AUTO_ACCEPTED
            assert item.final_labels == item.predicted_labels
            assert item.final_source == Item.FinalSource.AUTO
        else:
            assert item.state == Item.State.NEEDS_REVIEW
            assert item.final_labels is None
            assert item.queue_reason == "uncertain"
    assert states["I love this product!"] == (Item.State.AUTO_ACCEPTED, Item.FinalSource.AUTO)


@pytest.mark.django_db
def test_without_threshold_nothing_is_auto_accepted_and_audit_items_go_to_review():
    project = sentiment_project(ProjectFactory().organization, audit_slice_size=2)
    add_items(project, TEXTS_POSITIVE + TEXTS_NEGATIVE)
    job = job_create(project=project, created_by=None)
    chunk_run(job_id=job.id, index=0)
    items = Item.objects.filter(project=project)
    assert items.filter(state=Item.State.AUTO_ACCEPTED).count() == 0
    assert items.filter(state=Item.State.NEEDS_REVIEW).count() == 6
    assert sorted(items.filter(in_audit_slice=True).values_list("queue_reason", flat=True)) == ["audit", "audit"]


@pytest.mark.django_db
def test_review_everything_policy_and_human_labels_are_never_overwritten():
    project = sentiment_project(ProjectFactory().organization, auto_accept_threshold=0.0, review_policy="all")
    items = add_items(project, TEXTS_POSITIVE)
    decided = items[0]
    Item.objects.filter(pk=decided.pk).update(final_labels=["negative"], final_source="import", state="reviewed")
    job = job_create(project=project, created_by=None, item_ids=[i.pk for i in items])
    chunk_run(job_id=job.id, index=0)
    decided.refresh_from_db()
    assert (decided.state, decided.final_labels, decided.final_source) == ("reviewed", ["negative"], "import")
    assert decided.predicted_labels == ["positive"]
    others = Item.objects.filter(pk__in=[i.pk for i in items[1:]])
    assert set(others.values_list("state", "queue_reason")) == {("needs_review", "policy")}


def test_qa_sample_is_deterministic_and_near_its_rate():
    drawn = [qa_sampled(i, 0.1) for i in range(5000)]
    assert drawn == [qa_sampled(i, 0.1) for i in range(5000)]
    assert 400 < sum(drawn) < 600
    assert not any(qa_sampled(i, 0.0) for i in range(100))


@pytest.mark.django_db
def test_job_create_errors():
    project = sentiment_project(ProjectFactory().organization)
    from modelship.exceptions import DomainError

    with pytest.raises(DomainError) as exc:
        job_create(project=project, created_by=None)
    assert exc.value.message == NO_ITEMS
    add_items(project, TEXTS_POSITIVE)
    with pytest.raises(DomainError) as exc:
        job_create(project=project, created_by=None, model_name="no-such-model")
    assert exc.value.message.startswith(UNKNOWN_MODEL.format(name="no-such-model", available="")[:-1].rstrip(". "))
    assert "vader-sentiment" in exc.value.message
    with pytest.raises(DomainError) as exc:
        job_create(project=project, created_by=None, model_name="efficientnet-lite0-imagenet")
    assert exc.value.message == WRONG_MODALITY.format(name="efficientnet-lite0-imagenet", modality="image", kind="text")


@pytest.mark.django_db
def test_api_project_classify_job_status_results_and_cancel(org, make_member, client_for):
    admin = make_member("admin", org)
    project = sentiment_project(org, auto_accept_threshold=0.5)
    add_items(project, TEXTS_POSITIVE + TEXTS_NEGATIVE)
    client = client_for(admin, org)
    resp = client.post(f"/api/projects/{project.id}/classify", {}, format="json")
    assert resp.status_code == 202, resp.data
    job_id = resp.data["id"]
    assert (resp.data["status"], resp.data["total"]) == ("queued", 6)
    chunk_run(job_id=job_id, index=0)
    resp = client.get(f"/api/jobs/{job_id}")
    assert (resp.status_code, resp.data["status"], resp.data["done"], resp.data["progress"]) == (200, "succeeded", 6, 1.0)
    results = client.get(f"/api/jobs/{job_id}/results")
    assert results.data["count"] == 6
    positive = client.get(f"/api/jobs/{job_id}/results", {"label": "positive"})
    assert sorted(r["item"]["text"] for r in positive.data["results"]) == sorted(TEXTS_POSITIVE)
    confident = client.get(f"/api/jobs/{job_id}/results", {"min_confidence": 0.99})
    assert all(r["confidence"] >= 0.99 for r in confident.data["results"])
    auto = client.get(f"/api/jobs/{job_id}/results", {"state": "auto_accepted"})
    assert all(r["item"]["state"] == "auto_accepted" for r in auto.data["results"])
    resp = client.post(f"/api/jobs/{job_id}/cancel")
    assert resp.status_code == 409
    assert resp.data == {"detail": "The job has already finished (succeeded)."}


@pytest.mark.django_db
def test_jobs_of_another_organization_are_404(org, other_org, make_member, client_for):
    outsider_project = sentiment_project(other_org)
    add_items(outsider_project, TEXTS_POSITIVE)
    job = job_create(project=outsider_project, created_by=None)
    client = client_for(make_member("admin", org), org)
    for path in (f"/api/jobs/{job.id}", f"/api/jobs/{job.id}/results"):
        resp = client.get(path)
        assert resp.status_code == 404
        assert resp.data == {"detail": "Job not found."}
    assert client.post(f"/api/jobs/{job.id}/cancel").status_code == 404
    assert client.post(f"/api/projects/{outsider_project.id}/classify", {}, format="json").status_code == 404


@pytest.mark.django_db
def test_viewer_cannot_start_a_job(org, make_member, client_for):
    project = sentiment_project(org)
    add_items(project, TEXTS_POSITIVE)
    resp = client_for(make_member("viewer", org), org).post(f"/api/projects/{project.id}/classify", {}, format="json")
    assert resp.status_code == 403


@pytest.mark.django_db
def test_classify_bad_input(org, make_member, client_for):
    from tests.factories import image_bytes

    client = client_for(make_member("admin", org), org)
    resp = client.post("/api/classify/text", {"text": "great", "model": "nope"}, format="json")
    assert resp.status_code == 400
    assert resp.data["model"][0].startswith("Unknown model 'nope'. Available models: ")
    assert "vader-sentiment" in resp.data["model"][0]
    resp = client.post("/api/classify/text", {"text": "   "}, format="json")
    assert (resp.status_code, resp.data) == (400, {"text": [EMPTY_TEXT]})
    from django.core.files.uploadedfile import SimpleUploadedFile

    image = SimpleUploadedFile("a.png", image_bytes("PNG", (32, 32)), content_type="image/png")
    resp = client.post("/api/classify/image", {"file": image, "model": "vader-sentiment"}, format="multipart")
    assert resp.status_code == 400
    assert resp.data == {"model": [WRONG_KIND.format(name="vader-sentiment", modality="text", kind="image")]}
    project = sentiment_project(org)
    with override_settings(CLASSIFY_BATCH_MAX_ITEMS=3):
        resp = client.post("/api/classify/text/batch", {"project": project.id, "texts": ["a", "b", "c", "d"]},
                           format="json")
    assert resp.status_code == 413
    assert resp.data == {"detail": BATCH_TOO_LARGE.format(limit=3, count=4), "limit": 3}


@pytest.mark.django_db
def test_classify_text_now_and_batch(org, make_member, client_for):
    client = client_for(make_member("admin", org), org)
    resp = client.post("/api/classify/text", {"text": "I love this product!"}, format="json")
    assert resp.status_code == 200
    assert (resp.data["model"], resp.data["labels"]) == ("vader-sentiment", ["positive"])
    project = sentiment_project(org)
    resp = client.post("/api/classify/text", {"text": "I hate this", "project": project.id}, format="json")
    assert (resp.status_code, resp.data["labels"]) == (200, ["negative"])
    resp = client.post("/api/classify/text/batch", {"project": project.id, "texts": TEXTS_POSITIVE + ["I love this product!"]},
                       format="json")
    assert resp.status_code == 202, resp.data
    assert resp.data["job"]["total"] == 3  # the repeated text is one item
    assert resp.data["imported"]["accepted"] == 3
    assert resp.data["imported"]["duplicates"] == 1


@pytest.mark.django_db
def test_quick_classify_needs_no_account_and_is_throttled(api):
    resp = api.post("/api/classify/text/quick", {"text": "I love this product!", "task": "sentiment"}, format="json")
    assert resp.status_code == 200
    assert (resp.data["label"], resp.data["model"]) == ("positive", "vader-sentiment")
    resp = api.post("/api/classify/text/quick", {"text": "x" * 1001, "task": "sentiment"}, format="json")
    assert resp.status_code == 413
    resp = api.post("/api/classify/text/quick", {"text": "hello", "task": "astrology"}, format="json")
    assert resp.status_code == 400
    assert resp.data == {"task": ["Unknown task 'astrology'. Tasks: sentiment, toxicity, language, emotion, topic."]}
    codes = [api.post("/api/classify/text/quick", {"text": "ok", "task": "sentiment"}, format="json").status_code
             for _ in range(30)]
    assert codes == [200] * 27 + [429] * 3  # 30/minute per IP, counting the three calls above


@pytest.mark.django_db
def test_models_list(org, make_member, client_for):
    resp = client_for(make_member("viewer", org), org).get("/api/models")
    assert resp.status_code == 200
    by_name = {m["name"]: m for m in resp.data}
    assert by_name["vader-sentiment"]["loadable"] is True
    assert by_name["efficientnet-lite0-imagenet"]["modality"] == "image"
    assert by_name["resnet-50"]["loadable"] is False
    assert by_name["resnet-50"]["unavailable_reason"]


@pytest.mark.django_db
def test_new_predictions_leave_items_part_way_through_review_where_they_are():
    project = sentiment_project(ProjectFactory().organization, auto_accept_threshold=0.0)
    overlapped, tied, fresh = add_items(project, TEXTS_POSITIVE)
    Item.objects.filter(pk=overlapped.pk).update(state="needs_review", review_count=1, required_reviews=2,
                                                 queue_reason="uncertain")
    Item.objects.filter(pk=tied.pk).update(state="needs_review", review_count=2, queue_reason="adjudication")
    job = job_create(project=project, created_by=None, item_ids=[overlapped.pk, tied.pk, fresh.pk])
    chunk_run(job_id=job.id, index=0)
    rows = {i.pk: (i.state, i.queue_reason, i.predicted_labels) for i in Item.objects.filter(project=project)}
    assert rows[overlapped.pk] == ("needs_review", "uncertain", ["positive"])
    assert rows[tied.pk] == ("needs_review", "adjudication", ["positive"])
    assert rows[fresh.pk] == ("auto_accepted", "", ["positive"])


@pytest.mark.django_db
def test_classify_with_a_model_that_cannot_load_here_is_400(org, make_member, client_for):
    client = client_for(make_member("admin", org), org)
    resp = client.post("/api/classify/text", {"text": "great", "model": "no-such-org/no-such-model"}, format="json")
    assert resp.status_code == 400
    assert resp.data["model"][0].startswith("The model 'no-such-org/no-such-model' cannot be loaded here: ")
