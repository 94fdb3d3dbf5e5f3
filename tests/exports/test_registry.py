"""The format registry: which formats suit which projects and why not, and the one entry point."""

from __future__ import annotations

import io
import zipfile

import pytest

from exports.formats import (
    FORMATS,
    ExportRecord,
    ExportSpec,
    InvalidExportRecord,
    InvalidExportSpec,
    UnknownExportFormat,
    UnsuitableExportFormat,
    available_formats,
    format_named,
    formats_for,
    suitability,
    write_export,
)

ALL = ["csv", "json", "jsonl", "coco", "yolo", "pascal-voc", "tfrecord", "pytorch", "huggingface", "label-studio"]


def test_the_registry_lists_every_format():
    assert available_formats() == ALL
    assert all(FORMATS[name].description and FORMATS[name].extension.startswith(".") for name in ALL)


def test_an_unknown_format_is_refused_with_the_list_of_formats():
    with pytest.raises(UnknownExportFormat) as refused:
        format_named("xlsx")

    assert str(refused.value) == (
        "Unknown export format 'xlsx'. Available formats: csv, json, jsonl, coco, yolo, pascal-voc, tfrecord, "
        "pytorch, huggingface, label-studio.")
    with pytest.raises(UnknownExportFormat):
        suitability("xlsx", "image_classification", False)


@pytest.mark.parametrize(("name", "project_type", "multi_label", "has_boxes", "expected"), [
    ("coco", "text_classification", False, False, (False, "COCO holds images; this is a text project.")),
    ("pascal-voc", "text_classification", True, False, (False, "Pascal VOC holds images; this is a text project.")),
    ("yolo", "image_classification", True, False, (False,
        "YOLO classification puts each image in exactly one class folder; this project is multi-label. "
        "Use COCO, Pascal VOC or Hugging Face instead.")),
    ("yolo", "image_classification", True, True, (True, "")),
    ("pytorch", "image_classification", True, True, (False,
        "PyTorch's ImageFolder puts each image in exactly one class folder; this project is multi-label. "
        "Use COCO, Pascal VOC or Hugging Face instead.")),
    ("pytorch", "text_classification", True, False, (True, "")),
    ("coco", "image_classification", True, False, (True, "")),
    ("huggingface", "text_classification", True, False, (True, "")),
    ("tfrecord", "image_classification", True, False, (True, "")),
])
def test_suitability_says_why_a_format_does_not_fit(name, project_type, multi_label, has_boxes, expected):
    assert suitability(name, project_type, multi_label, has_boxes=has_boxes) == expected


def test_formats_for_a_text_project():
    listed = {fmt.name: ok for fmt, ok, _ in formats_for("text_classification", multi_label=False)}

    assert [name for name, ok in listed.items() if ok] == [
        "csv", "json", "jsonl", "tfrecord", "pytorch", "huggingface", "label-studio"]


def test_label_modes_per_project_type():
    assert FORMATS["yolo"].label_modes("image_classification") == {"single"}
    assert FORMATS["yolo"].label_modes("image_classification", has_boxes=True) == {"single", "multi"}
    assert FORMATS["pytorch"].label_modes("text_classification") == {"single", "multi"}


def test_an_unknown_project_type_is_refused():
    with pytest.raises(InvalidExportSpec) as refused:
        ExportSpec(project_name="x", project_type="audio", class_names=["a"])

    assert str(refused.value) == "Unknown project type 'audio'. Project types: image_classification, text_classification."


@pytest.mark.parametrize(("class_names", "message"), [
    ([], "A project needs at least one class to export."),
    (["a", "a"], "The class 'a' appears twice in the project's schema."),
    (["a", " "], "A class name cannot be empty."),
])
def test_a_bad_schema_is_refused(class_names, message):
    with pytest.raises(InvalidExportSpec) as refused:
        ExportSpec(project_name="x", project_type="text_classification", class_names=class_names)

    assert str(refused.value) == message


def _write(spec, records, format_name="jsonl"):
    with zipfile.ZipFile(io.BytesIO(), "w") as zf:
        return write_export(format_name, zf, spec, records)


def test_an_unsuitable_format_is_refused_before_writing(text_project):
    with pytest.raises(UnsuitableExportFormat) as refused:
        _write(text_project.spec, iter(()), "coco")

    assert str(refused.value) == "COCO holds images; this is a text project."


@pytest.mark.parametrize(("record", "message"), [
    (ExportRecord(item_id=7, text="hi", labels=["spam"]),
     "Item 7 has the label 'spam', which is not a class of this project."),
    (ExportRecord(item_id=7, text="hi", predicted_labels=["spam"]),
     "Item 7 has the label 'spam', which is not a class of this project."),
    (ExportRecord(item_id=8, text="hi", split="validation"),
     "Item 8 is in split 'validation'; the splits are train, val, test."),
    (ExportRecord(item_id=9), "Item 9 has no text to export."),
])
def test_a_record_that_cannot_be_placed_is_refused_with_its_item(text_project, record, message):
    with pytest.raises(InvalidExportRecord) as refused:
        _write(text_project.spec, iter([record]))

    assert str(refused.value) == message


def test_an_image_record_without_bytes_is_refused(image_project):
    with pytest.raises(InvalidExportRecord) as refused:
        _write(image_project.spec, iter([ExportRecord(item_id=3, file_name="a.jpg", labels=["cat"])]))

    assert str(refused.value) == "Item 3 has no image to export."


def test_an_unreadable_image_is_refused_where_it_must_be_decoded(image_project):
    record = ExportRecord(item_id=4, file_name="a.jpg", labels=["cat"], open_bytes=lambda: io.BytesIO(b"not an image"))

    with pytest.raises(InvalidExportRecord) as refused:
        _write(image_project.spec, iter([record]), "pascal-voc")

    assert str(refused.value).startswith("Item 4: the image could not be read (")


def test_progress_is_reported_every_thousand_items_and_at_the_end(text_project):
    spec = text_project.spec
    records = (ExportRecord(item_id=n, text=f"t{n}", labels=["positive"]) for n in range(2500))
    seen: list[int] = []

    with zipfile.ZipFile(io.BytesIO(), "w") as zf:
        summary = write_export("csv", zf, spec, records, progress=seen.append)

    assert seen == [1000, 2000, 2500]
    assert summary.items_written == 2500


@pytest.mark.parametrize("format_name", ALL)
def test_a_project_without_items_still_exports(export, image_project, text_project, format_name):
    project = text_project if suitability(format_name, "text_classification", False)[0] else image_project
    project.items = []

    written = export(format_name, project)

    assert (written.summary.items_read, written.summary.items_written) == (0, 0)
    assert written.progress == [0]
