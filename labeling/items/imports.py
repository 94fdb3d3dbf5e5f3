"""Uploads turned into items: checked whole first, then imported at once or on a worker.

``upload_receive`` is the entry point. It reads every file once before writing anything
(``upload_inspect``), so a bad ZIP, a CSV that is not UTF-8 or a JSON that does not parse is a
400 that leaves no trace. Small uploads import inside one transaction and answer with the
report; large ones are staged in storage and imported by ``import_job_run`` on the ``default``
queue, committing batch by batch while the client polls the ``ImportJob``.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import cached_property, partial
from typing import Any, BinaryIO, cast

from celery import current_app
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from accounts.models import AuditEvent, User
from accounts.services import audit_record
from labeling import task_names
from labeling.items.services import ItemWriter, PendingItem, text_hash
from labeling.lifecycle import labels_added
from labeling.models import HumanLabel, ImportJob
from labeling.uploads import messages, readers, sniff
from labeling.uploads.archives import entry_name, zip_entries, zip_open
from labeling.uploads.limits import UploadLimits
from labeling.uploads.report import ImportReport
from labeling.uploads.sniff import Rejected
from modelship.exceptions import DomainError
from projects.models import LabelSchema, Project
from projects.schemas import labels_validate
from projects.selectors import schema_current
from projects.storage import project_storage_prefix, stored_files_delete

logger = logging.getLogger(__name__)

CHUNK = 1024 * 1024
SPOOL_MEMORY_BYTES = 256 * 1024
ENTRY_DAMAGED = "The archive entry is damaged (its data does not match its checksum)."
MAX_CHECKED_LABEL_SETS = 10_000  # distinct label sets remembered per upload
IMPORT_FAILED = "The import failed unexpectedly ({error}); items imported before the failure were kept."


@dataclass
class UploadFile:
    """One uploaded file: in the request (``stream``), or staged in storage for a worker (``path``)."""

    name: str
    size: int
    stream: BinaryIO | None = None
    path: str | None = None

    @classmethod
    def from_upload(cls, uploaded) -> UploadFile:
        return cls(name=uploaded.name or "upload", size=uploaded.size or 0, stream=uploaded.file)

    @contextmanager
    def open(self) -> Iterator[BinaryIO]:
        if self.stream is not None:  # the request owns it and closes it
            self.stream.seek(0)
            yield self.stream
        else:
            with default_storage.open(self.path, "rb") as stored:
                yield cast(BinaryIO, stored)


class Member:
    """A file to import: an uploaded file, or one entry of an uploaded ZIP. Its kind is read from
    its first bytes when first asked (a walk that only wants label files never opens the images)."""

    def __init__(self, *, name: str, archive: str, size: int, opener: Callable[[], AbstractContextManager],
                 kind: str | None = None, persistent: bool = False, max_bytes: int = 0):
        self.name = name
        self.archive = archive  # the uploaded ZIP it came from, or ""
        self.size = size
        self.opener = opener  # () -> context manager of a binary stream
        self.persistent = persistent  # the stream stays open after the walk (a request's own upload)
        self._max_bytes = max_bytes
        if kind is not None:
            self.kind = kind

    @cached_property
    def kind(self) -> str:
        if not 0 < self.size <= self._max_bytes:
            return sniff.UNSUPPORTED  # refused for its size before its kind matters
        try:
            with self.opener() as stream:
                return sniff.sniff(stream.read(sniff.HEAD_BYTES), self.name)
        except (zipfile.BadZipFile, zlib.error, EOFError):
            return sniff.DAMAGED

    @property
    def container(self) -> str:
        return self.archive

    @property
    def may_hold_labels(self) -> bool:
        return sniff.suffix(self.name) in sniff.EXTENSIONS and self.kind in (sniff.CSV, sniff.JSON, sniff.JSONL)


def _head(stream: BinaryIO) -> bytes:
    head = stream.read(sniff.HEAD_BYTES)
    stream.seek(0)
    return head


@contextmanager
def _members(upload: UploadFile, *, limits: UploadLimits) -> Iterator[Iterator[Member]]:
    """The members of one uploaded file: itself, or the entries of the ZIP it is (checked first)."""
    with upload.open() as stream:
        kind = sniff.sniff(_head(stream), upload.name) if upload.size else sniff.UNSUPPORTED
        if kind != sniff.ZIP or upload.size > limits.max_file_bytes:
            @contextmanager
            def reopen():
                stream.seek(0)
                yield stream

            yield iter([Member(name=upload.name, archive="", size=upload.size, kind=kind, opener=reopen,
                               persistent=upload.stream is not None)])
            return
        with zip_open(stream, archive=upload.name, limits=limits) as archive:
            def entries() -> Iterator[Member]:
                for info in zip_entries(archive):
                    yield Member(name=entry_name(info), archive=upload.name, size=info.file_size,
                                 opener=partial(archive.open, info), max_bytes=limits.max_file_bytes)

            yield entries()


# --- Checking the whole upload before writing ------------------------------------------------

@dataclass
class Inspection:
    items: int
    bytes: int


def _inspect_member(member: Member, *, project: Project, text_mode: str, limits: UploadLimits) -> int:
    """Read a text member whole (raising 400 when it is unusable); return how many items it holds."""
    file = f"{member.archive}/{member.name}" if member.archive else member.name
    if sniff.suffix(member.name) not in sniff.EXTENSIONS:
        return 1  # not a text file: images and the rest are checked one by one as they import
    if member.kind not in sniff.TEXT_KINDS or member.size > limits.max_file_bytes or member.size == 0:
        return 1
    is_image_project = project.item_kind == "image"
    if member.kind == sniff.TXT and is_image_project:
        return 1
    if member.kind == sniff.JSON and member.size > limits.max_json_bytes:
        return 1
    try:
        with member.opener() as stream:
            if member.kind == sniff.CSV:
                rows = readers.csv_check(stream, file=file, item_kind=project.item_kind,
                                         max_text_chars=limits.max_text_chars)
            elif member.kind == sniff.JSON:
                rows = readers.json_check(stream, file=file)
            else:
                rows = readers.utf8_check(stream, file=file)
                if member.kind == sniff.TXT and text_mode == "whole":
                    rows = 1
    except (zipfile.BadZipFile, zlib.error, EOFError):
        raise DomainError(messages.ZIP_UNREADABLE.format(archive=member.archive), field="files") from None
    return 0 if is_image_project else rows  # an image project's CSV and JSON only label its images


def upload_inspect(*, files: list[UploadFile], project: Project, text_mode: str,
                   limits: UploadLimits) -> Inspection:
    """Read every file once, writing nothing: 400 for anything that cannot be imported at all."""
    items = 0
    for upload in files:
        with _members(upload, limits=limits) as members:
            for member in members:
                items += _inspect_member(member, project=project, text_mode=text_mode, limits=limits)
    return Inspection(items=items, bytes=sum(f.size for f in files))


# --- Importing -------------------------------------------------------------------------------

@dataclass
class ManifestRow:
    labels: list[str]
    file: str
    archive: str
    line: int | None
    ref: str


class LabelManifest:
    """Labels for an image project's images, read from its CSV and JSON files before the images.

    A row names an image by its path in the same archive (or upload) or by its bare file name;
    a CSV at the top of the upload may name an image in any of its archives.
    """

    def __init__(self):
        self.rows: dict[tuple[str, str], ManifestRow] = {}

    @staticmethod
    def normalise(ref: str) -> str:
        ref = ref.strip().replace("\\", "/")
        while ref.startswith("./"):
            ref = ref[2:]
        return ref

    def add(self, *, container: str, row: ManifestRow) -> bool:
        key = (container, self.normalise(row.ref))
        if key in self.rows:
            return False
        self.rows[key] = row
        return True

    def take(self, *, container: str, path: str) -> tuple[ManifestRow | None, list[ManifestRow]]:
        """The row that labels this image, and any other rows that name it too (refused as repeats)."""
        base = path.rsplit("/", 1)[-1]
        keys = dict.fromkeys(((container, path), (container, base), ("", path), ("", base)))
        found = [row for key in keys if (row := self.rows.pop(key, None)) is not None]
        return (found[0] if found else None), found[1:]

    def leftovers(self) -> list[ManifestRow]:
        rows = sorted(self.rows.values(), key=lambda r: (r.archive, r.file, r.line or 0))
        self.rows = {}
        return rows


class Importer:
    """Walks the members of an upload and feeds the item writer; records every outcome."""

    def __init__(self, *, project: Project, schema: LabelSchema | None, text_mode: str, limits: UploadLimits,
                 writer: ItemWriter, report: ImportReport):
        self.project = project
        self.schema = schema
        self.text_mode = text_mode
        self.limits = limits
        self.writer = writer
        self.report = report
        self.manifest = LabelManifest()
        self._checked: dict[tuple[str, ...], list[str] | Rejected] = {}  # label set -> canonical, or why not

    def run(self, files: list[UploadFile]) -> None:
        for upload in files:
            self.report.file_seen(name=upload.name, kind=self._top_kind(upload))
        if self.project.item_kind == "image":
            for upload in files:  # first the labels, so each image meets its row as it is stored
                with _members(upload, limits=self.limits) as members:
                    for member in members:
                        if member.may_hold_labels:
                            self._read_manifest(member)
        for upload in files:
            with _members(upload, limits=self.limits) as members:
                for member in members:
                    self._import_member(member)
        self.writer.flush()
        for row in self.manifest.leftovers():
            self.report.rejected(file=row.file, archive=row.archive, line=row.line,
                                 reason=messages.FILE_REF_NOT_FOUND.format(ref=row.ref))

    @staticmethod
    def _top_kind(upload: UploadFile) -> str:
        with upload.open() as stream:
            return sniff.sniff(_head(stream), upload.name) if upload.size else sniff.UNSUPPORTED

    def _reject(self, member: Member, reason: str, line: int | None = None) -> None:
        self.report.rejected(file=member.name, archive=member.archive, line=line, reason=reason)

    def _labels(self, labels: list[str] | None) -> list[str] | None:
        """Validated labels (None when the row gave none); raises Rejected with the schema's reason.
        Rows mostly repeat a few label sets: each distinct one is checked once."""
        if labels is None:
            return None
        key = tuple(labels)
        known = self._checked.get(key)
        if known is None:
            known = self._check_labels(labels)
            if len(self._checked) < MAX_CHECKED_LABEL_SETS:
                self._checked[key] = known
        if isinstance(known, Rejected):
            raise Rejected(known.reason)
        return known

    def _check_labels(self, labels: list[str]) -> list[str] | Rejected:
        if self.schema is None:
            return Rejected(messages.LABELS_WITHOUT_SCHEMA)
        try:
            return labels_validate(schema=self.schema, labels=labels)
        except DomainError as exc:
            return Rejected(exc.message)

    def _import_member(self, member: Member) -> None:
        if member.size > self.limits.max_file_bytes:
            return self._reject(member, messages.FILE_TOO_LARGE.format(limit=self.limits.max_file_bytes))
        if member.size == 0:
            return self._reject(member, messages.FILE_EMPTY)
        if member.kind == sniff.DAMAGED:
            return self._reject(member, ENTRY_DAMAGED)
        if member.kind == sniff.ZIP:
            return self._reject(member, messages.NESTED_ARCHIVE)
        if member.kind == sniff.UNSUPPORTED:
            return self._reject(member, messages.UNSUPPORTED_TYPE)
        if member.kind == sniff.IMAGE:
            if self.project.item_kind != "image":
                return self._reject(member, messages.IMAGE_IN_TEXT_PROJECT)
            return self._import_image(member)
        if self.project.item_kind == "image":
            if member.kind == sniff.TXT:
                self._reject(member, messages.TEXT_IN_IMAGE_PROJECT)
            return None  # label files were read before the images
        if member.kind == sniff.JSON and member.size > self.limits.max_json_bytes:
            return self._reject(member, messages.JSON_TOO_LARGE.format(limit=self.limits.max_json_bytes))
        return self._import_texts(member)

    def _rows(self, member: Member, stream: BinaryIO) -> Iterator[readers.Row]:
        kind, item_kind, limit = member.kind, self.project.item_kind, self.limits.max_text_chars
        if kind == sniff.CSV:
            return readers.csv_rows(stream, item_kind=item_kind, max_text_chars=limit)
        if kind == sniff.JSON:
            return readers.json_rows(stream, file=member.name, item_kind=item_kind, max_text_chars=limit)
        if kind == sniff.JSONL:
            return readers.jsonl_rows(stream, item_kind=item_kind, max_text_chars=limit)
        return readers.txt_rows(stream, mode=self.text_mode, max_text_chars=limit)

    def _import_texts(self, member: Member) -> None:
        with member.opener() as stream:
            for row in self._rows(member, stream):
                if row.error:
                    self._reject(member, row.error, row.line)
                    continue
                try:
                    labels = self._labels(row.labels)
                except Rejected as exc:
                    self._reject(member, exc.reason, row.line)
                    continue
                content_hash, size = text_hash(row.text)
                metadata: dict[str, Any] = {}
                if row.line is not None:
                    metadata["line"] = row.line
                if row.extras:
                    metadata["fields"] = row.extras
                self.writer.add(PendingItem(
                    kind="text", content_hash=content_hash, size=size, file=member.name, archive=member.archive,
                    line=row.line, original_name=member.name, labels=labels, metadata=metadata, text=row.text,
                ))

    def _read_manifest(self, member: Member) -> None:
        if member.size == 0 or member.size > self.limits.max_file_bytes or (
            member.kind == sniff.JSON and member.size > self.limits.max_json_bytes
        ):
            return  # refused with its reason when the members are walked
        with member.opener() as stream:
            for row in self._rows(member, stream):
                if row.error:
                    self._reject(member, row.error, row.line)
                    continue
                if row.labels is None:
                    continue  # a row that only names a file adds nothing
                try:
                    labels = self._labels(row.labels)
                except Rejected as exc:
                    self._reject(member, exc.reason, row.line)
                    continue
                entry = ManifestRow(labels=labels, file=member.name, archive=member.archive, line=row.line,
                                    ref=row.file)
                if not self.manifest.add(container=member.container, row=entry):
                    self._reject(member, messages.FILE_REF_REPEATED.format(ref=row.file), row.line)

    def _import_image(self, member: Member) -> None:
        content, owned = None, False
        try:
            with member.opener() as stream:
                if not member.persistent:  # copied once into a temporary file: seekable, hashed on the way
                    content, content_hash, size = _spool(stream, limit=self.limits.max_file_bytes)
                    owned = True
                else:
                    content, content_hash, size = stream, _hash(stream), member.size
                if self.writer.seen_in_batch(content_hash) is None:
                    info = sniff.image_inspect(content, max_pixels=self.limits.max_image_pixels)
                else:
                    info = None  # the same bytes are already waiting in this batch
        except Rejected as exc:
            if owned:
                content.close()
            return self._reject(member, exc.reason)
        except (zipfile.BadZipFile, zlib.error, EOFError):
            if owned and content is not None:
                content.close()
            return self._reject(member, ENTRY_DAMAGED)
        labelled, repeats = self.manifest.take(container=member.container, path=member.name)
        for row in repeats:
            self.report.rejected(file=row.file, archive=row.archive, line=row.line,
                                 reason=messages.FILE_REF_REPEATED.format(ref=row.ref))
        self.writer.add(PendingItem(
            kind="image", content_hash=content_hash, size=size, file=member.name, archive=member.archive,
            line=None, original_name=member.name, labels=labelled.labels if labelled else None,
            metadata={"labels_from": {"file": labelled.file, "line": labelled.line}} if labelled else {},
            content=content, owns_content=owned, image=info,
        ))


def _hash(stream: BinaryIO) -> str:
    digest = hashlib.sha256()
    stream.seek(0)
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()


def _spool(source: BinaryIO, *, limit: int) -> tuple[BinaryIO, str, int]:
    """Copy an archive entry into a seekable file, hashing on the way: small ones stay in memory
    (at most ``MAX_OPEN_FILES`` wait in a batch), larger ones roll over to a temporary file."""
    target = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES, dir=settings.FILE_UPLOAD_TEMP_DIR)
    digest = hashlib.sha256()
    size = 0
    try:
        while chunk := source.read(CHUNK):
            size += len(chunk)
            if size > limit:  # the archive understated the entry's size
                raise Rejected(messages.FILE_TOO_LARGE.format(limit=limit))
            digest.update(chunk)
            target.write(chunk)
    except BaseException:
        target.close()
        raise
    target.seek(0)
    return cast(BinaryIO, target), digest.hexdigest(), size


def _run_import(*, job: ImportJob, files: list[UploadFile], limits: UploadLimits, uncommitted: list[str],
                on_flush=None) -> ImportReport:
    project = job.project
    report = ImportReport(max_rows=limits.report_max_rows)
    writer = ItemWriter(project=project, uploaded_by=job.created_by, report=report, batch_size=limits.batch_size,
                        schema=schema_current(project=project), import_job=job, on_flush=on_flush,
                        uncommitted_names=uncommitted)
    Importer(project=project, schema=writer.schema, text_mode=job.text_mode, limits=limits,
             writer=writer, report=report).run(files)
    return report


def _finish(job: ImportJob, report: ImportReport) -> ImportJob:
    job.status = ImportJob.Status.SUCCEEDED
    job.total = job.processed = report.processed
    job.accepted = report.counts["accepted"]
    job.duplicates = report.counts["duplicates"]
    job.rejected = report.counts["rejected"]
    job.report = report.as_dict()
    job.finished_at = timezone.now()
    job.staged_files = []
    job.save()
    audit_record(actor=job.created_by, organization=job.project.organization, action=AuditEvent.Action.IMPORT_COMPLETED,
                 target=job, metadata={"project": job.project_id, **report.counts})
    labelled = HumanLabel.objects.filter(item__import_job=job, source=HumanLabel.Source.IMPORT).count()
    if labelled:
        labels_added(project_id=job.project_id, count=labelled)  # imported labels teach the model too
    return job


def upload_receive(*, project: Project, files: list[UploadFile], text_mode: str, uploaded_by: User,
                   force_sync: bool = False) -> ImportJob:
    """Import an upload: at once (the job comes back finished) or on a worker (it comes back queued).
    ``force_sync`` imports at once whatever the size (callers that bound the size themselves)."""
    if project.status == Project.Status.ARCHIVED:
        raise DomainError(messages.PROJECT_ARCHIVED, field="project")
    if not files:
        raise DomainError(messages.NO_FILES, field="files")
    limits = UploadLimits.from_settings()
    inspection = upload_inspect(files=files, project=project, text_mode=text_mode, limits=limits)
    if not force_sync and (inspection.items > limits.async_items or inspection.bytes > limits.async_bytes):
        return _import_enqueue(project=project, files=files, text_mode=text_mode, uploaded_by=uploaded_by,
                               inspection=inspection)
    uncommitted: list[str] = []  # files written for rows not yet committed
    try:
        with transaction.atomic():
            job = ImportJob.objects.create(
                project=project, status=ImportJob.Status.RUNNING, text_mode=text_mode, total=inspection.items,
                total_bytes=inspection.bytes, created_by=uploaded_by, started_at=timezone.now(),
            )
            report = _run_import(job=job, files=files, limits=limits, uncommitted=uncommitted)
            return _finish(job, report)
    except BaseException:
        stored_files_delete(names=uncommitted)
        raise


def _import_enqueue(*, project: Project, files: list[UploadFile], text_mode: str, uploaded_by: User,
                    inspection: Inspection) -> ImportJob:
    staged: list[dict] = []
    try:
        with transaction.atomic():
            job = ImportJob.objects.create(
                project=project, status=ImportJob.Status.QUEUED, is_async=True, text_mode=text_mode,
                total=inspection.items, total_bytes=inspection.bytes, created_by=uploaded_by,
            )
            prefix = f"{project_storage_prefix(project.pk)}imports/{job.pk}/"
            for index, upload in enumerate(files):
                with upload.open() as stream:
                    path = default_storage.save(f"{prefix}{index:05d}", File(stream, name=upload.name))
                staged.append({"path": path, "name": upload.name, "size": upload.size})
            job.staged_files = staged
            job.save(update_fields=["staged_files"])
            audit_record(actor=uploaded_by, organization=project.organization, action=AuditEvent.Action.IMPORT_QUEUED, target=job,
                         metadata={"project": project.pk, "files": len(files), "items": inspection.items,
                                   "bytes": inspection.bytes})
            transaction.on_commit(lambda: current_app.send_task(task_names.IMPORT_RUN, args=[job.pk]))
    except BaseException:
        stored_files_delete(names=[s["path"] for s in staged])
        raise
    return job


def import_job_run(*, import_job_id: int) -> ImportJob | None:
    """Run a queued import on a worker; a finished one is left alone, so a second delivery is harmless."""
    with transaction.atomic():
        job = (ImportJob.objects.select_for_update(of=("self",)).select_related("project__organization", "created_by")
               .filter(pk=import_job_id).first())
        if job is None or job.is_finished:
            return job
        job.status = ImportJob.Status.RUNNING
        job.started_at = job.started_at or timezone.now()
        job.processed = job.accepted = job.duplicates = job.rejected = 0
        job.save(update_fields=["status", "started_at", "processed", "accepted", "duplicates", "rejected"])
    files = [UploadFile(name=s["name"], size=s["size"], path=s["path"]) for s in job.staged_files]
    staged = [s["path"] for s in job.staged_files]

    def progress(report: ImportReport) -> None:
        ImportJob.objects.filter(pk=job.pk).update(
            processed=report.processed, accepted=report.counts["accepted"],
            duplicates=report.counts["duplicates"], rejected=report.counts["rejected"],
        )

    uncommitted: list[str] = []
    try:
        report = _run_import(job=job, files=files, limits=UploadLimits.from_settings(), uncommitted=uncommitted,
                             on_flush=progress)
    except BaseException:
        stored_files_delete(names=uncommitted)
        raise
    with transaction.atomic():
        _finish(job, report)
        transaction.on_commit(lambda: stored_files_delete(names=staged))
    return job


def import_job_fail(*, import_job_id: int, error: BaseException) -> None:
    """Record why an import stopped, and drop its staged files. Items already committed stay."""
    message = error.message if isinstance(error, DomainError) else IMPORT_FAILED.format(
        error=f"{type(error).__name__}: {error}"[:500])
    with transaction.atomic():
        job = ImportJob.objects.select_for_update(of=("self",)).select_related("project__organization").filter(
            pk=import_job_id).first()
        if job is None or job.is_finished:
            return
        staged = [s["path"] for s in job.staged_files]
        job.status = ImportJob.Status.FAILED
        job.error = message
        job.finished_at = timezone.now()
        job.staged_files = []
        job.save(update_fields=["status", "error", "finished_at", "staged_files"])
        audit_record(actor=job.created_by, organization=job.project.organization, action=AuditEvent.Action.IMPORT_FAILED,
                     target=job, metadata={"project": job.project_id, "error": message})
        transaction.on_commit(lambda: stored_files_delete(names=staged))
