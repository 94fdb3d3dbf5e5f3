"""Image projects end to end in-process: upload through the batch endpoint, classify, read results."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from labeling.inference.jobs import chunk_run
from labeling.models import Item, Job, JobItemError, Prediction
from tests.factories import LabelSchemaFactory, ProjectFactory, image_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def coffee_jpeg() -> bytes:
    from PIL import Image
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(data.coffee()).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_image_batch_job_classifies_the_coffee_photo(org, make_member, client_for, media):
    project = ProjectFactory(organization=org, project_type="image_classification",
                             default_model="efficientnet-lite0-custom", audit_slice_size=0,
                             auto_accept_threshold=0.5)
    LabelSchemaFactory(project=project, categories=["coffee", "dog", "car"])
    client = client_for(make_member("labeler", org), org)
    files = [SimpleUploadedFile("coffee.jpg", coffee_jpeg(), content_type="image/jpeg"),
             SimpleUploadedFile("red.png", image_bytes("PNG", (64, 64)), content_type="image/png")]
    resp = client.post("/api/classify/image/batch", {"project": project.id, "files": files}, format="multipart")
    assert resp.status_code == 202, resp.data
    job_id = resp.data["job"]["id"]
    assert resp.data["job"]["total"] == 2
    chunk_run(job_id=job_id, index=0)
    job = Job.objects.get(pk=job_id)
    assert (job.status, job.done, job.failed) == ("succeeded", 2, 0)
    coffee = Item.objects.get(project=project, original_name="coffee.jpg")
    assert coffee.predicted_labels == ["coffee"]
    assert coffee.prediction.model_name == "efficientnet-lite0-custom"
    assert len(coffee.prediction.probabilities) == 3
    assert coffee.embeddings.get().model_name == "efficientnet-lite0-custom"


def test_single_image_classify_imagenet(org, make_member, client_for):
    client = client_for(make_member("viewer", org), org)
    upload = SimpleUploadedFile("coffee.jpg", coffee_jpeg(), content_type="image/jpeg")
    resp = client.post("/api/classify/image", {"file": upload}, format="multipart")
    assert resp.status_code == 200, resp.data
    assert resp.data["model"] == "efficientnet-lite0-imagenet"
    assert resp.data["labels"][0] in {"espresso", "tea cup", "coffee mug"}
    assert len(resp.data["top"]) == 5


def test_a_missing_file_fails_its_item_alone(org, make_member, media):
    from labeling.inference.jobs import job_create

    project = ProjectFactory(organization=org, project_type="image_classification",
                             default_model="efficientnet-lite0-imagenet", audit_slice_size=0)
    LabelSchemaFactory(project=project, categories=["espresso", "coffee mug"])
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    good = Item.objects.create(project=project, kind="image", content_hash="a" * 64, mime_type="image/jpeg",
                               file=default_storage.save("t/coffee.jpg", ContentFile(coffee_jpeg())))
    gone = Item.objects.create(project=project, kind="image", content_hash="b" * 64, mime_type="image/jpeg",
                               file="t/missing.jpg")
    corrupt = Item.objects.create(project=project, kind="image", content_hash="c" * 64, mime_type="image/jpeg",
                                  file=default_storage.save("t/bad.jpg", ContentFile(b"\xff\xd8 not really a jpeg")))
    job = job_create(project=project, created_by=None)
    chunk_run(job_id=job.id, index=0)
    job.refresh_from_db()
    assert (job.status, job.done, job.failed) == ("succeeded", 1, 2)
    assert list(Prediction.objects.filter(job=job).values_list("item_id", flat=True)) == [good.id]
    reasons = dict(JobItemError.objects.filter(job=job).values_list("item_id", "reason"))
    assert reasons[gone.id] == "The item's stored file could not be read."
    assert corrupt.id in reasons and reasons[corrupt.id]
