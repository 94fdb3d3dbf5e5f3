"""ZIP archives: checked before extraction (400, nothing written) and imported entry by entry."""

import zipfile

import pytest

from labeling.items.imports import ENTRY_DAMAGED
from labeling.models import HumanLabel, ImportJob, Item
from labeling.uploads import messages
from projects.schemas import LABELS_UNKNOWN
from tests.conftest import stored_files
from tests.factories import LabelSchemaFactory, ProjectFactory, image_bytes, named, zip_bytes
from tests.labeling.conftest import upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(org):
    project = ProjectFactory(organization=org, project_type="image_classification")
    LabelSchemaFactory(project=project, categories=["cat", "dog"])
    return project


def assert_nothing_written(media_root):
    assert not Item.objects.exists()
    assert not ImportJob.objects.exists()
    assert stored_files(media_root) == []


@pytest.mark.parametrize("entries, symlinks, message", [
    ({"ok.png": image_bytes(), "../evil.png": image_bytes("BMP")}, None,
     messages.ZIP_UNSAFE_PATH.format(archive="batch.zip", entry="../evil.png")),
    ({"ok.png": image_bytes(), "images/../../evil.png": image_bytes("BMP")}, None,
     messages.ZIP_UNSAFE_PATH.format(archive="batch.zip", entry="images/../../evil.png")),
    ({"/etc/evil.png": image_bytes()}, None,
     messages.ZIP_UNSAFE_PATH.format(archive="batch.zip", entry="/etc/evil.png")),
    ({"C:/evil.png": image_bytes()}, None, messages.ZIP_UNSAFE_PATH.format(archive="batch.zip", entry="C:/evil.png")),
    ({"ok.png": image_bytes()}, {"link.png": "/etc/passwd"},
     messages.ZIP_LINK.format(archive="batch.zip", entry="link.png")),
])
def test_an_unsafe_zip_is_400_and_writes_nothing(entries, symlinks, message, client, project, media_root):
    valid_alongside = named(image_bytes("JPEG"), "valid.jpg")
    resp = upload(client, project, valid_alongside, named(zip_bytes(entries, symlinks=symlinks), "batch.zip"))
    assert (resp.status_code, resp.data) == (400, {"files": [message]})
    assert_nothing_written(media_root)
    assert not (media_root.parent / "evil.png").exists()


def test_a_zip_bomb_is_400(client, project, media_root):
    archive = zip_bytes({"a.png": image_bytes(), "bomb.txt": b"\0" * (20 * 1024 * 1024)})
    info = zipfile.ZipFile(named(archive, "x")).getinfo("bomb.txt")
    ratio = info.file_size / info.compress_size
    assert ratio > 100
    resp = upload(client, project, named(archive, "bomb.zip"))
    assert (resp.status_code, resp.data) == (400, {"files": [
        messages.ZIP_RATIO.format(archive="bomb.zip", entry="bomb.txt", ratio=ratio, limit="100")]})
    assert_nothing_written(media_root)


def test_zip_entry_count_size_and_whole_archive_ratio_are_settings(client, project, media_root, settings):
    archive = zip_bytes({f"{i}.png": image_bytes(color=(i, i, i)) for i in range(4)})
    settings.UPLOAD_MAX_ZIP_ENTRIES = 3
    resp = upload(client, project, named(archive, "many.zip"))
    assert resp.data == {"files": [messages.ZIP_TOO_MANY_ENTRIES.format(archive="many.zip", count=4, limit=3)]}
    settings.UPLOAD_MAX_ZIP_ENTRIES = 100
    settings.UPLOAD_MAX_ZIP_TOTAL_BYTES = 100
    total = sum(i.file_size for i in zipfile.ZipFile(named(archive, "x")).infolist())
    resp = upload(client, project, named(archive, "many.zip"))
    assert resp.data == {"files": [messages.ZIP_TOO_LARGE.format(archive="many.zip", size=total, limit=100)]}
    settings.UPLOAD_MAX_ZIP_TOTAL_BYTES = 10**9
    settings.UPLOAD_ZIP_RATIO_MIN_BYTES = 10_000  # each entry is below this
    lots = zip_bytes({f"{i}.txt": b"a" * 5000 for i in range(20)})
    resp = upload(client, project, named(lots, "small-but-many.zip"))
    assert resp.status_code == 400
    assert resp.data["files"][0].startswith("small-but-many.zip: the archive expands ")
    assert_nothing_written(media_root)


def test_a_file_that_is_not_a_zip_but_looks_like_one_is_400(client, project, media_root):
    resp = upload(client, project, named(image_bytes(), "ok.png"), named(b"PK\x03\x04garbage", "broken.zip"))
    assert (resp.status_code, resp.data) == (400, {"files": [messages.ZIP_UNREADABLE.format(archive="broken.zip")]})
    assert_nothing_written(media_root)


def test_a_mixed_zip_with_a_labels_csv(client, project, labeler, media_root):
    cat, dog, bird = image_bytes(color=(1, 1, 1)), image_bytes("JPEG", color=(2, 2, 2)), image_bytes("BMP")
    archive = zip_bytes({
        "photos/cat.png": cat,
        "photos/dog.jpg": dog,
        "photos/bird.bmp": bird,
        "photos/broken.png": b"\x89PNG\r\n\x1a\nbroken",
        "photos/copy-of-cat.png": cat,
        "labels.csv": (b"file,label\nphotos/cat.png,cat\ndog.jpg,Dog\nbird.bmp,parrot\nmissing.png,cat\n"
                       b"cat.png,dog\n"),
        "readme.md": b"# about these photos",
        "inner.zip": zip_bytes({"x.png": image_bytes()}),
        "__MACOSX/photos/._cat.png": b"resource fork",
        "photos/.DS_Store": b"junk",
        "photos/": b"",
    })
    resp = upload(client, project, named(archive, "batch.zip"))
    assert resp.status_code == 201, resp.data
    items = {i.original_name: i for i in Item.objects.all()}
    assert sorted(items) == ["photos/bird.bmp", "photos/cat.png", "photos/dog.jpg"]
    z = "batch.zip"
    assert resp.data["report"]["accepted"] == [
        {"file": f"photos/{n}", "archive": z, "line": None, "item": items[f"photos/{n}"].id}
        for n in ("cat.png", "dog.jpg", "bird.bmp")]
    assert resp.data["report"]["duplicates"] == [
        {"file": "photos/copy-of-cat.png", "archive": z, "line": None, "item": items["photos/cat.png"].id}]
    assert resp.data["report"]["rejected"] == [
        {"file": "labels.csv", "archive": z, "line": 4, "reason": LABELS_UNKNOWN.format(version=1, labels="'parrot'")},
        {"file": "labels.csv", "archive": z, "line": 6, "reason": messages.FILE_REF_REPEATED.format(ref="cat.png")},
        {"file": "photos/broken.png", "archive": z, "line": None, "reason": messages.IMAGE_CORRUPT},
        {"file": "readme.md", "archive": z, "line": None, "reason": messages.UNSUPPORTED_TYPE},
        {"file": "inner.zip", "archive": z, "line": None, "reason": messages.NESTED_ARCHIVE},
        {"file": "labels.csv", "archive": z, "line": 5, "reason": messages.FILE_REF_NOT_FOUND.format(
            ref="missing.png")},
    ]
    assert resp.data["report"]["files"] == [
        {"file": "batch.zip", "kind": "zip", "accepted": 3, "duplicates": 1, "rejected": 6}]
    schema = project.schemas.get()
    assert sorted((i.original_name, i.source_archive, i.state, i.final_labels, i.final_source, i.final_schema_id,
                   i.decided_by_id) for i in items.values()) == [
        ("photos/bird.bmp", z, "unlabelled", None, "", None, None),
        ("photos/cat.png", z, "reviewed", ["cat"], "import", schema.id, labeler.id),
        ("photos/dog.jpg", z, "reviewed", ["dog"], "import", schema.id, labeler.id),
    ]
    assert sorted(HumanLabel.objects.values_list("item__original_name", "labels", "schema_id", "source",
                                                 "created_by_id")) == [
        ("photos/cat.png", ["cat"], schema.id, "import", labeler.id),
        ("photos/dog.jpg", ["dog"], schema.id, "import", labeler.id),
    ]
    assert items["photos/cat.png"].metadata == {"labels_from": {"file": "labels.csv", "line": 2}}
    assert stored_files(media_root) == sorted(i.file.name for i in items.values())


def test_a_damaged_entry_is_rejected_alone(client, project, media_root):
    good = image_bytes(color=(9, 9, 9))
    archive = bytearray(zip_bytes({"good.png": good, "bad.png": image_bytes("BMP", (30, 30))},
                                  compression=zipfile.ZIP_STORED))
    info = zipfile.ZipFile(named(bytes(archive), "x")).getinfo("bad.png")
    data_start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    archive[data_start + 60] ^= 0xFF  # the stored BMP's bytes no longer match the entry's CRC
    resp = upload(client, project, named(bytes(archive), "a.zip"))
    assert resp.status_code == 201, resp.data
    assert [r["file"] for r in resp.data["report"]["accepted"]] == ["good.png"]
    assert resp.data["report"]["rejected"] == [{"file": "bad.png", "archive": "a.zip", "line": None,
                                                "reason": ENTRY_DAMAGED}]


def test_a_text_project_takes_a_zip_of_text_files(client, org, media_root):
    project = ProjectFactory(organization=org)
    LabelSchemaFactory(project=project)
    archive = zip_bytes({
        "a.txt": b"first line\n\nsecond line\n",
        "data/reviews.csv": b"text,label\nLoved it,positive\nHated it,negative\n",
        "more.jsonl": b'{"text": "Fine", "labels": ["neutral"]}\n"just a string"\n',
        "photo.png": image_bytes(),
    })
    resp = upload(client, project, named(archive, "texts.zip"))
    assert resp.status_code == 201, resp.data
    rows = list(Item.objects.order_by("id").values_list("text", "original_name", "source_archive", "final_labels",
                                                         "metadata"))
    assert rows == [
        ("first line", "a.txt", "texts.zip", None, {"line": 1}),
        ("second line", "a.txt", "texts.zip", None, {"line": 3}),
        ("Loved it", "data/reviews.csv", "texts.zip", ["positive"], {"line": 2}),
        ("Hated it", "data/reviews.csv", "texts.zip", ["negative"], {"line": 3}),
        ("Fine", "more.jsonl", "texts.zip", ["neutral"], {"line": 1}),
        ("just a string", "more.jsonl", "texts.zip", None, {"line": 2}),
    ]
    assert resp.data["report"]["rejected"] == [
        {"file": "photo.png", "archive": "texts.zip", "line": None, "reason": messages.IMAGE_IN_TEXT_PROJECT}]
    assert stored_files(media_root) == []
