"""A failure part-way leaves no half-created item and no orphan file; imports can run twice."""

import pytest

from labeling.items.imports import IMPORT_FAILED, import_job_run
from labeling.items.tasks import import_run
from labeling.models import HumanLabel, ImportJob, Item
from labeling.task_names import IMPORT_RUN
from modelship.celery import app as celery_app
from tests.conftest import stored_files
from tests.factories import LabelSchemaFactory, ProjectFactory, image_bytes, named, zip_bytes


@pytest.fixture
def fail_on_insert(monkeypatch):
    """Make the n-th bulk insert of items raise, as a database failure would."""
    from modelship import bulk

    original = bulk.rows_insert

    def install(n: int) -> None:
        calls = {"n": 0}

        def rows_insert(*, model, **kwargs):
            if model is Item:
                calls["n"] += 1
                if calls["n"] == n:
                    raise RuntimeError("database went away")
            return original(model=model, **kwargs)

        monkeypatch.setattr(bulk, "rows_insert", rows_insert)

    return install


def images_zip(count: int) -> bytes:
    return zip_bytes({f"img{i}.png": image_bytes(color=(i, 0, 0)) for i in range(count)})


@pytest.mark.django_db
def test_a_synchronous_upload_that_fails_part_way_writes_nothing(org, make_member, client_for, media_root, settings,
                                                                  fail_on_insert):
    settings.IMPORT_BATCH_SIZE = 2
    project = ProjectFactory(organization=org, project_type="image_classification")
    client = client_for(make_member("labeler", org), org)
    fail_on_insert(2)
    with pytest.raises(RuntimeError, match="database went away"):
        client.post("/api/upload", {"project": project.id, "files": [named(images_zip(5), "five.zip")]},
                    format="multipart")
    assert not Item.objects.exists()
    assert not ImportJob.objects.exists()
    assert stored_files(media_root) == []


@pytest.fixture
def queued(monkeypatch):
    """Capture the import tasks an upload enqueues instead of sending them to a broker."""
    sent = []
    monkeypatch.setattr(celery_app, "send_task", lambda name, args: sent.append(args[0]) if name == IMPORT_RUN else None)
    return sent


@pytest.mark.django_db(transaction=True)
def test_a_worker_import_that_fails_keeps_whole_batches_and_no_orphans(org, make_member, client_for, media_root,
                                                                       settings, queued, fail_on_insert):
    settings.IMPORT_BATCH_SIZE = 2
    settings.IMPORT_ASYNC_ITEMS = 3
    project = ProjectFactory(organization=org, project_type="image_classification")
    client = client_for(make_member("labeler", org), org)
    resp = client.post("/api/upload", {"project": project.id, "files": [named(images_zip(5), "five.zip")]},
                       format="multipart")
    assert resp.status_code == 202
    assert (resp.data["status"], resp.data["is_async"], resp.data["total"]) == ("queued", True, 5)
    job = ImportJob.objects.get()
    assert queued == [job.id]
    staged = job.staged_files[0]["path"]
    assert staged == f"projects/{project.id}/imports/{job.id}/00000"
    assert stored_files(media_root) == [staged]

    fail_on_insert(2)
    with pytest.raises(RuntimeError):
        import_run(job.id)
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.error == IMPORT_FAILED.format(error="RuntimeError: database went away")
    assert (job.processed, job.accepted) == (2, 2)  # the first batch, committed before the failure
    kept = list(Item.objects.order_by("id"))
    assert [i.original_name for i in kept] == ["img0.png", "img1.png"]
    assert stored_files(media_root) == sorted(i.file.name for i in kept)  # no orphan, no staged file

    import_run(job.id)  # delivered again: a finished job is left alone
    assert Item.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_an_import_interrupted_and_run_again_creates_each_item_once(org, make_member, client_for, media_root,
                                                                    settings, queued, fail_on_insert):
    settings.IMPORT_BATCH_SIZE = 2
    settings.IMPORT_ASYNC_ITEMS = 3
    project = ProjectFactory(organization=org)
    schema = LabelSchemaFactory(project=project, categories=["a", "b"])
    client = client_for(make_member("labeler", org), org)
    csv = "text,label\n" + "".join(f"row {i},{'ab'[i % 2]}\n" for i in range(5))
    resp = client.post("/api/upload", {"project": project.id, "files": [named(csv.encode(), "rows.csv")]},
                       format="multipart")
    job_id = resp.data["id"]
    fail_on_insert(3)
    with pytest.raises(RuntimeError):  # the worker dies: nothing records the failure
        import_job_run(import_job_id=job_id)
    assert ImportJob.objects.get(pk=job_id).status == "running"
    assert Item.objects.count() == 4

    job = import_job_run(import_job_id=job_id)  # acks_late: the task runs again
    assert (job.status, job.processed, job.accepted, job.duplicates, job.rejected) == ("succeeded", 5, 5, 0, 0)
    assert sorted(Item.objects.values_list("text", "final_labels")) == [
        (f"row {i}", ["ab"[i % 2]]) for i in range(5)]
    assert HumanLabel.objects.filter(schema=schema).count() == 5
    assert stored_files(media_root) == []
    assert import_job_run(import_job_id=job_id).status == "succeeded"
    assert Item.objects.count() == 5
