"""Uploading images: recognised by content, the per-file report, dedupe, download and delete."""

import hashlib

import pytest

from accounts.models import AuditEvent
from labeling.items.files import FILE_MISSING
from labeling.models import ImportJob, Item
from labeling.uploads import messages
from tests.conftest import stored_files
from tests.factories import ItemFactory, ProjectFactory, image_bytes, named
from tests.labeling.conftest import upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(org):
    return ProjectFactory(organization=org, project_type="image_classification")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_valid_and_corrupt_images_together_give_the_per_file_report(client, project, labeler, media_root):
    png = image_bytes("PNG", (8, 6))
    jpeg = image_bytes("JPEG", (10, 4))
    tiff = image_bytes("TIFF", (3, 3))
    bmp = image_bytes("BMP", (5, 2))
    webp = image_bytes("WEBP", (7, 7))
    truncated = image_bytes("PNG", (64, 64), color=(1, 2, 3))[:60]
    resp = upload(client, project,
                  named(png, "cat.png"), named(b"\xff\xd8\xffnot really a jpeg", "broken.jpg"),
                  named(jpeg, "dog.jpeg"), named(truncated, "truncated.png"), named(tiff, "scan.tif"),
                  named(bmp, "icon.bmp"), named(webp, "photo.webp"), named(image_bytes("GIF"), "anim.gif"),
                  named(b"%PDF-1.4 ...", "paper.pdf"), named(b"", "empty.png"))
    assert resp.status_code == 201, resp.data
    items = {i.original_name: i for i in Item.objects.filter(project=project)}
    assert resp.data["status"] == "succeeded"
    assert (resp.data["accepted"], resp.data["duplicates"], resp.data["rejected"]) == (5, 0, 5)
    assert resp.data["report"]["accepted"] == [
        {"file": name, "archive": "", "line": None, "item": items[name].id}
        for name in ("cat.png", "dog.jpeg", "scan.tif", "icon.bmp", "photo.webp")
    ]
    assert resp.data["report"]["rejected"] == [
        {"file": "broken.jpg", "archive": "", "line": None, "reason": messages.IMAGE_CORRUPT},
        {"file": "truncated.png", "archive": "", "line": None, "reason": messages.IMAGE_TRUNCATED},
        {"file": "anim.gif", "archive": "", "line": None, "reason": messages.IMAGE_FORMAT.format(format="GIF")},
        {"file": "paper.pdf", "archive": "", "line": None, "reason": messages.UNSUPPORTED_TYPE},
        {"file": "empty.png", "archive": "", "line": None, "reason": messages.FILE_EMPTY},
    ]
    assert resp.data["report"]["duplicates"] == []
    assert resp.data["report"]["files"][:2] == [
        {"file": "cat.png", "kind": "image", "accepted": 1, "duplicates": 0, "rejected": 0},
        {"file": "broken.jpg", "kind": "image", "accepted": 0, "duplicates": 0, "rejected": 1},
    ]
    rows = sorted((i.original_name, i.kind, i.mime_type, i.width, i.height, i.size_bytes, i.content_hash, i.state,
                   i.file.name, i.uploaded_by_id, i.import_job_id, i.source_archive) for i in items.values())
    job = resp.data["id"]
    prefix = f"projects/{project.id}/items"
    assert rows == sorted([
        ("cat.png", "image", "image/png", 8, 6, len(png), sha(png), "unlabelled",
         f"{prefix}/{sha(png)[:2]}/{sha(png)}.png", labeler.id, job, ""),
        ("dog.jpeg", "image", "image/jpeg", 10, 4, len(jpeg), sha(jpeg), "unlabelled",
         f"{prefix}/{sha(jpeg)[:2]}/{sha(jpeg)}.jpg", labeler.id, job, ""),
        ("scan.tif", "image", "image/tiff", 3, 3, len(tiff), sha(tiff), "unlabelled",
         f"{prefix}/{sha(tiff)[:2]}/{sha(tiff)}.tif", labeler.id, job, ""),
        ("icon.bmp", "image", "image/bmp", 5, 2, len(bmp), sha(bmp), "unlabelled",
         f"{prefix}/{sha(bmp)[:2]}/{sha(bmp)}.bmp", labeler.id, job, ""),
        ("photo.webp", "image", "image/webp", 7, 7, len(webp), sha(webp), "unlabelled",
         f"{prefix}/{sha(webp)[:2]}/{sha(webp)}.webp", labeler.id, job, ""),
    ])
    assert stored_files(media_root) == sorted(i.file.name for i in items.values())
    for item in items.values():
        assert (media_root / item.file.name).read_bytes() == {
            "cat.png": png, "dog.jpeg": jpeg, "scan.tif": tiff, "icon.bmp": bmp, "photo.webp": webp}[
            item.original_name]
    assert ImportJob.objects.get(pk=job).is_async is False
    assert AuditEvent.objects.filter(action="import.completed", target_id=str(job),
                                     metadata={"project": project.id, "accepted": 5, "duplicates": 0,
                                               "rejected": 5}).exists()


def test_images_are_recognised_by_content_not_name(client, project, media_root):
    png = image_bytes("PNG")
    resp = upload(client, project, named(png, "holiday.txt"))
    assert resp.status_code == 201
    item = Item.objects.get()
    assert (item.kind, item.mime_type, item.file.name.rsplit(".", 1)[1]) == ("image", "image/png", "png")


def test_a_duplicate_is_reported_and_skipped(client, project, media_root):
    png = image_bytes("PNG")
    first = upload(client, project, named(png, "a.png"))
    [item] = Item.objects.all()
    resp = upload(client, project, named(png, "again.png"), named(png, "twice.png"),
                  named(image_bytes("PNG", color=(0, 0, 0)), "new.png"), named(png, "thrice.png"))
    assert resp.status_code == 201
    new = Item.objects.get(original_name="new.png")
    assert resp.data["report"]["accepted"] == [{"file": "new.png", "archive": "", "line": None, "item": new.id}]
    assert resp.data["report"]["duplicates"] == [
        {"file": "again.png", "archive": "", "line": None, "item": item.id},
        {"file": "twice.png", "archive": "", "line": None, "item": item.id},
        {"file": "thrice.png", "archive": "", "line": None, "item": item.id},
    ]
    assert first.data["accepted"] == 1
    assert Item.objects.count() == 2
    assert len(stored_files(media_root)) == 2


def test_download_returns_the_exact_bytes_with_type_and_name(client, project, media_root):
    jpeg = image_bytes("JPEG", (12, 9))
    upload(client, project, named(jpeg, "holiday photo.jpg"))
    item = Item.objects.get()
    resp = client.get(f"/api/items/{item.id}/download")
    assert resp.status_code == 200
    assert b"".join(resp.streaming_content) == jpeg
    assert resp["Content-Type"] == "image/jpeg"
    assert resp["Content-Length"] == str(len(jpeg))
    assert resp["Content-Disposition"] == 'attachment; filename="holiday photo.jpg"'


def test_a_file_lost_by_storage_is_404(client, project, media_root):
    upload(client, project, named(image_bytes("PNG"), "a.png"))
    item = Item.objects.get()
    (media_root / item.file.name).unlink()
    resp = client.get(f"/api/items/{item.id}/download")
    assert (resp.status_code, resp.data) == (404, {"detail": FILE_MISSING})


def test_a_text_item_downloads_as_text(client, org):
    item = ItemFactory(project=ProjectFactory(organization=org), text="Grüße aus Köln")
    resp = client.get(f"/api/items/{item.id}/download")
    assert resp.status_code == 200
    assert b"".join(resp.streaming_content) == "Grüße aus Köln".encode()
    assert resp["Content-Type"] == "text/plain; charset=utf-8"
    assert resp["Content-Disposition"] == f'attachment; filename="item-{item.id}.txt"'


def test_delete_removes_the_item_and_its_stored_object(client, project, media_root,
                                                         django_capture_on_commit_callbacks):
    upload(client, project, named(image_bytes("PNG"), "a.png"), named(image_bytes("BMP"), "b.bmp"))
    gone, kept = Item.objects.order_by("id")
    assert len(stored_files(media_root)) == 2
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.delete(f"/api/items/{gone.id}")
    assert resp.status_code == 204
    assert list(Item.objects.values_list("id", flat=True)) == [kept.id]
    assert stored_files(media_root) == [kept.file.name]
    assert AuditEvent.objects.filter(action="item.deleted", target_id=str(gone.id)).count() == 1
    assert client.get(f"/api/items/{gone.id}/download").status_code == 404


def test_images_and_texts_only_go_to_projects_of_their_kind(client, org, project, media_root):
    text_project = ProjectFactory(organization=org)
    resp = upload(client, text_project, named(image_bytes("PNG"), "a.png"))
    assert resp.data["report"]["rejected"] == [
        {"file": "a.png", "archive": "", "line": None, "reason": messages.IMAGE_IN_TEXT_PROJECT}]
    resp = upload(client, project, named(b"hello\n", "notes.txt"))
    assert resp.data["report"]["rejected"] == [
        {"file": "notes.txt", "archive": "", "line": None, "reason": messages.TEXT_IN_IMAGE_PROJECT}]
    assert not Item.objects.exists()
    assert stored_files(media_root) == []


def test_limits_are_settings(client, project, media_root, settings):
    settings.UPLOAD_MAX_FILE_BYTES = 100
    settings.UPLOAD_MAX_IMAGE_PIXELS = 50
    resp = upload(client, project, named(image_bytes("BMP", (20, 20)), "big.bmp"),
                  named(image_bytes("PNG", (10, 10)), "many-pixels.png"))
    assert resp.data["report"]["rejected"] == [
        {"file": "big.bmp", "archive": "", "line": None, "reason": messages.FILE_TOO_LARGE.format(limit=100)},
        {"file": "many-pixels.png", "archive": "", "line": None,
         "reason": messages.IMAGE_TOO_MANY_PIXELS.format(pixels=100, limit=50)},
    ]


def test_no_files_archived_project_and_unknown_project(client, org, project, settings):
    resp = client.post("/api/upload", {"project": project.id}, format="multipart")
    assert (resp.status_code, resp.data) == (400, {"files": [messages.NO_FILES]})
    project.status = "archived"
    project.save()
    resp = upload(client, project, named(image_bytes(), "a.png"))
    assert (resp.status_code, resp.data) == (400, {"project": [messages.PROJECT_ARCHIVED]})
    resp = client.post("/api/upload", {"project": 999999, "files": [named(b"x", "a.txt")]}, format="multipart")
    assert resp.status_code == 404
    settings.UPLOAD_MAX_REQUEST_BYTES = 10
    resp = upload(client, ProjectFactory(organization=org), named(b"hello", "a.txt"))
    assert (resp.status_code, resp.data) == (413, {"detail": messages.REQUEST_TOO_LARGE.format(limit=10)})
