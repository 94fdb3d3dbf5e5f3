"""What can go wrong while writing an export, as messages a user may see (written once, here).

Every error is a ``ValueError`` subclass so the Django layer can turn any of them into a 400
with ``str(exc)`` as written.
"""

from __future__ import annotations

UNKNOWN_FORMAT_MESSAGE = "Unknown export format '{name}'. Available formats: {available}."
UNKNOWN_PROJECT_TYPE_MESSAGE = "Unknown project type '{project_type}'. Project types: {known}."
NOT_FOR_PROJECT_TYPE_MESSAGE = "{format} holds {holds}; this is a {kind} project."
ONE_CLASS_FOLDER_MESSAGE = (
    "{format} puts each image in exactly one class folder; this project is multi-label. "
    "Use COCO, Pascal VOC or Hugging Face instead."
)
NO_CLASSES_MESSAGE = "A project needs at least one class to export."
DUPLICATE_CLASS_MESSAGE = "The class '{name}' appears twice in the project's schema."
EMPTY_CLASS_MESSAGE = "A class name cannot be empty."
UNKNOWN_LABEL_MESSAGE = "Item {item_id} has the label '{label}', which is not a class of this project."
UNKNOWN_SPLIT_MESSAGE = "Item {item_id} is in split '{split}'; the splits are {known}."
MISSING_IMAGE_MESSAGE = "Item {item_id} has no image to export."
MISSING_TEXT_MESSAGE = "Item {item_id} has no text to export."
UNREADABLE_IMAGE_MESSAGE = "Item {item_id}: the image could not be read ({detail})."


class ExportError(ValueError):
    """Base of every error a format writer raises on purpose."""


class UnknownExportFormat(ExportError):
    """The format name is not in the registry; the message lists the ones that are."""


class UnsuitableExportFormat(ExportError):
    """The format cannot hold this project (its type or its label mode); the message says why."""


class InvalidExportSpec(ExportError):
    """The project description handed to a writer is inconsistent."""


class InvalidExportRecord(ExportError):
    """One item cannot be written (unknown label or split, no image, unreadable image)."""
