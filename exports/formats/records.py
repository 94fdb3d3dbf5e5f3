"""What the format writers read: a project description (``ExportSpec``) and one ``ExportRecord`` per item.

Both are plain data, independent of Django: the export job builds them from the database and hands
the writers an iterator of records, so an export never holds all items in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, BinaryIO, NamedTuple

from exports.formats.errors import (
    DUPLICATE_CLASS_MESSAGE,
    EMPTY_CLASS_MESSAGE,
    MISSING_IMAGE_MESSAGE,
    MISSING_TEXT_MESSAGE,
    NO_CLASSES_MESSAGE,
    UNKNOWN_LABEL_MESSAGE,
    UNKNOWN_PROJECT_TYPE_MESSAGE,
    UNKNOWN_SPLIT_MESSAGE,
    InvalidExportRecord,
    InvalidExportSpec,
)

IMAGE_CLASSIFICATION = "image_classification"
TEXT_CLASSIFICATION = "text_classification"
PROJECT_TYPES = (IMAGE_CLASSIFICATION, TEXT_CLASSIFICATION)

SPLITS = ("train", "val", "test")

SINGLE_LABEL = "single"
MULTI_LABEL = "multi"


class Box(NamedTuple):
    """A bounding box in pixels: top-left corner, width and height."""

    label: str
    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class ExportSpec:
    """The project being exported: its type, its classes in schema order, and the export's identity.

    ``category_parents`` maps a class name to its parent in the schema hierarchy (or None for a
    root); COCO writes the parent as the category's supercategory. ``has_boxes`` says the items
    carry bounding boxes: YOLO then writes its detection layout instead of class folders.
    ``splits`` are the splits the export asked for (a ratio above 0): layouts with a folder per
    split write each of them, even one that happens to receive no item.
    """

    project_name: str
    project_type: str
    class_names: Sequence[str]
    multi_label: bool = False
    category_parents: Mapping[str, str | None] = field(default_factory=dict)
    export_id: str = ""
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    has_boxes: bool = False
    columns: tuple[tuple[str, str], ...] = ()
    splits: Sequence[str] = ()
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.project_type not in PROJECT_TYPES:
            raise InvalidExportSpec(UNKNOWN_PROJECT_TYPE_MESSAGE.format(
                project_type=self.project_type, known=", ".join(PROJECT_TYPES)))
        names = tuple(self.class_names)
        if not names:
            raise InvalidExportSpec(NO_CLASSES_MESSAGE)
        index: dict[str, int] = {}
        for position, name in enumerate(names):
            if not name or not name.strip():
                raise InvalidExportSpec(EMPTY_CLASS_MESSAGE)
            if name in index:
                raise InvalidExportSpec(DUPLICATE_CLASS_MESSAGE.format(name=name))
            index[name] = position
        object.__setattr__(self, "class_names", names)
        object.__setattr__(self, "_index", index)

    @property
    def is_image(self) -> bool:
        return self.project_type == IMAGE_CLASSIFICATION

    @property
    def label_mode(self) -> str:
        return MULTI_LABEL if self.multi_label else SINGLE_LABEL

    def class_index(self, label: str, *, item_id: int) -> int:
        """The 0-based schema position of ``label``; an unknown label is an error naming the item."""
        try:
            return self._index[label]
        except KeyError:
            raise InvalidExportRecord(UNKNOWN_LABEL_MESSAGE.format(item_id=item_id, label=label))

    def class_indices(self, labels: Iterable[str], *, item_id: int) -> list[int]:
        return [self.class_index(label, item_id=item_id) for label in labels]

    def supercategory(self, name: str) -> str:
        """The parent class in the hierarchy; a root is its own supercategory, as in COCO itself."""
        return self.category_parents.get(name) or name


@dataclass(frozen=True, slots=True)
class ExportRecord:
    """One item as it goes into an export.

    ``open_bytes`` returns a binary file object for an image item (the caller opens it from storage,
    the writer closes it); ``text`` is set for a text item. ``labels`` are the final labels and
    ``predicted_labels`` the model's; ``boxes`` are (label, x, y, w, h) in pixels, for projects with
    boxes. ``file_name`` is the name the item was uploaded under: it may repeat or be unsafe, so
    writers never use it as a path as is (see ``exports.formats.archive.item_stem``).
    """

    item_id: int
    file_name: str = ""
    split: str = "train"
    text: str | None = None
    open_bytes: Callable[[], BinaryIO] | None = None
    mime_type: str = ""
    width: int | None = None
    height: int | None = None
    labels: Sequence[str] = ()
    predicted_labels: Sequence[str] = ()
    confidence: float | None = None
    model_name: str = ""
    reviewer: str | None = None
    state: str = ""
    boxes: Sequence[Box] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)


# Column keys a record provides besides its content (text, or the image's file name and size).
RECORD_COLUMNS = ("item_id", "labels", "predicted_labels", "confidence", "model", "reviewer", "state", "split")
EXTRA_COLUMNS = ("source", "schema_version", "created_at", "decided_at", "probabilities")


def record_values(record: ExportRecord) -> dict[str, Any]:
    """Every column a record provides, by column key (labels as lists), for formats that take chosen columns."""
    values: dict[str, Any] = {
        "item_id": record.item_id, "text": record.text, "original_file_name": record.file_name,
        "width": record.width, "height": record.height, "labels": list(record.labels),
        "predicted_labels": list(record.predicted_labels), "confidence": record.confidence,
        "model": record.model_name, "reviewer": record.reviewer, "state": record.state, "split": record.split,
    }
    for key in EXTRA_COLUMNS:
        values[key] = record.extra.get(key)
    return values


@dataclass
class ExportSummary:
    """What a writer did: items read, items written, and items left out (e.g. no single label for a
    class-folder layout)."""

    items_read: int = 0
    items_written: int = 0
    items_skipped: int = 0


def check_record(spec: ExportSpec, record: ExportRecord) -> None:
    """Refuse a record a writer cannot place: unknown split, unknown label, or missing content."""
    if record.split not in SPLITS:
        raise InvalidExportRecord(UNKNOWN_SPLIT_MESSAGE.format(
            item_id=record.item_id, split=record.split, known=", ".join(SPLITS)))
    if spec.is_image and record.open_bytes is None:
        raise InvalidExportRecord(MISSING_IMAGE_MESSAGE.format(item_id=record.item_id))
    if not spec.is_image and record.text is None:
        raise InvalidExportRecord(MISSING_TEXT_MESSAGE.format(item_id=record.item_id))
    for label in record.labels:
        spec.class_index(label, item_id=record.item_id)
    for label in record.predicted_labels:
        spec.class_index(label, item_id=record.item_id)
    for box in record.boxes:
        spec.class_index(box[0], item_id=record.item_id)


def boxes_of(record: ExportRecord) -> list[Box]:
    """The record's boxes as ``Box`` tuples (callers may pass plain tuples)."""
    return [box if isinstance(box, Box) else Box(*box) for box in record.boxes]


class Progress:
    """Counts items read and calls ``callback(n_done)`` every ``every`` items and once at the end."""

    def __init__(self, callback: Callable[[int], None] | None, every: int = 1000):
        self.callback = callback
        self.every = max(1, every)
        self.done = 0
        self._reported = -1

    def tick(self) -> None:
        self.done += 1
        if self.callback is not None and self.done % self.every == 0:
            self._report()

    def finish(self) -> None:
        if self.callback is not None and self._reported != self.done:
            self._report()

    def _report(self) -> None:
        self._reported = self.done
        self.callback(self.done)
