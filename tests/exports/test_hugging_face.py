"""Hugging Face: datasets.load_from_disk, and the Parquet files with pyarrow and pandas."""

from __future__ import annotations

import json

import datasets
import pandas as pd
import pyarrow.parquet as pq

SPLITS = {"train": "train", "validation": "val", "test": "test"}


def test_hugging_face_images_load_from_disk_with_classlabel_and_image_features(export, image_project):
    written = export("huggingface", image_project)

    saved = datasets.load_from_disk(str(written.root / "dataset"))

    assert sorted(saved) == ["test", "train", "validation"]
    features = saved["train"].features
    assert isinstance(features["label"], datasets.ClassLabel)
    assert features["label"].names == ["cat", "dog", "bird"]
    assert isinstance(features["image"], datasets.Image)
    found = {}
    for name, split in SPLITS.items():
        rows = saved[name]
        assert sorted(rows["id"]) == sorted(item.item_id for item in image_project.in_split(split))
        for row in rows:
            item = image_project.item(row["id"])
            found[row["id"]] = () if row["label"] == -1 else (features["label"].int2str(row["label"]),)
            assert row["image"].size == item.size
            assert row["file_name"] == item.file_name
    assert found == image_project.expected
    first = saved["train"][0]
    assert (first["predicted_labels"], round(first["confidence"], 2), first["model"], first["reviewer"],
            first["state"]) == ([0], 0.93, "efficientnet-lite0", "rita@example.com", "reviewed")


def test_hugging_face_multi_label_text_uses_a_list_of_classlabel(export, text_multi_project):
    written = export("huggingface", text_multi_project)

    saved = datasets.load_from_disk(str(written.root / "dataset"))

    labels = saved["train"].features["labels"]
    assert isinstance(labels, datasets.List) and labels.feature.names == ["sports", "politics", "tech"]
    found = {row["id"]: tuple(labels.feature.int2str(i) for i in row["labels"])
             for name in saved for row in saved[name]}
    assert found == text_multi_project.expected
    texts = {row["id"]: row["text"] for name in saved for row in saved[name]}
    assert texts == {item.item_id: item.text for item in text_multi_project.items}


def test_hugging_face_parquet_files_hold_the_same_rows(export, text_project):
    written = export("huggingface", text_project)

    paths = sorted((written.root / "data").glob("*.parquet"))

    assert [p.name for p in paths] == ["test-00000-of-00001.parquet", "train-00000-of-00001.parquet",
                                       "validation-00000-of-00001.parquet"]
    names = text_project.spec.class_names
    found = {}
    for path in paths:
        table = pq.read_table(path)
        hf_features = json.loads(table.schema.metadata[b"huggingface"])["info"]["features"]
        assert hf_features["label"] == {"names": list(names), "_type": "ClassLabel"}
        frame = pd.read_parquet(path)
        split = {"validation": "val"}.get(path.name.split("-")[0], path.name.split("-")[0])
        assert sorted(frame["id"]) == [item.item_id for item in text_project.in_split(split)]
        for row in frame.itertuples():
            found[row.id] = () if row.label == -1 else (names[row.label],)
    assert found == text_project.expected


def test_hugging_face_parquet_loads_as_a_dataset_with_the_same_features(export, image_multi_project):
    written = export("huggingface", image_multi_project)

    from_parquet = datasets.Dataset.from_parquet(
        str(written.root / "data" / "train-00000-of-00001.parquet"),
        cache_dir=str(written.root.parent / "hf-cache"))

    assert isinstance(from_parquet.features["labels"].feature, datasets.ClassLabel)
    assert isinstance(from_parquet.features["image"], datasets.Image)
    names = from_parquet.features["labels"].feature.names
    assert {row["id"]: tuple(names[i] for i in row["labels"]) for row in from_parquet} == {
        item.item_id: item.labels for item in image_multi_project.in_split("train")}


def test_hugging_face_of_a_project_with_boxes_has_objects(export, box_project):
    written = export("huggingface", box_project)

    saved = datasets.load_from_disk(str(written.root / "dataset"))

    street = next(row for row in saved["train"] if row["id"] == 31)
    assert street["objects"] == {"bbox": [[10.0, 5.0, 40.0, 20.0], [60.0, 10.0, 20.0, 40.0]], "category": [0, 1]}
