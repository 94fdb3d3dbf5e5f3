"""The export formats: what each is, which projects it suits (and why not), and the one way to write one."""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from exports.formats.coco import write_coco
from exports.formats.errors import (
    NOT_FOR_PROJECT_TYPE_MESSAGE,
    ONE_CLASS_FOLDER_MESSAGE,
    UNKNOWN_FORMAT_MESSAGE,
    UNKNOWN_PROJECT_TYPE_MESSAGE,
    InvalidExportSpec,
    UnknownExportFormat,
    UnsuitableExportFormat,
)
from exports.formats.hugging_face import write_hugging_face
from exports.formats.label_studio import write_label_studio
from exports.formats.pytorch import write_pytorch
from exports.formats.records import (
    IMAGE_CLASSIFICATION,
    MULTI_LABEL,
    PROJECT_TYPES,
    SINGLE_LABEL,
    TEXT_CLASSIFICATION,
    ExportRecord,
    ExportSpec,
    ExportSummary,
)
from exports.formats.tabular import write_csv, write_json, write_jsonl
from exports.formats.tf_record import write_tfrecord
from exports.formats.voc import write_pascal_voc
from exports.formats.yolo import write_yolo

BOTH_TYPES = frozenset(PROJECT_TYPES)
IMAGES_ONLY = frozenset({IMAGE_CLASSIFICATION})
BOTH_MODES = frozenset({SINGLE_LABEL, MULTI_LABEL})
# How a format takes the chosen fields of an export (ExportSpec.columns).
COLUMNS = "columns"  # exactly the chosen columns, renamed
EXTRA = "extra"  # its required content and labels, plus the chosen ones, renamed
FIXED = "fixed"  # a fixed layout: filters apply, fields do not
PROJECT_KIND = {IMAGE_CLASSIFICATION: "image", TEXT_CLASSIFICATION: "text"}


@dataclass(frozen=True)
class ExportFormat:
    """One format: ``name`` as the API spells it, a title and description for people, the extension of
    its main files, the project types it suits, and its writer.

    Class-folder layouts cannot hold multi-label images: ``multi_label_images`` is False for them, and
    ``single_label_reason`` says why. YOLO's detection layout (projects with boxes) can, hence
    ``multi_label_images_with_boxes``. ``fields`` says how it takes an export's chosen fields
    (``columns``, ``extra`` or ``fixed``).
    """

    name: str
    title: str
    description: str
    extension: str
    project_types: frozenset[str]
    writer: Callable[..., ExportSummary]
    multi_label_images: bool = True
    multi_label_images_with_boxes: bool = True
    single_label_reason: str = ""
    fields: str = FIXED

    def label_modes(self, project_type: str, *, has_boxes: bool = False) -> frozenset[str]:
        """The label modes (``single``, ``multi``) this format holds for such a project."""
        if project_type == IMAGE_CLASSIFICATION:
            multi = self.multi_label_images_with_boxes if has_boxes else self.multi_label_images
            if not multi:
                return frozenset({SINGLE_LABEL})
        return BOTH_MODES


FORMATS: dict[str, ExportFormat] = {
    fmt.name: fmt
    for fmt in (
        ExportFormat("csv", "CSV", "One row per item: id, file name or text, labels joined with '|', "
                     "confidence, model, reviewer, state, split.", ".csv", BOTH_TYPES, write_csv, fields=COLUMNS),
        ExportFormat("json", "JSON", "The project's classes and an array of items with their labels, "
                     "prediction and review.", ".json", BOTH_TYPES, write_json, fields=COLUMNS),
        ExportFormat("jsonl", "JSON Lines", "One JSON object per line and item.", ".jsonl", BOTH_TYPES,
                     write_jsonl, fields=COLUMNS),
        ExportFormat("coco", "COCO", "COCO instances JSON per split with categories from the class "
                     "hierarchy; loads with pycocotools.", ".json", IMAGES_ONLY, write_coco, fields=EXTRA),
        ExportFormat("yolo", "YOLO", "Ultralytics layout: class folders per split, or images, normalised "
                     "label files and data.yaml for projects with boxes.", ".txt", IMAGES_ONLY, write_yolo,
                     multi_label_images=False,
                     single_label_reason=ONE_CLASS_FOLDER_MESSAGE.format(format="YOLO classification")),
        ExportFormat("pascal-voc", "Pascal VOC", "VOCdevkit/VOC2007 with JPEGImages, XML annotations and "
                     "per-class image set lists; loads with torchvision's VOCDetection.", ".xml", IMAGES_ONLY,
                     write_pascal_voc),
        ExportFormat("tfrecord", "TensorFlow TFRecord", "Sharded tf.train.Example records and a label map.",
                     ".tfrecord", BOTH_TYPES, write_tfrecord),
        ExportFormat("pytorch", "PyTorch", "An ImageFolder layout for images; .pt files of texts, label "
                     "indices and class names for text.", ".pt", BOTH_TYPES, write_pytorch,
                     multi_label_images=False, multi_label_images_with_boxes=False,
                     single_label_reason=ONE_CLASS_FOLDER_MESSAGE.format(format="PyTorch's ImageFolder")),
        ExportFormat("huggingface", "Hugging Face", "A datasets DatasetDict (ClassLabel features) for "
                     "load_from_disk, plus Parquet files.", ".parquet", BOTH_TYPES, write_hugging_face,
                     fields=EXTRA),
        ExportFormat("label-studio", "Label Studio", "Label Studio tasks with predictions and annotations, "
                     "and the labelling config to import them.", ".json", BOTH_TYPES, write_label_studio),
    )
}


def available_formats() -> list[str]:
    return list(FORMATS)


def format_named(name: str) -> ExportFormat:
    """The registered format called ``name``; an unknown name raises with the list of formats."""
    try:
        return FORMATS[name]
    except KeyError:
        raise UnknownExportFormat(UNKNOWN_FORMAT_MESSAGE.format(name=name, available=", ".join(FORMATS)))


def suitability(format_name: str, project_type: str, multi_label: bool, *, has_boxes: bool = False) -> tuple[bool, str]:
    """Whether the format can hold such a project, and if not, why (a sentence for the user; ``""`` when it can)."""
    fmt = format_named(format_name)
    if project_type not in PROJECT_TYPES:
        raise InvalidExportSpec(UNKNOWN_PROJECT_TYPE_MESSAGE.format(
            project_type=project_type, known=", ".join(PROJECT_TYPES)))
    if project_type not in fmt.project_types:
        return False, NOT_FOR_PROJECT_TYPE_MESSAGE.format(format=fmt.title, holds="images",
                                                          kind=PROJECT_KIND[project_type])
    if multi_label and MULTI_LABEL not in fmt.label_modes(project_type, has_boxes=has_boxes):
        return False, fmt.single_label_reason
    return True, ""


def formats_for(project_type: str, multi_label: bool, *, has_boxes: bool = False) -> list[tuple[ExportFormat, bool, str]]:
    """Every format with its suitability for such a project, in registry order (for the format list)."""
    return [(fmt, *suitability(fmt.name, project_type, multi_label, has_boxes=has_boxes)) for fmt in FORMATS.values()]


def write_export(format_name: str, zf: zipfile.ZipFile, spec: ExportSpec, records: Iterable[ExportRecord], *,
                 progress: Callable[[int], None] | None = None, **options) -> ExportSummary:
    """Write ``records`` (any iterable, consumed once) into ``zf`` in the named format.

    Refuses a format that does not suit the project, with the reason. ``progress(n_done)`` is called
    every 1,000 items and at the end; ``options`` go to the writer (e.g. ``shard_bytes`` for TFRecord).
    """
    fmt = format_named(format_name)
    ok, reason = suitability(format_name, spec.project_type, spec.multi_label, has_boxes=spec.has_boxes)
    if not ok:
        raise UnsuitableExportFormat(reason)
    return fmt.writer(zf, spec, records, progress=progress, **options)
