"""Creating items in batches (dedupe, store, insert, never an orphan) and deleting them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import AuditEvent, User
from accounts.services import audit_record
from labeling.items.files import thumbnail_name
from labeling.lifecycle import item_imported_fields
from labeling.models import HumanLabel, ImportJob, Item, item_file_name
from labeling.uploads.report import ImportReport
from labeling.uploads.sniff import ImageInfo
from modelship import bulk
from modelship.exceptions import DomainError
from projects.models import LabelSchema, Project, ProjectRole
from projects.storage import stored_files_delete

# The lifecycle fields of an item imported without labels (the same for every such row).
UNDECIDED = item_imported_fields(labels=None, schema_id=None, user_id=None, now=None)
UNDECIDED_VALUES = tuple(UNDECIDED.values())
# The columns an import writes, in ``ItemWriter._row``'s order; every other column takes its default.
ITEM_COLUMNS = ("project_id", "kind", "text", "file", "content_hash", "original_name", "mime_type", "size_bytes",
                "width", "height", "source_archive", "metadata", "import_job_id", "uploaded_by_id", "created_at",
                *UNDECIDED)
LABEL_COLUMNS = ("item_id", "labels", "schema_id", "source", "created_by_id", "created_at")
MAX_OPEN_FILES = 100  # images waiting in a batch each hold a spooled file (memory, or a descriptor)


def text_hash(text: str) -> tuple[str, int]:
    """(sha256 hex, size in bytes) of a text item, as stored."""
    data = text.encode("utf-8")
    return hashlib.sha256(data).hexdigest(), len(data)


@dataclass(slots=True)
class PendingItem:
    kind: str
    content_hash: str
    size: int
    file: str  # the name shown in the report
    archive: str
    line: int | None
    original_name: str
    labels: list[str] | None = None  # validated against the writer's schema
    metadata: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    content: BinaryIO | None = None  # image bytes, seekable
    owns_content: bool = False  # a temporary file the writer closes
    image: ImageInfo | None = None
    duplicates: list[tuple[str, str, int | None]] = field(default_factory=list)  # same content, same batch


class ItemWriter:
    """Writes items in batches: one dedupe query, the image files, then one atomic insert of rows.

    Files are written before their rows; when a batch fails its files are deleted at once. Inside
    an outer transaction (a synchronous upload) the names stay on ``uncommitted_names`` until the
    caller commits; the caller deletes them if it rolls back instead.
    """

    def __init__(
        self, *, project: Project, uploaded_by: User | None, report: ImportReport, batch_size: int,
        schema: LabelSchema | None = None, import_job: ImportJob | None = None,
        on_flush: Callable[[ImportReport], None] | None = None, uncommitted_names: list[str] | None = None,
    ):
        self.project = project
        self.uploaded_by = uploaded_by
        self.report = report
        self.batch_size = max(1, batch_size)
        self.schema = schema
        self.import_job = import_job
        self.on_flush = on_flush
        self.pending: dict[str, PendingItem] = {}
        self.open_files = 0
        # Files written whose rows are not committed for good yet; shared with the caller, who
        # deletes them if its own transaction rolls back.
        self.uncommitted_names: list[str] = uncommitted_names if uncommitted_names is not None else []
        # Contents this run has reported accepted (64-bit prefixes of their hashes): an item of this
        # import already in the database is this run's own when its content is here, else a row an
        # earlier run wrote before it crashed.
        self.accepted_here: set[int] = set()

    def seen_in_batch(self, content_hash: str) -> PendingItem | None:
        return self.pending.get(content_hash)

    def add(self, item: PendingItem) -> None:
        """Queue an item; a second copy of the same content in this batch is reported with the first."""
        first = self.pending.get(item.content_hash)
        if first is not None:
            first.duplicates.append((item.file, item.archive, item.line))
            if item.owns_content and item.content is not None:
                item.content.close()
            return
        self.pending[item.content_hash] = item
        if item.owns_content:
            self.open_files += 1
        if len(self.pending) >= self.batch_size or self.open_files >= MAX_OPEN_FILES:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        try:
            try:
                self._write()
            except IntegrityError:
                # Another upload stored some of this content meanwhile: read again, write the rest.
                self._write()
        finally:
            for item in self.pending.values():
                if item.owns_content and item.content is not None:
                    item.content.close()
            self.pending = {}
            self.open_files = 0

    def _write(self) -> None:
        self._user_id = self.uploaded_by.pk if self.uploaded_by else None
        self._project_id = self.project.pk
        self._job_id = self.import_job.pk if self.import_job else None
        self._now = timezone.now()
        self._decided: dict[tuple[str, ...], tuple] = {}
        self._encoded: dict[tuple[str, ...], bulk.EncodedJson] = {}
        pending = list(self.pending.values())
        scope = {"project_id": self.project.pk}
        existing = {
            content_hash: (item_id, job_id)
            for content_hash, item_id, job_id in bulk.rows_matching(
                model=Item, columns=("content_hash", "id", "import_job_id"), equal=scope, key="content_hash",
                values=[p.content_hash for p in pending])
        }
        new = [p for p in pending if p.content_hash not in existing]
        written: list[str] = []
        try:
            rows = [self._row(p, written) for p in new]
            with transaction.atomic():
                ids = bulk.rows_insert_ids(model=Item, columns=ITEM_COLUMNS, rows=rows, key="content_hash",
                                           equal=scope)
                labelled = [p for p in new if p.labels is not None]
                if labelled:
                    bulk.rows_insert(model=HumanLabel, columns=LABEL_COLUMNS, rows=[
                        (ids[p.content_hash], self._json(p.labels), self.schema.pk, HumanLabel.Source.IMPORT.value,
                         self._user_id, self._now) for p in labelled])
                self._report(pending, existing, ids)
                if self.on_flush is not None:
                    self.on_flush(self.report)
        except BaseException:
            stored_files_delete(names=written)
            gone = set(written)
            self.uncommitted_names[:] = [n for n in self.uncommitted_names if n not in gone]
            raise
        if not connection.in_atomic_block:  # committed for good: these files now belong to rows
            self.uncommitted_names.clear()

    def _json(self, labels: list[str]) -> bulk.EncodedJson:
        """A label set as JSON, encoded once per batch however many rows carry it."""
        key = tuple(labels)
        encoded = self._encoded.get(key)
        if encoded is None:
            encoded = self._encoded[key] = bulk.EncodedJson(json.dumps(labels))
        return encoded

    def _decided_values(self, labels: list[str] | None) -> tuple:
        """The lifecycle columns of a new item with ``labels``, built once per label set and batch."""
        if labels is None:
            return UNDECIDED_VALUES
        key = tuple(labels)
        values = self._decided.get(key)
        if values is None:
            fields = item_imported_fields(labels=labels, schema_id=self.schema.pk, user_id=self._user_id, now=self._now)
            fields["final_labels"] = self._json(labels)
            values = self._decided[key] = tuple(fields.values())
        return values

    def _row(self, p: PendingItem, written: list[str]) -> tuple:
        """The values of ``ITEM_COLUMNS`` for one new item (its image file written first)."""
        name = ""
        if p.content is not None and p.image is not None:
            p.content.seek(0)
            target = item_file_name(project_id=self.project.pk, content_hash=p.content_hash,
                                    extension=p.image.extension)
            name = default_storage.save(target, File(p.content, name=target))
            written.append(name)
            self.uncommitted_names.append(name)
        image = p.image
        return (
            self._project_id, p.kind, p.text, name, p.content_hash, p.original_name[:500],
            image.mime_type if image else "text/plain", p.size, image.width if image else None,
            image.height if image else None, p.archive[:500], p.metadata, self._job_id, self._user_id, self._now,
            *self._decided_values(p.labels),
        )

    def _report(self, pending: list[PendingItem], existing: dict, ids: dict[str, int]) -> None:
        """Each content counts once as accepted per run: a repeat is a duplicate whichever batch it falls in."""
        job_id = self.import_job.pk if self.import_job else None
        for p in pending:
            key = int(p.content_hash[:16], 16)
            if p.content_hash in ids:
                item_id = ids[p.content_hash]
                self.report.accepted(file=p.file, archive=p.archive, line=p.line, item=item_id)
                self.accepted_here.add(key)
            else:
                item_id, from_job = existing[p.content_hash]
                if job_id is not None and from_job == job_id and key not in self.accepted_here:
                    # this import, run again after a crash: the row an earlier run wrote counts once
                    self.report.accepted(file=p.file, archive=p.archive, line=p.line, item=item_id)
                    self.accepted_here.add(key)
                else:
                    self.report.duplicate(file=p.file, archive=p.archive, line=p.line, item=item_id)
            for file, archive, line in p.duplicates:
                self.report.duplicate(file=file, archive=archive, line=line, item=item_id)


ITEM_DELETE_FORBIDDEN = "Only the project's managers, or the labeler who uploaded it, may delete this item."


@transaction.atomic
def item_delete(*, item: Item, actor: User, actor_role: str) -> None:
    """Delete an item with its labels; its stored file goes once the deletion is committed."""
    if not (actor_role == ProjectRole.MANAGER or (actor_role == ProjectRole.LABELER and item.uploaded_by_id == actor.pk)):
        raise DomainError(ITEM_DELETE_FORBIDDEN, status_code=403)
    names = [item.file.name, thumbnail_name(project_id=item.project_id, content_hash=item.content_hash)] \
        if item.file else []
    audit_record(actor=actor, organization=item.project.organization, action=AuditEvent.Action.ITEM_DELETED, target=item,
                 metadata={"project": item.project_id, "original_name": item.original_name,
                           "content_hash": item.content_hash})
    item.delete()
    if names:
        transaction.on_commit(lambda: stored_files_delete(names=names))
