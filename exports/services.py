"""Writes for exports: asking for one (or getting the cached one), running it on a worker, and expiry.

An export reads the items its options select in one streaming query, turns each row into an
``ExportRecord``, and hands them to the format writer, which writes a ZIP on local disk; the ZIP is
then copied to storage in chunks. A redelivered task for a finished export does nothing; one for a
running export starts over (the older run notices at its next progress write and stops).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from functools import partial
from typing import Any, BinaryIO, cast

from celery import current_app
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from accounts.models import AuditEvent, User
from accounts.services import audit_record
from exports import selectors
from exports.fields import FIELD_COLUMNS, LABELS_TWICE, export_fields_normalise, export_filters_normalise
from exports.formats import (
    SPLITS,
    ExportError,
    ExportRecord,
    ExportSpec,
    UnknownExportFormat,
    format_named,
    suitability,
    write_export,
)
from exports.models import Export, ExportTemplate
from labeling.models import Item, Job
from modelship.exceptions import DomainError
from modelship.leases import task_stranded
from projects.models import LabelSchema, Project
from projects.selectors import NO_SCHEMA, schema_current
from projects.storage import project_storage_prefix, stored_files_delete

logger = logging.getLogger(__name__)

UNKNOWN_FILTER_LABEL = "'{label}' is not a label of this project (schema version {version})."
UNKNOWN_SPLIT = "Unknown split '{name}'; the splits are {known}."
SPLIT_OUT_OF_RANGE = "The {name} ratio must be between 0 and 1; it is {value:g}."
SPLIT_SUM = "The split ratios must add up to 1; they add up to {total:g}."
JOB_OF_ANOTHER_PROJECT = "This job belongs to another project."
EXPORT_RUN_TASK = "exports.tasks.export_run"  # enqueued by name: the task module imports this one
EXPORT_STOPPED = "The export stopped unexpectedly ({error}); the details are in the worker's log."
EXPORT_WORKER_LOST = "The worker writing this export stopped; an identical request started a new export."
EXPORT_TASK = "exports.tasks.export_run"
EXPORT_TEMPLATE_NAME_TAKEN = "This project already has an export template named '{name}'."

DEFAULT_SPLIT = {"train": 1.0, "val": 0.0, "test": 0.0}
EXPIRE_ON_CREATE = 20  # expired exports swept per create request, so no request pays for a backlog


class ExportSuperseded(Exception):
    """A newer delivery of the task took the export over; this run stops without recording anything."""


# --- asking for an export -----------------------------------------------------------------------

def export_options_normalise(*, options: dict[str, Any], class_names: list[str], schema_version: int,
                             for_job: bool, project_type: str) -> dict[str, Any]:
    """The options in one canonical form (the same request always hashes the same), checked against
    the project: unknown fields, unknown labels and split ratios that are not a distribution are refused.

    Defaults: items with final labels from review or import, plus auto-accepted ones for a job export
    (its results) or when ``include_auto_accepted`` (a ``state`` filter decides instead when given);
    no confidence floor; every label; everything in ``train`` (seed 0); the model's predictions
    included; each format's own fields.
    """
    include_auto = options.get("include_auto_accepted")
    fields, rename = export_fields_normalise(fields=options.get("fields"), rename=options.get("rename"),
                                             project_type=project_type)
    filters = export_filters_normalise(filters=options.get("filters"))
    labels = options.get("labels") or None
    if "labels" in filters:
        if labels is not None:
            raise DomainError(LABELS_TWICE, field="filters")
        labels = filters.pop("labels")
    if labels is not None:
        known = set(class_names)
        for label in labels:
            if label not in known:
                raise DomainError(UNKNOWN_FILTER_LABEL.format(label=label, version=schema_version), field="labels")
        wanted = set(labels)
        labels = [name for name in class_names if name in wanted]
    split = options.get("split")
    if split is None:
        split = dict(DEFAULT_SPLIT)
    else:
        for name, value in split.items():
            if name not in SPLITS:
                raise DomainError(UNKNOWN_SPLIT.format(name=name, known=", ".join(SPLITS)), field="split")
            if not (0.0 <= value <= 1.0) or math.isnan(value):
                raise DomainError(SPLIT_OUT_OF_RANGE.format(name=name, value=value), field="split")
        total = sum(split.values())
        if abs(total - 1.0) > 1e-6:
            raise DomainError(SPLIT_SUM.format(total=total), field="split")
        split = {name: float(split.get(name, 0.0)) for name in SPLITS}
    min_confidence = options.get("min_confidence")
    return {
        "include_auto_accepted": for_job if include_auto is None else bool(include_auto),
        "min_confidence": None if min_confidence is None else float(min_confidence),
        "labels": labels,
        "split": split,
        "seed": int(options.get("seed") or 0),
        "include_predictions": bool(options.get("include_predictions", True)),
        "model_predictions": bool(options.get("model_predictions", False)),
        "fields": fields,
        "rename": rename,
        "filters": filters,
        "template": options.get("template"),
    }


def _options_with_template(*, project: Project, options: dict[str, Any]) -> dict[str, Any]:
    """The request's options, with its template's fields, names and filters where it gives none itself."""
    template_id = options.get("template")
    if template_id is None:
        return options
    template = selectors.export_template_get(project=project, template_id=template_id)
    merged = dict(options)
    for key in ("fields", "rename", "filters"):
        if merged.get(key) is None:
            merged[key] = selectors.export_template_choice(template=template)[key]
    return merged


def _request_hash(*, project: Project, job: Job | None, schema: LabelSchema, format_name: str,
                  options: dict[str, Any], fingerprint: dict[str, Any]) -> str:
    request = {"project": project.pk, "job": job.pk if job else None, "schema": schema.pk, "format": format_name,
               "options": options, "data": fingerprint}
    return hashlib.sha256(json.dumps(request, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _check_format(*, format_name: str, project: Project, schema: LabelSchema) -> None:
    try:
        format_named(format_name)
    except UnknownExportFormat as exc:
        raise DomainError(str(exc), field="format")
    ok, reason = suitability(format_name, project.project_type, schema.multi_label)
    if not ok:
        raise DomainError(reason, field="format")


def export_create(*, project: Project, created_by: User, format_name: str, options: dict[str, Any],
                  job: Job | None = None) -> tuple[Export, bool]:
    """Ask for an export of the project (or of the items ``job`` predicted) in a format.

    Returns ``(export, created)``: an identical request on unchanged data (same project, job, schema
    version, format, options and selected data) gets the export already made or being made, while
    it is valid, with ``created`` False. A new one is queued on the ``exports`` queue.
    """
    exports_expire(limit=EXPIRE_ON_CREATE)
    if job is not None and job.project_id != project.pk:
        raise DomainError(JOB_OF_ANOTHER_PROJECT)
    schema = schema_current(project=project)
    if schema is None:
        raise DomainError(NO_SCHEMA)
    _check_format(format_name=format_name, project=project, schema=schema)
    class_names, _ = selectors.schema_classes(schema=schema)
    options = export_options_normalise(options=_options_with_template(project=project, options=options),
                                       class_names=class_names, schema_version=schema.version,
                                       for_job=job is not None, project_type=project.project_type)
    with transaction.atomic():
        Project.objects.select_for_update().filter(pk=project.pk).first()  # one create per project at a time
        items = selectors.export_selection(project_id=project.pk, job_id=job.pk if job else None, options=options)
        fingerprint = selectors.selection_fingerprint(items=items)
        if not fingerprint["count"]:
            raise DomainError(selectors.export_empty_reason(project_id=project.pk, job_id=job.pk if job else None,
                                                            options=options),
                              status_code=409)
        request_hash = _request_hash(project=project, job=job, schema=schema, format_name=format_name,
                                     options=options, fingerprint=fingerprint)
        cached = selectors.export_cached(project_id=project.pk, request_hash=request_hash)
        if cached is not None and not cached.is_finished and task_stranded(name=EXPORT_TASK, args=[cached.pk]):
            _stranded_fail(cached)  # its worker is gone: it never blocks a new request
            cached = None
        if cached is not None:
            return cached, False
        export = Export.objects.create(
            organization_id=project.organization_id, project=project, job=job, schema=schema, format=format_name,
            options=options, request_hash=request_hash, total=fingerprint["count"], created_by=created_by,
        )
        audit_record(actor=created_by, organization=project.organization, action=AuditEvent.Action.EXPORT_QUEUED, target=export,
                     metadata={"project": project.pk, "job": job.pk if job else None, "format": format_name,
                               "items": fingerprint["count"]})
        transaction.on_commit(lambda: current_app.send_task(EXPORT_RUN_TASK, args=[export.pk]))
    return export, True


def _stranded_fail(export: Export) -> None:
    Export.objects.filter(pk=export.pk, status__in=(Export.Status.QUEUED, Export.Status.RUNNING)).update(
        status=Export.Status.FAILED, error=EXPORT_WORKER_LOST, finished_at=timezone.now(),
        expires_at=timezone.now() + timedelta(hours=settings.EXPORT_TTL_HOURS))


# --- export templates ---------------------------------------------------------------------------

def _template_choice(*, project: Project, fields: list[str] | None, rename: dict[str, str] | None,
                     filters: dict[str, Any] | None) -> dict[str, Any]:
    """A template's choice checked as an export request would be (fields for the project's kind,
    labels of its current schema), in canonical form."""
    schema = schema_current(project=project)
    if schema is None:
        raise DomainError(NO_SCHEMA)
    class_names, _ = selectors.schema_classes(schema=schema)
    fields, rename = export_fields_normalise(fields=fields, rename=rename, project_type=project.project_type)
    filters = export_filters_normalise(filters=filters)
    for label in filters.get("labels") or ():
        if label not in set(class_names):
            raise DomainError(UNKNOWN_FILTER_LABEL.format(label=label, version=schema.version), field="filters")
    return {"fields": fields, "rename": rename, "filters": filters}


def _template_name_free(*, project: Project, name: str, exclude: int | None = None) -> None:
    taken = ExportTemplate.objects.filter(project=project, name=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise DomainError(EXPORT_TEMPLATE_NAME_TAKEN.format(name=name), field="name")


@transaction.atomic
def export_template_create(*, project: Project, created_by: User, name: str, fields: list[str] | None = None,
                           rename: dict[str, str] | None = None,
                           filters: dict[str, Any] | None = None) -> ExportTemplate:
    """Save a named choice of fields, names and filters for the project's exports."""
    name = name.strip()
    choice = _template_choice(project=project, fields=fields, rename=rename, filters=filters)
    Project.objects.select_for_update().filter(pk=project.pk).first()  # one name check at a time per project
    _template_name_free(project=project, name=name)
    template = ExportTemplate.objects.create(organization_id=project.organization_id, project=project, name=name,
                                             created_by=created_by, **choice)
    audit_record(actor=created_by, organization=project.organization, action=AuditEvent.Action.EXPORT_TEMPLATE_CREATED,
                 target=template, metadata={"project": project.pk, "name": name, **choice})
    return template


@transaction.atomic
def export_template_update(*, template: ExportTemplate, actor: User, data: dict[str, Any]) -> ExportTemplate:
    """Change a template's name or choice; keys absent from ``data`` keep their value."""
    project = template.project
    current = {"fields": template.fields, "rename": template.rename, "filters": template.filters}
    choice = _template_choice(project=project, **{key: data[key] if key in data else value
                                                  for key, value in current.items()})
    Project.objects.select_for_update().filter(pk=project.pk).first()
    if "name" in data:
        _template_name_free(project=project, name=data["name"].strip(), exclude=template.pk)
        template.name = data["name"].strip()
    for key, value in choice.items():
        setattr(template, key, value)
    template.save()
    audit_record(actor=actor, organization=project.organization, action=AuditEvent.Action.EXPORT_TEMPLATE_UPDATED, target=template,
                 metadata={"project": project.pk, "name": template.name, **choice})
    return template


@transaction.atomic
def export_template_delete(*, template: ExportTemplate, actor: User) -> None:
    project = template.project
    audit_record(actor=actor, organization=project.organization, action=AuditEvent.Action.EXPORT_TEMPLATE_DELETED, target=template,
                 metadata={"project": project.pk, "name": template.name})
    template.delete()


# --- running it ---------------------------------------------------------------------------------

def item_split(*, item_id: int, seed: int, ratios: dict[str, float]) -> str:
    """The split an item falls in: a uniform number from hash(seed, item id) against the cumulative
    ratios, so an item keeps its split as others are added and a seed reproduces the whole split."""
    if ratios["train"] >= 1.0:
        return "train"
    digest = hashlib.blake2b(f"{seed}:{item_id}".encode(), digest_size=8).digest()
    point = int.from_bytes(digest, "big") / 2**64
    edge = 0.0
    for name in SPLITS:
        edge += ratios[name]
        if point < edge:
            return name
    return next(name for name in reversed(SPLITS) if ratios[name] > 0)


class RecordStream:
    """Item rows as ``ExportRecord``s, counting rows read and items left out for a label that is not
    in the exported classes (a label of an older schema version)."""

    def __init__(self, rows: Iterable[dict[str, Any]], *, spec: ExportSpec, options: dict[str, Any],
                 schema_classes: Callable[[int], list[str]] | None = None):
        self.rows = rows
        self.spec = spec
        self.options = options
        self.with_extra = bool(options.get("fields"))
        self.schema_classes = schema_classes
        self._classes_of: dict[int, list[str]] = {}
        self.classes = frozenset(spec.class_names)
        self.subset = options["labels"] is not None
        self.read = 0
        self.unknown_label = 0

    def _labels(self, labels: Any) -> list[str] | None:
        """The labels the export keeps, or None when one of them is unknown to the schema."""
        if isinstance(labels, str):
            labels = [labels]
        labels = list(labels or [])
        if self.subset:
            return [label for label in labels if label in self.classes]
        return None if any(label not in self.classes for label in labels) else labels

    def _probabilities(self, row: dict[str, Any]) -> dict[str, float] | None:
        """The shown prediction's probabilities by label (the prediction's schema may be an older version)."""
        values, schema_id = row.get("shown_probabilities"), row.get("shown_schema")
        if not self.options["include_predictions"] or not values or schema_id is None or self.schema_classes is None:
            return None
        if schema_id not in self._classes_of:
            self._classes_of[schema_id] = self.schema_classes(schema_id)
        return {label: float(p) for label, p in zip(self._classes_of[schema_id], values, strict=False)}

    def _extra(self, row: dict[str, Any]) -> dict[str, Any]:
        if not self.with_extra:
            return {}
        return {
            "source": row["final_source"],
            "schema_version": row["schema_version"],
            "created_at": row["created_at"].isoformat() if row["created_at"] else None,
            "decided_at": row["decided_at"].isoformat() if row["decided_at"] else None,
            "probabilities": self._probabilities(row),
        }

    def __iter__(self) -> Iterator[ExportRecord]:
        with_predictions = self.options["include_predictions"]
        ratios, seed = self.options["split"], self.options["seed"]
        image = self.spec.is_image
        for row in self.rows:
            self.read += 1
            final = row["final_labels"]
            if final is None and self.options.get("model_predictions"):
                final = row["shown_labels"]  # asked for: the model's labels where no one decided yet
            labels = self._labels(final)
            if labels is None:
                self.unknown_label += 1
                continue
            predicted = row["shown_labels"] if with_predictions else None
            if isinstance(predicted, str):
                predicted = [predicted]
            name = row["file"]
            yield ExportRecord(
                item_id=row["id"],
                file_name=row["original_name"],
                split=item_split(item_id=row["id"], seed=seed, ratios=ratios),
                text=None if image else row["text"],
                open_bytes=partial(_stored_open, name) if image and name else None,
                mime_type=row["mime_type"],
                width=row["width"],
                height=row["height"],
                labels=labels,
                predicted_labels=[label for label in predicted or () if label in self.classes],
                confidence=row["shown_confidence"] if with_predictions else None,
                model_name=(row["shown_model"] or "") if with_predictions else "",
                reviewer=row["reviewer"] if row["final_source"] == Item.FinalSource.REVIEW else None,
                state=row["state"],
                extra=self._extra(row),
            )


def _stored_open(name: str) -> BinaryIO:
    return cast(BinaryIO, default_storage.open(name, "rb"))


def _claim(export_id: int) -> Export | None:
    """Mark the export running under a new attempt number; None or a finished export means nothing to do."""
    with transaction.atomic():
        export = (Export.objects.select_for_update(of=("self",)).select_related("project", "schema")
                  .filter(pk=export_id).first())
        if export is None or export.is_finished:
            return None
        export.status = Export.Status.RUNNING
        export.attempts += 1
        export.started_at = timezone.now()
        export.processed = export.written = export.skipped = 0
        export.error = ""
        export.save(update_fields=["status", "attempts", "started_at", "processed", "written", "skipped", "error"])
        return export


def _spec(export: Export, *, class_names: list[str], parents: dict[str, str | None]) -> ExportSpec:
    if export.options["labels"] is not None:
        class_names = list(export.options["labels"])
    return ExportSpec(
        project_name=export.project.name, project_type=export.project.project_type, class_names=class_names,
        multi_label=export.schema.multi_label, category_parents={name: parents.get(name) for name in class_names},
        export_id=export.public_id, created_at=export.created_at,
        columns=tuple((FIELD_COLUMNS[name], export.options.get("rename", {}).get(name, ""))
                      for name in export.options.get("fields") or ()),
        splits=tuple(name for name in SPLITS if export.options["split"].get(name, 0) > 0),
    )


def _storage_name(export: Export) -> str:
    # One name per attempt: a run that lost to a newer one never overwrites the winner's file.
    return f"{project_storage_prefix(export.project_id)}exports/{export.public_id}-{export.attempts}.zip"


def export_run(*, export_id: int) -> Export | None:
    """Write the export's ZIP (on a worker): stream the selected items into the format's writer on
    local disk, copy the ZIP to storage, record the counts. Safe to run twice. An error propagates: the
    task (exports.tasks.export_run) retries or records it, in one place."""
    export = _claim(export_id)
    if export is None:
        return None
    attempt = export.attempts
    try:
        return _write(export, attempt)
    except ExportSuperseded:
        logger.info("export %s: attempt %s superseded by a newer one", export.public_id, attempt)
        return None


def _write(export: Export, attempt: int) -> Export | None:
    class_names, parents = selectors.schema_classes(schema=export.schema)
    spec = _spec(export, class_names=class_names, parents=parents)
    items = selectors.export_selection(project_id=export.project_id, job_id=export.job_id, options=export.options)
    total = items.count()
    Export.objects.filter(pk=export.pk, attempts=attempt).update(total=total)
    fields = export.options.get("fields") or ()
    rows = selectors.export_rows(items=items, chunk_size=settings.EXPORT_CHUNK_SIZE,
                                 with_probabilities="probabilities" in fields)
    stream = RecordStream(rows, spec=spec, options=export.options,
                          schema_classes=lambda schema_id: selectors.schema_classes_by_id(schema_id=schema_id))
    reported = [0]

    def progress(_done: int) -> None:
        if stream.read - reported[0] < settings.EXPORT_PROGRESS_EVERY:
            return
        reported[0] = stream.read
        # Its own short transaction (no read is open on this connection between pages of rows).
        with transaction.atomic():
            if not Export.objects.filter(pk=export.pk, attempts=attempt, status=Export.Status.RUNNING).update(
                    processed=stream.read):
                raise ExportSuperseded()

    with tempfile.TemporaryFile(dir=settings.EXPORT_TEMP_DIR, prefix="export-") as local:
        try:
            with zipfile.ZipFile(local, "w", allowZip64=True) as zf:
                summary = write_export(export.format, zf, spec, stream, progress=progress)
        finally:
            rows.close()
        size = local.seek(0, 2)
        local.seek(0)
        name = default_storage.save(_storage_name(export), File(local, name=export.download_name))
    try:
        return _finish(export, attempt=attempt, name=name, size=size, total=total, read=stream.read,
                       written=summary.items_written, skipped=summary.items_skipped + stream.unknown_label)
    except BaseException:
        stored_files_delete(names=[name])
        raise


def _finish(export: Export, *, attempt: int, name: str, size: int, total: int, read: int, written: int,
            skipped: int) -> Export | None:
    with transaction.atomic():
        current = Export.objects.select_for_update(of=("self",)).filter(pk=export.pk).first()
        if current is None or current.status != Export.Status.RUNNING or current.attempts != attempt:
            raise ExportSuperseded()  # the caller deletes this run's file
        now = timezone.now()
        current.status = Export.Status.SUCCEEDED
        current.file.name = name
        current.size_bytes = size
        current.total = max(total, read)  # items added between the count and the read are in it too
        current.processed = read
        current.written = written
        current.skipped = skipped
        current.finished_at = now
        current.expires_at = now + timedelta(hours=settings.EXPORT_TTL_HOURS)
        current.save()
        audit_record(actor=current.created_by, organization=export.project.organization, action=AuditEvent.Action.EXPORT_COMPLETED,
                     target=current, metadata={"project": current.project_id, "format": current.format,
                                               "written": written, "skipped": skipped, "bytes": size})
    return current


def export_fail(*, export_id: int, error: BaseException, attempt: int | None = None) -> None:
    """Record why an export stopped: a writer's refusal as written; anything else by its type only
    (its text may hold server paths; the worker logs it). A finished export, or one another attempt
    has taken over, is left as it is."""
    if isinstance(error, ExportError | DomainError):
        message = str(error)
    else:
        message = EXPORT_STOPPED.format(error=type(error).__name__)
        logger.error("export %s failed", export_id, exc_info=error)
    with transaction.atomic():
        export = (Export.objects.select_for_update(of=("self",)).select_related("project__organization")
                  .filter(pk=export_id).first())
        if export is None or export.is_finished or (attempt is not None and export.attempts != attempt):
            return
        now = timezone.now()
        export.status = Export.Status.FAILED
        export.error = message
        export.finished_at = now
        export.expires_at = now + timedelta(hours=settings.EXPORT_TTL_HOURS)
        export.save(update_fields=["status", "error", "finished_at", "expires_at"])
        audit_record(actor=export.created_by, organization=export.project.organization, action=AuditEvent.Action.EXPORT_FAILED,
                     target=export, metadata={"project": export.project_id, "error": message})


# --- expiry -------------------------------------------------------------------------------------

def exports_expire(*, now=None, limit: int | None = None) -> int:
    """Mark finished exports past their time expired and delete their files; returns how many.

    Run it periodically (the ``exports.tasks.exports_expire`` task); every create also sweeps a few.
    """
    now = now or timezone.now()
    finished = (Export.objects.filter(status__in=(Export.Status.SUCCEEDED, Export.Status.FAILED), expires_at__lte=now)
                .order_by("expires_at").values_list("id", "file"))
    due = list(finished[:limit] if limit is not None else finished)
    if not due:
        return 0
    expired = Export.objects.filter(id__in=[pk for pk, _ in due],
                                    status__in=(Export.Status.SUCCEEDED, Export.Status.FAILED)).update(
        status=Export.Status.EXPIRED, file="")
    # At once outside a transaction; inside one, only once the rows are committed as expired.
    transaction.on_commit(lambda: stored_files_delete(names=[name for _, name in due if name]))
    return expired
