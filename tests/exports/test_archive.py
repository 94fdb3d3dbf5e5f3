"""Member names: uploaded file names and class names never become unsafe paths in the ZIP."""

from __future__ import annotations

import zipfile

import pytest

from exports.formats import ExportRecord
from exports.formats.archive import class_folder_names, item_stem, member_path, safe_file_name


@pytest.mark.parametrize(("name", "safe"), [
    ("../../etc/passwd.jpg", "passwd.jpg"),
    ("C:\\Windows\\system32\\evil.png", "evil.png"),
    ("/absolute/path.jpeg", "path.jpeg"),
    ("..", "item"),
    ("", "item"),
    ("photo ñ 1.png", "photo_n_1.png"),
    ("猫.jpg", "item.jpg"),
    (".hidden", "hidden"),
    ("a\x00b.jpg", "a_b.jpg"),
    ("x" * 300 + ".jpg", "x" * 100 + ".jpg"),
])
def test_safe_file_name(name, safe):
    assert safe_file_name(name) == safe


def test_item_stems_are_unique_even_when_names_repeat():
    stems = {item_stem(ExportRecord(item_id=n, file_name="cat.jpg")) for n in (1, 2)}

    assert stems == {"1_cat", "2_cat"}


def test_class_folders_are_safe_and_unique():
    assert class_folder_names(["cat/dog", "..", "Cat", "cat", "a\\b", "ok"]) == {
        "cat/dog": "cat_dog", "..": "_", "Cat": "Cat", "cat": "cat_2", "a\\b": "a_b", "ok": "ok"}


def test_member_path_refuses_escaping_parts():
    assert member_path("images", "train", "1_a.jpg") == "images/train/1_a.jpg"
    for parts in (("images", ".."), ("/etc",), ("a\\b",), ("images", "")):
        with pytest.raises(ValueError):
            member_path(*parts)


def test_an_unsafe_upload_name_lands_inside_the_export(export, image_project):
    for format_name, member in [("csv", "images/13_passwd.jpg"), ("coco", "images/train/13_passwd.jpg"),
                                ("yolo", "train/bird/13_passwd.jpg"),
                                ("pascal-voc", "VOCdevkit/VOC2007/JPEGImages/13_passwd.jpg"),
                                ("label-studio", "images/13_passwd.jpg")]:
        written = export(format_name, image_project)
        assert member in written.names
        assert not any("etc" in name or "Users" in name for name in written.names)
        assert (written.root / member).resolve().is_relative_to(written.root.resolve())


def test_images_are_stored_and_text_deflated_with_the_export_time(export, image_project):
    written = export("csv", image_project)

    with zipfile.ZipFile(written.root.parent / "export-0.zip") as zf:
        infos = {info.filename: info for info in zf.infolist()}

    assert infos["labels.csv"].compress_type == zipfile.ZIP_DEFLATED
    assert infos["images/11_cat.jpg"].compress_type == zipfile.ZIP_STORED
    assert infos["images/12_cat.png"].compress_type == zipfile.ZIP_STORED
    assert {info.date_time for info in infos.values()} == {(2026, 3, 14, 15, 9, 26)}
    # The bytes are copied as they are, not re-encoded.
    assert (written.root / "images" / "11_cat.jpg").read_bytes() == image_project.item(11).data
    # JPEG bytes uploaded as "scan.png" keep their real extension.
    assert (written.root / "images" / "15_scan.jpg").read_bytes() == image_project.item(15).data
