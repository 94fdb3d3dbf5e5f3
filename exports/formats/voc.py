"""Pascal VOC, laid out as ``VOCdevkit/VOC2007/`` so that torchvision loads every split:
``VOCDetection(root, year="2007", image_set="train" | "val" | "trainval" | "test")``. (torchvision
accepts ``test`` for the 2007 layout only.)

- ``JPEGImages/<id>.jpg``: VOC readers open ``<id>.jpg``, so other formats are converted to JPEG.
- ``Annotations/<id>.xml``: size, and one ``<object>`` per box, or, in a project without boxes,
  one per final label with the whole image as its box (VOC's 1-based ``1, 1, width, height``).
- ``ImageSets/Main/<set>.txt``: the image ids of each set (``train``, ``val``, ``trainval``, ``test``).
- ``ImageSets/Main/<class>_<set>.txt``: every image of the set, ``<id>  1`` when the image has the
  class among its final labels and ``<id> -1`` when not. Multi-label projects fit naturally.

- ``labelmap.txt``: the classes in schema order, one ``name:color:parts:actions`` line each (colors,
  parts and actions left empty), which datumaro reads to declare labels beyond VOC's twenty.

The set lists need every item of a split per class, so ids and labels are spooled to temporary files
and the lists written from them at the end (one pass over the spool per class).
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterable
from xml.etree import ElementTree

from exports.formats.archive import ExportArchive, Spool, class_folder_names, member_path
from exports.formats.records import (
    ExportRecord,
    ExportSpec,
    ExportSummary,
    Progress,
    boxes_of,
    check_record,
)

VOC_ROOT = "VOCdevkit/VOC2007"
IMAGE_SETS = {"train": ("train",), "val": ("val",), "trainval": ("train", "val"), "test": ("test",)}


def _annotation_xml(spec: ExportSpec, record: ExportRecord, file_name: str, width: int, height: int) -> bytes:
    root = ElementTree.Element("annotation")
    ElementTree.SubElement(root, "folder").text = "VOC2007"
    ElementTree.SubElement(root, "filename").text = file_name
    source = ElementTree.SubElement(root, "source")
    ElementTree.SubElement(source, "database").text = spec.project_name
    ElementTree.SubElement(source, "annotation").text = "ModelShip"
    size = ElementTree.SubElement(root, "size")
    ElementTree.SubElement(size, "width").text = str(width)
    ElementTree.SubElement(size, "height").text = str(height)
    ElementTree.SubElement(size, "depth").text = "3"
    ElementTree.SubElement(root, "segmented").text = "0"
    boxes = boxes_of(record)
    if boxes or spec.has_boxes:
        regions = [(box.label, round(box.x) + 1, round(box.y) + 1, round(box.x + box.w), round(box.y + box.h))
                   for box in boxes]
    else:
        regions = [(label, 1, 1, width, height) for label in record.labels]
    for label, xmin, ymin, xmax, ymax in regions:
        obj = ElementTree.SubElement(root, "object")
        ElementTree.SubElement(obj, "name").text = label
        ElementTree.SubElement(obj, "pose").text = "Unspecified"
        ElementTree.SubElement(obj, "truncated").text = "0"
        ElementTree.SubElement(obj, "difficult").text = "0"
        bndbox = ElementTree.SubElement(obj, "bndbox")
        for tag, value in (("xmin", xmin), ("ymin", ymin), ("xmax", xmax), ("ymax", ymax)):
            ElementTree.SubElement(bndbox, tag).text = str(value)
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=False) + b"\n"


def write_pascal_voc(zf: zipfile.ZipFile, spec: ExportSpec, records: Iterable[ExportRecord], *,
                     progress: Callable[[int], None] | None = None) -> ExportSummary:
    """Write the Pascal VOC layout described in this module's docstring."""
    archive = ExportArchive(zf, spec.created_at)
    counter = Progress(progress)
    # Per split, one line per item: "<id>\t<class index>,<class index>…"
    spools = {split: Spool() for split in ("train", "val", "test")}
    try:
        for record in records:
            check_record(spec, record)
            image = archive.write_image(record, member_path(VOC_ROOT, "JPEGImages"), accept=frozenset({"jpeg"}),
                                        convert_to="jpeg", need_size=True)
            image_id = image.file_name.rsplit(".", 1)[0]
            archive.write_bytes(member_path(VOC_ROOT, "Annotations", f"{image_id}.xml"),
                                _annotation_xml(spec, record, image.file_name, image.width, image.height),
                                compress=True)
            indices = {spec.class_index(label, item_id=record.item_id) for label in record.labels}
            spools[record.split].write(f"{image_id}\t{','.join(map(str, sorted(indices)))}\n")
            counter.tick()
        _write_image_sets(archive, spec, spools)
        archive.write_text(member_path(VOC_ROOT, "labelmap.txt"), label_map(spec))
    finally:
        for spool in spools.values():
            spool.close()
    counter.finish()
    return ExportSummary(items_read=counter.done, items_written=counter.done)


def label_map(spec: ExportSpec) -> str:
    """datumaro's ``labelmap.txt``: a comment naming the fields, then ``<class>:::`` per class."""
    return "# label:color_rgb:parts:actions\n" + "".join(f"{name}:::\n" for name in spec.class_names)


def _write_image_sets(archive: ExportArchive, spec: ExportSpec, spools: dict[str, Spool]) -> None:
    main = member_path(VOC_ROOT, "ImageSets", "Main")
    for image_set, splits in IMAGE_SETS.items():
        archive.write_lines(member_path(main, f"{image_set}.txt"),
                            (line.split("\t", 1)[0] + "\n" for split in splits for line in spools[split].lines()))
    file_parts = class_folder_names(spec.class_names)
    for index, name in enumerate(spec.class_names):
        for image_set, splits in IMAGE_SETS.items():
            archive.write_lines(member_path(main, f"{file_parts[name]}_{image_set}.txt"),
                                (_class_line(line, str(index)) for split in splits for line in spools[split].lines()))


def _class_line(spooled: str, index: str) -> str:
    image_id, indices = spooled.rstrip("\n").split("\t")
    return f"{image_id}  1\n" if index in indices.split(",") else f"{image_id} -1\n"
