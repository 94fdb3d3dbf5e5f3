"""Label Studio: ``tasks.json`` to import, ``label_config.xml`` for the project, and ``images/``.

Each task has ``id`` (the item's id: label-studio-converter keys every row on it), ``data``
(``image``, or ``text``, and ``item_id``), ``meta`` (split, state, reviewer,
original file name), ``annotations`` (the final labels as a ``choices`` result, and boxes as
``rectanglelabels`` results in percent of the image) and ``predictions`` (the model's labels, with
``model_version`` and ``score``). ``label_config.xml`` declares the matching ``Choices`` (and
``RectangleLabels``) control, so a new Label Studio project with that config imports the tasks as
they are.

``data.image`` must be a URL Label Studio can fetch. By default it is the image's path inside the
ZIP (``images/<file>``), for local-file storage; the caller may pass ``image_url(record, member)`` to
give, say, ModelShip's media URL instead.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Iterable
from xml.etree import ElementTree

from exports.formats.archive import ExportArchive, Spool
from exports.formats.records import ExportRecord, ExportSpec, ExportSummary, Progress, boxes_of, check_record

CHOICES_CONTROL = "label"
BOXES_CONTROL = "box"


def label_config_xml(spec: ExportSpec) -> str:
    """The labelling interface for this project: the item, a choice per class, boxes if any."""
    source = "image" if spec.is_image else "text"
    view = ElementTree.Element("View")
    ElementTree.SubElement(view, "Image" if spec.is_image else "Text", name=source, value=f"${source}")
    choices = ElementTree.SubElement(view, "Choices", name=CHOICES_CONTROL, toName=source,
                                     choice="multiple" if spec.multi_label else "single")
    for name in spec.class_names:
        ElementTree.SubElement(choices, "Choice", value=name)
    if spec.has_boxes:
        rectangles = ElementTree.SubElement(view, "RectangleLabels", name=BOXES_CONTROL, toName=source)
        for name in spec.class_names:
            ElementTree.SubElement(rectangles, "Label", value=name)
    ElementTree.indent(view)
    return ElementTree.tostring(view, encoding="unicode") + "\n"


def _results(spec: ExportSpec, record: ExportRecord, labels, width, height, with_boxes: bool) -> list[dict]:
    source = "image" if spec.is_image else "text"
    results = []
    if labels:
        results.append({"id": f"{record.item_id}-{CHOICES_CONTROL}", "from_name": CHOICES_CONTROL,
                        "to_name": source, "type": "choices", "value": {"choices": list(labels)}})
    if with_boxes:
        for n, box in enumerate(boxes_of(record)):
            results.append({
                "id": f"{record.item_id}-{BOXES_CONTROL}-{n}", "from_name": BOXES_CONTROL, "to_name": source,
                "type": "rectanglelabels", "original_width": width, "original_height": height,
                "image_rotation": 0,
                "value": {"x": 100 * box.x / width, "y": 100 * box.y / height, "width": 100 * box.w / width,
                          "height": 100 * box.h / height, "rotation": 0, "rectanglelabels": [box.label]},
            })
    return results


def write_label_studio(zf: zipfile.ZipFile, spec: ExportSpec, records: Iterable[ExportRecord], *,
                       progress: Callable[[int], None] | None = None,
                       image_url: Callable[[ExportRecord, str], str] | None = None) -> ExportSummary:
    """Write the tasks, label config and images described in this module's docstring."""
    archive = ExportArchive(zf, spec.created_at)
    counter = Progress(progress)
    with Spool() as tasks:
        for record in records:
            check_record(spec, record)
            width = height = None
            if spec.is_image:
                image = archive.write_image(record, "images", need_size=bool(record.boxes))
                width, height = image.width, image.height
                data = {"image": image_url(record, image.member) if image_url else image.member}
            else:
                data = {"text": record.text}
            data["item_id"] = record.item_id
            final = _results(spec, record, record.labels, width, height, with_boxes=True)
            predicted = _results(spec, record, record.predicted_labels, width, height, with_boxes=False)
            task = {
                "id": record.item_id,
                "data": data,
                "meta": {"split": record.split, "state": record.state, "reviewer": record.reviewer,
                         "original_file_name": record.file_name},
                "annotations": [{"result": final, "ground_truth": False}] if final else [],
                "predictions": ([{"model_version": record.model_name, "score": record.confidence,
                                  "result": predicted}] if predicted else []),
            }
            tasks.write(",\n" if counter.done else "")
            tasks.write(json.dumps(task, ensure_ascii=False))
            counter.tick()
        archive.write_parts("tasks.json", [b"[\n", tasks, b"\n]\n"])
    archive.write_text("label_config.xml", label_config_xml(spec))
    counter.finish()
    return ExportSummary(items_read=counter.done, items_written=counter.done)
