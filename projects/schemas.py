"""Label schema rules: validating a proposed category tree, and THE label-set check.

``labels_validate`` is the one place that decides whether a set of labels is acceptable under
a schema version; import, review and export all call it. ``categories_validate`` checks a
proposed category list before a new schema version is written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from modelship.exceptions import DomainError
from projects.models import HIERARCHY_SEPARATOR, LabelSchema

MAX_CATEGORIES = 5000
RESERVED_SHORTCUTS = ("x", "s", "z")  # the review page's reject, skip and undo keys
# Keys given, in this order, to categories that have none (33 of them: a bigger schema is searched).
AUTO_SHORTCUT_KEYS = "1234567890abcdefghijklmnopqrtuvwy"
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")

CATEGORY_NAME_REQUIRED = "Every category needs a name."
CATEGORY_NAME_INVALID = "The category name {name!r} may not contain '>' (it separates levels of the hierarchy)."
CATEGORY_KEY_DUPLICATE = "Two categories have the key {key!r}; give each category a unique key."
CATEGORY_PARENT_UNKNOWN = "The parent {parent!r} of category {name!r} is not a category of this schema."
CATEGORY_CYCLE = "The category hierarchy has a cycle: {cycle}."
CATEGORY_SIBLING_DUPLICATE = "Category names must be unique among siblings: {name!r} appears twice {where}."
SHORTCUT_INVALID = "The shortcut of {name!r} must be a single letter or digit, not {shortcut!r}."
SHORTCUT_DUPLICATE = "The shortcut {shortcut!r} is used by both {first!r} and {second!r}."
SHORTCUT_RESERVED = "The shortcut {shortcut!r} of {name!r} is reserved for review actions (x reject, s skip, z undo)."
COLOR_INVALID = "The color of {name!r} must be a hex color like #1f77b4, not {color!r}."
SINGLE_LABEL_TOO_FEW = "A single-label schema needs at least two categories."
SCHEMA_EMPTY = "A schema needs at least one category."
SCHEMA_TOO_LARGE = "A schema may have at most {max} categories."
LIMITS_INVALID = "min_labels ({min}) cannot be greater than max_labels ({max})."
SINGLE_LABEL_LIMITS = "A single-label schema takes at most one label per item: min_labels 0 or 1 and max_labels 1."
MIN_ABOVE_CATEGORIES = "min_labels ({min}) is more than the number of categories ({count})."

LABELS_NOT_A_LIST = "Labels must be a list of category names."
LABELS_UNKNOWN = "Not in the label schema (version {version}): {labels}."
LABELS_REPEATED = "A label is given more than once: {labels}."
LABELS_SINGLE = "This schema is single-label: give one label, not {count}."
LABELS_TOO_FEW = "Give at least {min} label(s); got {count}."
LABELS_TOO_MANY = "Give at most {max} label(s); got {count}."

_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_SHORTCUT = re.compile(r"^[a-z0-9]$")


def _quoted(values: Iterable[str]) -> str:
    return ", ".join(repr(v) for v in values)


@dataclass(frozen=True)
class CategorySpec:
    """A validated category, ready to be written: ``parent_path`` is None at the top level."""

    name: str
    path: str
    parent_path: str | None
    description: str
    color: str
    shortcut: str
    order: int
    depth: int


@dataclass(frozen=True)
class SchemaSpec:
    multi_label: bool
    min_labels: int
    max_labels: int | None
    categories: tuple[CategorySpec, ...]  # parents before children


def categories_validate(
    *, categories: Sequence[dict[str, Any]], multi_label: bool, min_labels: int | None = None,
    max_labels: int | None = None,
) -> SchemaSpec:
    """Check a proposed schema; raise DomainError (field ``categories``) naming the first problem.

    Each category is a dict with ``name`` and optional ``description``, ``color``, ``shortcut``,
    ``key`` (a reference used only inside this payload; defaults to the name) and ``parent``
    (the key of the parent category). A schema read back from the API carries ``key`` = path,
    so it can be edited and posted again as is.
    """

    def fail(message: str, field: str = "categories"):
        raise DomainError(message, field=field)

    if len(categories) > MAX_CATEGORIES:
        fail(SCHEMA_TOO_LARGE.format(max=MAX_CATEGORIES))
    entries: list[dict[str, Any]] = []
    by_key: dict[str, int] = {}
    for index, raw in enumerate(categories):
        name = str(raw.get("name") or "").strip()
        if not name:
            fail(CATEGORY_NAME_REQUIRED)
        if ">" in name:
            fail(CATEGORY_NAME_INVALID.format(name=name))
        key = str(raw.get("key") or "").strip() or name
        if key in by_key:
            fail(CATEGORY_KEY_DUPLICATE.format(key=key))
        by_key[key] = index
        parent = raw.get("parent")
        parent = str(parent).strip() if parent not in (None, "") else None
        entries.append({
            "name": name, "key": key, "parent": parent,
            "description": str(raw.get("description") or "").strip(),
            "color": str(raw.get("color") or "").strip(),
            "shortcut": str(raw.get("shortcut") or "").strip().lower(),
        })

    parent_index: list[int | None] = []
    for entry in entries:
        ref = entry["parent"]
        if ref is None:
            parent_index.append(None)
            continue
        target = by_key.get(ref)
        if target is None:
            fail(CATEGORY_PARENT_UNKNOWN.format(parent=ref, name=entry["name"]))
        parent_index.append(target)

    # Cycles: follow each chain of parents; a chain that meets itself is a cycle.
    depth: list[int | None] = [None] * len(entries)
    for start in range(len(entries)):
        chain: list[int] = []
        seen: set[int] = set()
        node: int | None = start
        while node is not None and depth[node] is None:
            if node in seen:
                loop = chain[chain.index(node):] + [node]
                fail(CATEGORY_CYCLE.format(cycle=" → ".join(entries[i]["key"] for i in loop)))
            seen.add(node)
            chain.append(node)
            node = parent_index[node]
        base = -1 if node is None else depth[node]
        for offset, member in enumerate(reversed(chain), start=1):
            depth[member] = base + offset

    # Paths, in an order where parents come first.
    order = sorted(range(len(entries)), key=lambda i: (depth[i], i))
    paths: dict[int, str] = {}
    sibling_names: dict[tuple[int | None, str], int] = {}
    for i in order:
        entry, parent = entries[i], parent_index[i]
        folded = (parent, entry["name"].casefold())
        if folded in sibling_names:
            where = "at the top level" if parent is None else f"under {paths[parent]!r}"
            fail(CATEGORY_SIBLING_DUPLICATE.format(name=entry["name"], where=where))
        sibling_names[folded] = i
        paths[i] = entry["name"] if parent is None else paths[parent] + HIERARCHY_SEPARATOR + entry["name"]

    shortcuts: dict[str, str] = {}
    for i, entry in enumerate(entries):
        shortcut = entry["shortcut"]
        if shortcut:
            if not _SHORTCUT.match(shortcut):
                fail(SHORTCUT_INVALID.format(name=entry["name"], shortcut=shortcut))
            if shortcut in RESERVED_SHORTCUTS:
                fail(SHORTCUT_RESERVED.format(shortcut=shortcut, name=entry["name"]))
            if shortcut in shortcuts:
                fail(SHORTCUT_DUPLICATE.format(shortcut=shortcut, first=shortcuts[shortcut], second=paths[i]))
            shortcuts[shortcut] = paths[i]
        if entry["color"] and not _COLOR.match(entry["color"]):
            fail(COLOR_INVALID.format(name=entry["name"], color=entry["color"]))

    auto = shortcuts_fill([entry["shortcut"] for entry in entries])
    for entry, shortcut in zip(entries, auto, strict=True):
        entry["shortcut"] = shortcut

    count = len(entries)
    if multi_label:
        if count < 1:
            fail(SCHEMA_EMPTY)
        min_labels = 1 if min_labels is None else min_labels
        if max_labels is not None and min_labels > max_labels:
            fail(LIMITS_INVALID.format(min=min_labels, max=max_labels), "min_labels")
        if min_labels > count:
            fail(MIN_ABOVE_CATEGORIES.format(min=min_labels, count=count), "min_labels")
    else:
        if count < 2:
            fail(SINGLE_LABEL_TOO_FEW)
        min_labels = 1 if min_labels is None else min_labels
        if min_labels not in (0, 1) or max_labels not in (None, 1):
            fail(SINGLE_LABEL_LIMITS, "max_labels" if max_labels not in (None, 1) else "min_labels")
        max_labels = 1

    specs = tuple(
        CategorySpec(
            name=entries[i]["name"], path=paths[i],
            parent_path=None if parent_index[i] is None else paths[parent_index[i]],
            description=entries[i]["description"],
            color=(entries[i]["color"] or PALETTE[i % len(PALETTE)]).lower(),
            shortcut=entries[i]["shortcut"], order=i, depth=depth[i],
        )
        for i in order
    )
    return SchemaSpec(multi_label=multi_label, min_labels=min_labels, max_labels=max_labels, categories=specs)


def shortcuts_fill(shortcuts: Sequence[str]) -> list[str]:
    """Give each empty shortcut the next key nobody uses yet, in order, while keys last."""
    taken = {key for key in shortcuts if key}
    free = iter([key for key in AUTO_SHORTCUT_KEYS if key not in taken])
    return [key or next(free, "") for key in shortcuts]


@dataclass(frozen=True)
class LabelRules:
    """What ``labels_validate`` needs from one schema version, loaded once."""

    version: int
    multi_label: bool
    min_labels: int
    max_labels: int | None
    canonical: dict[str, str]  # casefolded path -> path


def label_rules(schema: LabelSchema) -> LabelRules:
    """The rules of a schema version; cached on the instance (versions never change)."""
    rules = getattr(schema, "_label_rules", None)
    if rules is None:
        paths = schema.categories.values_list("path", flat=True)
        rules = LabelRules(
            version=schema.version, multi_label=schema.multi_label, min_labels=schema.min_labels,
            max_labels=1 if not schema.multi_label else schema.max_labels,
            canonical={p.casefold(): p for p in paths},
        )
        schema._label_rules = rules
    return rules


def labels_validate(*, schema: LabelSchema, labels: Iterable[str]) -> list[str]:
    """Check a label set against one schema version; return it in canonical spelling.

    Labels are category paths (a top-level category's path is its name), matched without
    regard to case. Raises DomainError (field ``labels``) naming the labels outside the schema,
    a repeated label, or a count outside the schema's limits.
    """
    if isinstance(labels, (str, bytes)) or not isinstance(labels, Iterable):
        raise DomainError(LABELS_NOT_A_LIST, field="labels")
    rules = label_rules(schema)
    result: list[str] = []
    unknown: list[str] = []
    repeated: list[str] = []
    for raw in labels:
        if not isinstance(raw, str):
            raise DomainError(LABELS_NOT_A_LIST, field="labels")
        label = raw.strip()
        path = rules.canonical.get(label.casefold())
        if path is None:
            unknown.append(label)
        elif path in result:
            repeated.append(path)
        else:
            result.append(path)
    if unknown:
        raise DomainError(LABELS_UNKNOWN.format(version=rules.version, labels=_quoted(unknown)), field="labels")
    if repeated:
        raise DomainError(LABELS_REPEATED.format(labels=_quoted(repeated)), field="labels")
    count = len(result)
    if not rules.multi_label and count > 1:
        raise DomainError(LABELS_SINGLE.format(count=count), field="labels")
    if count < rules.min_labels:
        raise DomainError(LABELS_TOO_FEW.format(min=rules.min_labels, count=count), field="labels")
    if rules.max_labels is not None and count > rules.max_labels:
        raise DomainError(LABELS_TOO_MANY.format(max=rules.max_labels, count=count), field="labels")
    return result
