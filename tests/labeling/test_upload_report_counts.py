"""The import report's counts equal the rows written: a repeat is a duplicate whichever write batch
it falls in, and an import run again after a crash counts each row once."""

import io
import zipfile

import pytest

from labeling.items.imports import UploadFile, import_job_run, upload_receive
from labeling.models import ImportJob, Item
from tests.factories import ProjectFactory, image_bytes, named
from tests.labeling.conftest import upload

pytestmark = pytest.mark.django_db


def _csv_with_repeats() -> bytes:
    texts = [f"review number {n}" for n in range(1500)]
    texts[1200] = texts[1]  # row 1,201 repeats row 2: a later write batch
    texts[10] = texts[2]  # row 11 repeats row 3: the same batch
    return ("text\n" + "\n".join(texts) + "\n").encode()


def test_a_repeat_in_a_later_write_batch_is_a_duplicate(client, org, settings):
    settings.IMPORT_ASYNC_ITEMS = 100_000
    settings.IMPORT_BATCH_SIZE = 1000
    project = ProjectFactory(organization=org)
    resp = upload(client, project, named(_csv_with_repeats(), "reviews.csv"))
    assert resp.status_code == 201, resp.data
    assert (resp.data["accepted"], resp.data["duplicates"], resp.data["rejected"]) == (1498, 2, 0)
    assert [(row["line"], row["item"]) for row in resp.data["report"]["duplicates"]] == [
        (12, Item.objects.get(project=project, text="review number 2").pk),
        (1202, Item.objects.get(project=project, text="review number 1").pk),
    ]
    assert Item.objects.filter(project=project).count() == 1498


def test_a_zip_of_images_with_repeats_across_batches_reports_what_it_holds(client, org, settings, media_root):
    settings.IMPORT_ASYNC_ITEMS = 100_000
    settings.IMPORT_BATCH_SIZE = 10
    project = ProjectFactory(organization=org, project_type="image_classification")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        for n in range(50):
            zf.writestr(f"img{n:02d}.png", image_bytes("PNG", (4, 4), color=(n % 45, 0, 0)))  # 5 repeats
    resp = upload(client, project, named(archive.getvalue(), "images.zip"))
    assert resp.status_code == 201, resp.data
    assert (resp.data["accepted"], resp.data["duplicates"]) == (45, 5)
    assert Item.objects.filter(project=project).count() == 45


def test_an_import_run_again_after_a_crash_counts_each_row_once(org, make_member, settings):
    settings.IMPORT_ASYNC_ITEMS = 10
    settings.IMPORT_BATCH_SIZE = 1000
    project = ProjectFactory(organization=org)
    data = _csv_with_repeats()
    job = upload_receive(project=project, files=[UploadFile(name="reviews.csv", size=len(data),
                                                            stream=io.BytesIO(data))],
                         text_mode="line", uploaded_by=make_member("admin", org))
    assert job.status == ImportJob.Status.QUEUED
    staged = job.staged_files
    import_job_run(import_job_id=job.pk)  # (its staged files are dropped on commit, which a test never does)
    # The worker died before recording the end: the message comes back and the import runs again.
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING, finished_at=None, staged_files=staged)
    import_job_run(import_job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.accepted, job.duplicates, job.rejected) == (ImportJob.Status.SUCCEEDED, 1498, 2, 0)
    assert Item.objects.filter(project=project).count() == 1498
