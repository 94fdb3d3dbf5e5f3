"""Small real projects to export (real JPEG/PNG/GIF bytes from Pillow), and a helper that writes one
into a ZIP and extracts it, checking on the way that every member path stays inside the archive."""

from __future__ import annotations

import io
import types
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from exports.formats import Box, ExportRecord, ExportSpec, ExportSummary, write_export

CREATED_AT = datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)


def image_bytes(kind: str, width: int, height: int, color=(200, 30, 30)) -> bytes:
    mode = "RGBA" if kind == "PNG" else "RGB"
    image = Image.new(mode, (width, height), color + ((128,) if mode == "RGBA" else ()))
    out = io.BytesIO()
    image.save(out, kind)
    return out.getvalue()


@dataclass
class Item:
    item_id: int
    labels: tuple[str, ...]
    split: str
    file_name: str = ""
    text: str | None = None
    data: bytes | None = None
    mime_type: str = ""
    size: tuple[int, int] | None = None  # the real size; the record may leave it out
    give_size: bool = True
    predicted: tuple[str, ...] = ()
    confidence: float | None = None
    model_name: str = ""
    reviewer: str | None = None
    state: str = "reviewed"
    boxes: tuple[Box, ...] = ()


@dataclass
class Project:
    spec: ExportSpec
    items: list[Item] = field(default_factory=list)

    def records(self) -> Iterator[ExportRecord]:
        """The items as a generator of records: writers must not need a list."""
        for item in self.items:
            yield ExportRecord(
                item_id=item.item_id,
                file_name=item.file_name,
                split=item.split,
                text=item.text,
                open_bytes=(lambda data=item.data: io.BytesIO(data)) if item.data is not None else None,
                mime_type=item.mime_type,
                width=item.size[0] if item.size and item.give_size else None,
                height=item.size[1] if item.size and item.give_size else None,
                labels=list(item.labels),
                predicted_labels=list(item.predicted),
                confidence=item.confidence,
                model_name=item.model_name,
                reviewer=item.reviewer,
                state=item.state,
                boxes=list(item.boxes),
            )

    @property
    def expected(self) -> dict[int, tuple[str, ...]]:
        return {item.item_id: item.labels for item in self.items}

    def in_split(self, split: str) -> list[Item]:
        return [item for item in self.items if item.split == split]

    def item(self, item_id: int) -> Item:
        return next(item for item in self.items if item.item_id == item_id)


def _image_item(item_id, labels, split, file_name, kind, size, **fields) -> Item:
    color = (item_id * 37 % 256, item_id * 91 % 256, item_id * 13 % 256)
    mime = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif"}[kind]
    fields.setdefault("mime_type", mime)
    return Item(item_id, tuple(labels), split, file_name=file_name, data=image_bytes(kind, *size, color=color),
                size=size, **fields)


def make_image_project() -> Project:
    spec = ExportSpec(
        project_name="Pets", project_type="image_classification", class_names=["cat", "dog", "bird"],
        category_parents={"cat": "mammal", "dog": "mammal", "bird": None}, export_id="exp-1",
        created_at=CREATED_AT,
    )
    return Project(spec, [
        _image_item(11, ["cat"], "train", "cat.jpg", "JPEG", (32, 24), predicted=("cat",), confidence=0.93,
                    model_name="efficientnet-lite0", reviewer="rita@example.com"),
        _image_item(12, ["dog"], "train", "cat.jpg", "PNG", (20, 20), predicted=("cat",), confidence=0.41,
                    model_name="efficientnet-lite0", reviewer="rita@example.com", give_size=False),
        _image_item(13, ["bird"], "train", "../../etc/passwd.jpg", "JPEG", (16, 40), state="auto_accepted",
                    predicted=("bird",), confidence=0.99, model_name="efficientnet-lite0"),
        _image_item(14, ["cat"], "val", "photo ñ 1.png", "PNG", (30, 18)),
        # The bytes are JPEG whatever the name and mime type say.
        _image_item(15, ["dog"], "val", "scan.png", "JPEG", (25, 25), mime_type="image/png", give_size=False),
        _image_item(16, ["bird"], "test", "anim.gif", "GIF", (12, 12)),
        _image_item(17, [], "test", "unlabelled.jpg", "JPEG", (10, 10), state="pending"),
        _image_item(18, ["cat"], "test", "C:\\Users\\x\\kitten.jpeg", "JPEG", (14, 22)),
    ])


def make_image_multi_project() -> Project:
    spec = ExportSpec(
        project_name="Street scenes", project_type="image_classification",
        class_names=["outdoor", "people", "vehicle"], multi_label=True, created_at=CREATED_AT,
    )
    return Project(spec, [
        _image_item(21, ["outdoor", "people"], "train", "a.jpg", "JPEG", (40, 30), predicted=("outdoor",),
                    confidence=0.7, model_name="m"),
        _image_item(22, ["outdoor", "people", "vehicle"], "train", "b.png", "PNG", (24, 24)),
        _image_item(23, ["vehicle"], "val", "c.jpg", "JPEG", (18, 30), give_size=False),
        _image_item(24, [], "val", "d.jpg", "JPEG", (20, 20)),
        _image_item(25, ["people"], "test", "e.jpg", "JPEG", (20, 16)),
    ])


def make_box_project() -> Project:
    spec = ExportSpec(
        project_name="Traffic", project_type="image_classification", class_names=["car", "person"],
        multi_label=True, has_boxes=True, created_at=CREATED_AT,
    )
    return Project(spec, [
        _image_item(31, ["car", "person"], "train", "street.jpg", "JPEG", (100, 50),
                    boxes=(Box("car", 10, 5, 40, 20), Box("person", 60, 10, 20, 40))),
        _image_item(32, ["car"], "val", "road.png", "PNG", (80, 80), give_size=False,
                    boxes=(Box("car", 0, 0, 80, 40),)),
        _image_item(33, [], "train", "empty.jpg", "JPEG", (30, 30)),
    ])


def make_text_project() -> Project:
    spec = ExportSpec(
        project_name="Reviews", project_type="text_classification",
        class_names=["positive", "negative", "neutral"], created_at=CREATED_AT,
    )
    texts = [
        ("Great product, would buy again!", ["positive"], "train"),
        ('He said "never again", twice.', ["negative"], "train"),
        ("Line one\nline two, with a comma", ["neutral"], "train"),
        ("Ünïcödé ✓ 日本語のテキスト", ["positive"], "val"),
        ("=SUM(A1:A2) looks like a formula | and a pipe", ["negative"], "val"),
        ("Not reviewed yet", [], "test"),
        ("", ["neutral"], "test"),
    ]
    return Project(spec, [
        Item(40 + n, tuple(labels), split, text=text, predicted=tuple(labels), confidence=0.5 + n / 100,
             model_name="minilm", reviewer="ann@example.com" if n % 2 else None)
        for n, (text, labels, split) in enumerate(texts)
    ])


def make_text_multi_project() -> Project:
    spec = ExportSpec(
        project_name="News", project_type="text_classification",
        class_names=["sports", "politics", "tech"], multi_label=True, created_at=CREATED_AT,
    )
    texts = [
        ("The minister opened the new stadium", ["sports", "politics"], "train"),
        ("New phone released", ["tech"], "train"),
        ("Weather is mild", [], "val"),
        ("E-sports league bans AI bots after parliament vote", ["sports", "politics", "tech"], "test"),
    ]
    return Project(spec, [
        Item(50 + n, tuple(labels), split, text=text, predicted=tuple(labels[:1]), confidence=0.8)
        for n, (text, labels, split) in enumerate(texts)
    ])


@pytest.fixture
def image_project() -> Project:
    return make_image_project()


@pytest.fixture
def image_multi_project() -> Project:
    return make_image_multi_project()


@pytest.fixture
def box_project() -> Project:
    return make_box_project()


@pytest.fixture
def text_project() -> Project:
    return make_text_project()


@pytest.fixture
def text_multi_project() -> Project:
    return make_text_multi_project()


@dataclass
class Written:
    root: Path
    names: list[str]
    summary: ExportSummary
    progress: list[int]


def assert_safe_member(name: str) -> None:
    assert not name.startswith("/") and "\\" not in name, name
    assert all(part not in ("", ".", "..") for part in name.rstrip("/").split("/")), name


@pytest.fixture
def export(tmp_path):
    """``export(format_name, project, **options)``: write the project from a generator into a ZIP,
    check every member name is safe, and extract it to a fresh folder."""
    counter = iter(range(1000))

    def write(format_name: str, project: Project, **options) -> Written:
        n = next(counter)
        zip_path = tmp_path / f"export-{n}.zip"
        progress: list[int] = []
        records = project.records()
        assert isinstance(records, types.GeneratorType)
        with zipfile.ZipFile(zip_path, "w") as zf:
            summary = write_export(format_name, zf, project.spec, records, progress=progress.append, **options)
        root = tmp_path / f"extracted-{n}"
        with zipfile.ZipFile(zip_path) as zf:
            assert zf.testzip() is None
            names = zf.namelist()
            for name in names:
                assert_safe_member(name)
            assert len(names) == len(set(names))
            zf.extractall(root)
        return Written(root, names, summary, progress)

    return write
