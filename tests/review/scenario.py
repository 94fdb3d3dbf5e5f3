"""Review scenarios: a project with a schema, items waiting with predictions, and API calls."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from labeling.models import Item, Prediction
from projects.models import Category, LabelSchema, Project
from tests.factories import ItemFactory, LabelSchemaFactory

CATEGORIES = ["cat", "dog", "bird"]
SHORTCUTS = {"cat": "c", "dog": "d", "bird": "b"}


def schema_for(project: Project, categories=CATEGORIES, *, multi_label: bool = False,
               shortcuts: dict | None = SHORTCUTS) -> LabelSchema:
    """A new schema version with these categories (and keyboard shortcuts)."""
    schema = LabelSchemaFactory(project=project, categories=list(categories), multi_label=multi_label,
                                min_labels=1)
    for name, key in (shortcuts or {}).items():
        Category.objects.filter(schema=schema, path=name).update(shortcut=key)
    return schema


def item_waiting(project: Project, schema: LabelSchema, *, top: str | list[str] = "cat", confidence: float = 0.5,
                 probabilities: list[float] | None = None, state: str = Item.State.NEEDS_REVIEW,
                 **fields) -> Item:
    """An item with a model prediction (``top`` with ``confidence``), waiting in ``state``."""
    item = ItemFactory(project=project, state=state, **fields)
    labels = [top] if isinstance(top, str) else list(top)
    if probabilities is None:
        paths = list(schema.categories.order_by("order", "id").values_list("path", flat=True))
        rest = (1.0 - confidence) / max(len(paths) - 1, 1)
        probabilities = [confidence if path == labels[0] else rest for path in paths]
    prediction = Prediction.objects.create(item=item, model_name="test-model", schema=schema, labels=labels,
                                           confidence=confidence, probabilities=probabilities, calibrated=True)
    Item.objects.filter(pk=item.pk).update(prediction=prediction, predicted_labels=labels, confidence=confidence)
    item.refresh_from_db()
    return item


@dataclass
class ReviewWorld:
    project: Project
    schema: LabelSchema
    manager: object
    reviewer: object
    reviewer2: object
    labeler: object
    viewer: object


def queue(client, project, **params):
    return client.get("/api/review/queue", {"project": project.pk, **params})


def submit(client, item, decision="approve", labels=None, seconds=1.0):
    body = {"item": item.pk if hasattr(item, "pk") else item, "decision": decision, "seconds_spent": seconds}
    if labels is not None:
        body["labels"] = labels
    return client.post("/api/review/submit", body, format="json")


_image_count = itertools.count()


def image_waiting(project: Project, schema: LabelSchema, *, size=(640, 420), **kwargs) -> Item:
    """An image item stored in MEDIA_ROOT (a PNG, different each time), waiting with a prediction."""
    import hashlib
    import io

    from django.core.files.base import ContentFile
    from PIL import Image, ImageDraw

    n = next(_image_count)
    color = (40 + 37 * n % 120, 90 + 53 * n % 120, 170 + 29 * n % 80)
    image = Image.new("RGB", size, color)
    draw = ImageDraw.Draw(image)
    for x in range(0, size[0], 8):
        draw.line([(x, 0), (x, size[1])], fill=(color[0], (color[1] + x // 4) % 256, color[2]), width=8)
    draw.ellipse([size[0] // 3, size[1] // 4, 2 * size[0] // 3, 3 * size[1] // 4], fill=(250, 210, 90))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    content = buffer.getvalue()
    digest = hashlib.sha256(content).hexdigest()
    item = item_waiting(project, schema, kind="image", text="", content_hash=digest, mime_type="image/png",
                        size_bytes=len(content), width=size[0], height=size[1],
                        original_name=f"photo-{digest[:6]}.png", **kwargs)
    item.file.save(f"{digest}.png", ContentFile(content), save=True)
    return item
