"""What an export may choose: its fields (with optional new names) and its filters.

A field is named as the API spells it (``decided_by``) and written under its column name
(``reviewer``) unless renamed. No choice keeps each format's own layout; a choice is checked
against the project's kind (``text`` for text projects, ``file`` and the image's size for images),
and every refusal lists what is allowed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from modelship.exceptions import DomainError
from projects.models import Project

# API field name -> column key (and default column name), in the order the API lists them.
FIELD_COLUMNS = {
    "id": "item_id",
    "text": "text",
    "file": "file_name",
    "original_name": "original_file_name",
    "width": "width",
    "height": "height",
    "labels": "labels",
    "source": "source",
    "decided_by": "reviewer",
    "decided_at": "decided_at",
    "created_at": "created_at",
    "prediction": "predicted_labels",
    "confidence": "confidence",
    "probabilities": "probabilities",
    "model": "model",
    "schema_version": "schema_version",
    "state": "state",
    "split": "split",
}
IMAGE_ONLY_FIELDS = frozenset({"file", "original_name", "width", "height"})
TEXT_ONLY_FIELDS = frozenset({"text"})
# The columns of an export that chooses nothing (the tabular formats' layout).
DEFAULT_FIELDS = {
    Project.Type.IMAGE_CLASSIFICATION: ("id", "file", "original_name", "width", "height", "labels", "prediction",
                                        "confidence", "model", "decided_by", "state", "split"),
    Project.Type.TEXT_CLASSIFICATION: ("id", "text", "labels", "prediction", "confidence", "model", "decided_by",
                                       "state", "split"),
}
FILTER_NAMES = ("state", "source", "labels", "confidence", "created", "decided")
FILTER_STATES = ("reviewed", "auto_accepted")  # the states in which an item has final labels
FILTER_SOURCES = ("review", "import", "auto")
COLUMN_NAME_MAX = 64

UNKNOWN_FIELD = "Unknown field '{name}'; the fields of a {kind} project are: {allowed}."
DUPLICATE_FIELD = "The field '{name}' is chosen twice."
RENAME_NOT_CHOSEN = "'{name}' is renamed but is not among the fields ({chosen})."
EMPTY_COLUMN_NAME = "The new name of '{name}' is empty."
DUPLICATE_COLUMN = "Two fields would be written as the column '{name}'."
CONFIDENCE_RANGE_EMPTY = "The confidence range is empty: min {min:g} is above max {max:g}."
DATE_RANGE_EMPTY = "The {name} range is empty: since {since} is not before until {until}."
LABELS_TWICE = "Give the labels once: either as 'labels' or as the 'labels' filter."


def fields_for(project_type: str) -> list[str]:
    """The fields a project of this type may choose, in the API's order."""
    excluded = TEXT_ONLY_FIELDS if project_type == Project.Type.IMAGE_CLASSIFICATION else IMAGE_ONLY_FIELDS
    return [name for name in FIELD_COLUMNS if name not in excluded]


def export_fields_normalise(*, fields: list[str] | None, rename: dict[str, str] | None,
                            project_type: str) -> tuple[list[str] | None, dict[str, str]]:
    """The chosen fields in order and their new names (only those that differ), or (None, {}) for
    the formats' own layout. A rename without fields renames the default columns."""
    rename = dict(rename or {})
    if fields is None and not rename:
        return None, {}
    allowed = fields_for(project_type)
    chosen = list(fields) if fields is not None else list(DEFAULT_FIELDS[project_type])
    kind = "text" if project_type == Project.Type.TEXT_CLASSIFICATION else "image"
    seen: set[str] = set()
    for name in chosen:
        if name not in allowed:
            raise DomainError(UNKNOWN_FIELD.format(name=name, kind=kind, allowed=", ".join(allowed)), field="fields")
        if name in seen:
            raise DomainError(DUPLICATE_FIELD.format(name=name), field="fields")
        seen.add(name)
    for name, new in rename.items():
        if name not in seen:
            raise DomainError(RENAME_NOT_CHOSEN.format(name=name, chosen=", ".join(chosen)), field="rename")
        if not new.strip():
            raise DomainError(EMPTY_COLUMN_NAME.format(name=name), field="rename")
    rename = {name: rename[name].strip() for name in chosen
              if name in rename and rename[name].strip() != FIELD_COLUMNS[name]}
    columns: set[str] = set()
    for name in chosen:
        column = rename.get(name, FIELD_COLUMNS[name])
        if column in columns:
            raise DomainError(DUPLICATE_COLUMN.format(name=column), field="rename")
        columns.add(column)
    return chosen, rename


def _when(value: datetime | str | None) -> datetime | None:
    """A bound as a date-time: from the serializer, or as a template stored it (ISO 8601)."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def export_filters_normalise(*, filters: dict[str, Any] | None) -> dict[str, Any]:
    """Filters in one canonical, JSON-ready form (date-times as ISO 8601, lists sorted): only the
    ones given. Their values were checked by the serializer; here, ranges that select nothing."""
    filters = filters or {}
    out: dict[str, Any] = {}
    for name, allowed in (("state", FILTER_STATES), ("source", FILTER_SOURCES)):
        if filters.get(name):
            out[name] = [value for value in allowed if value in set(filters[name])]
    if filters.get("labels"):
        out["labels"] = list(filters["labels"])
    confidence = filters.get("confidence")
    if confidence:
        low, high = confidence.get("min"), confidence.get("max")
        if low is not None and high is not None and low > high:
            raise DomainError(CONFIDENCE_RANGE_EMPTY.format(min=low, max=high), field="filters")
        out["confidence"] = {"min": low, "max": high}
    for name in ("created", "decided"):
        window = filters.get(name)
        if window:
            since, until = _when(window.get("since")), _when(window.get("until"))
            if since is not None and until is not None and since >= until:
                raise DomainError(DATE_RANGE_EMPTY.format(name=name, since=_iso(since), until=_iso(until)),
                                  field="filters")
            out[name] = {"since": _iso(since), "until": _iso(until)}
    return out
