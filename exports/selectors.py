"""Reads for exports: the formats and which suit a project, exports scoped to the caller's
organizations, and the items an export selects (one streaming query, no N+1)."""

from __future__ import annotations

import re
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Count, F, FilteredRelation, Max, Q, QuerySet, Sum
from django.db.models.expressions import RawSQL
from django.utils import timezone

from accounts.models import Membership, User
from exports.formats import FORMATS, PROJECT_TYPES, formats_for
from exports.formats.errors import UNKNOWN_PROJECT_TYPE_MESSAGE
from exports.models import Export, ExportTemplate
from labeling.models import Item
from modelship.exceptions import DomainError, NotFound
from projects.models import Category, LabelSchema, Project
from projects.selectors import schema_current

EXPORT_NOT_FOUND = "Export not found."
EXPORT_NAME_NOT_A_PATH = "An export is downloaded by its id (as in the export's download_name), not a path."
EXPORT_NOT_READY = "This export is {status}; it can be downloaded once it has succeeded."
EXPORT_EXPIRED = "This export expired at {expires_at}; create it again."

PUBLIC_ID = re.compile(r"[0-9a-f]{32}")

# The columns of one item row, as the export job reads them: the prediction's and the reviewer's
# fields come joined in the same query.
ITEM_COLUMNS = ("id", "text", "file", "original_name", "mime_type", "width", "height", "state", "final_labels",
                "final_source")


def _organization_ids(user: User) -> QuerySet:
    return Membership.objects.filter(user=user).values("organization_id")


def export_get_for_user(*, user: User, public_id: str) -> Export:
    """An export of one of the caller's organizations, by its public id; else 404."""
    export = None
    if PUBLIC_ID.fullmatch(public_id or ""):
        export = (Export.objects.select_related("project", "job", "schema", "created_by")
                  .filter(public_id=public_id, organization_id__in=_organization_ids(user)).first())
    if export is None:
        raise NotFound(EXPORT_NOT_FOUND)
    return export


def exports_for(*, project: Project) -> QuerySet[Export]:
    """A project's exports, newest first (a page costs one query)."""
    return (Export.objects.filter(project=project).select_related("schema", "created_by")
            .order_by("-created_at", "-id"))


EXPORT_FILE_GONE = "The export's file is no longer in storage; create the export again."


def export_for_download(*, user: User, filename: str) -> Export:
    """The finished export a download name (``<id>`` or ``<id>.zip``) refers to.

    A name that looks like a path is refused (400) before any lookup; another organization's export
    or an unknown id is a 404; one still queued, running or failed is a 409 with its status; an
    expired one (swept or past its time) is a 410.
    """
    if "/" in filename or "\\" in filename or ".." in filename or "\x00" in filename:
        raise DomainError(EXPORT_NAME_NOT_A_PATH)
    public_id = filename[:-4] if filename.endswith(".zip") else filename
    export = export_get_for_user(user=user, public_id=public_id)
    expired = export.status == Export.Status.EXPIRED or (
        export.status == Export.Status.SUCCEEDED and export.expires_at is not None
        and export.expires_at <= timezone.now())
    if expired:
        raise DomainError(EXPORT_EXPIRED.format(expires_at=export.expires_at.isoformat() if export.expires_at else ""),
                          status_code=410, extra={"status": Export.Status.EXPIRED})
    if export.status != Export.Status.SUCCEEDED:
        raise DomainError(EXPORT_NOT_READY.format(status=export.status), status_code=409,
                          extra={"status": export.status})
    return export


def export_attempts(*, export_id: int) -> int:
    """How many times an export has been started (0 when it is gone)."""
    return Export.objects.filter(pk=export_id).values_list("attempts", flat=True).first() or 0


def export_cached(*, project_id: int, request_hash: str) -> Export | None:
    """The export an identical request made, while it is still valid: queued, running, or succeeded
    and not yet expired."""
    return (Export.objects.select_related("project", "job", "schema", "created_by")
            .filter(project_id=project_id, request_hash=request_hash,
                    status__in=(Export.Status.QUEUED, Export.Status.RUNNING, Export.Status.SUCCEEDED))
            .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
            .order_by("-created_at", "-id").first())


def export_formats(*, project: Project | None = None, project_type: str | None = None,
                   multi_label: bool = False) -> list[dict[str, Any]]:
    """Every format, and when a project (or a project type) is given, whether it suits and why not.

    A project's label mode is its current schema's; ``multi_label`` applies to a bare project type.
    """
    if project is not None:
        schema = schema_current(project=project)
        project_type, multi_label = project.project_type, bool(schema and schema.multi_label)
    if project_type is not None and project_type not in PROJECT_TYPES:
        raise DomainError(UNKNOWN_PROJECT_TYPE_MESSAGE.format(project_type=project_type, known=", ".join(PROJECT_TYPES)),
                          field="project_type")
    suits = {fmt.name: (ok, reason) for fmt, ok, reason in formats_for(project_type, multi_label)} if project_type else {}
    listed = []
    for fmt in FORMATS.values():
        entry: dict[str, Any] = {
            "name": fmt.name, "title": fmt.title, "description": fmt.description, "extension": fmt.extension,
            "project_types": [t for t in PROJECT_TYPES if t in fmt.project_types],
            "multi_label_images": fmt.multi_label_images,
            "fields": fmt.fields,
        }
        if project_type:
            entry["suitable"], entry["reason"] = suits[fmt.name]
        listed.append(entry)
    return listed


def schema_classes_by_id(*, schema_id: int) -> list[str]:
    """A schema version's label values in display order (the order of a prediction's probabilities)."""
    return list(Category.objects.filter(schema_id=schema_id).order_by("order", "id").values_list("path", flat=True))


def schema_classes(*, schema: LabelSchema) -> tuple[list[str], dict[str, str | None]]:
    """A schema version's label values (category paths) in display order, and each one's parent path."""
    categories = list(Category.objects.filter(schema=schema).order_by("order", "id").values_list("id", "path",
                                                                                                 "parent_id"))
    paths = {pk: path for pk, path, _ in categories}
    return [path for _, path, _ in categories], {path: paths.get(parent) for _, path, parent in categories}


def _has_any_label(labels: list[str]) -> RawSQL:
    """True where an item's final labels (a JSON array) hold one of ``labels``, on SQLite or PostgreSQL."""
    table, column = Item._meta.db_table, Item._meta.get_field("final_labels").column
    placeholders = ", ".join(["%s"] * len(labels))
    if connection.vendor == "postgresql":
        sql = (f'(jsonb_typeof("{table}"."{column}") = \'array\' AND EXISTS (SELECT 1 FROM '
               f'jsonb_array_elements_text("{table}"."{column}") AS label(value) WHERE label.value IN ({placeholders})))')
    else:
        sql = (f'EXISTS (SELECT 1 FROM json_each("{table}"."{column}") AS label '
               f'WHERE label.value IN ({placeholders}))')
    return RawSQL(sql, list(labels), output_field=BooleanField())


def export_selection(*, project_id: int, job_id: int | None, options: dict[str, Any]) -> QuerySet[Item]:
    """The items an export holds, by its normalised options, annotated with the prediction it shows
    (``shown_labels``, ``shown_confidence``, ``shown_model``, ``shown_probabilities``, ``shown_schema``):
    the job's for a job export, else the latest.

    Items with final labels from review or import; auto-accepted ones too when asked; of a job export,
    only those the job predicted. ``min_confidence`` applies to labels the model decided
    (auto-accepted): a person's label always passes. ``labels`` keeps items with one of them.
    """
    filters = options.get("filters") or {}
    states = filters.get("state") or (
        [Item.State.REVIEWED] + ([Item.State.AUTO_ACCEPTED] if options["include_auto_accepted"] else []))
    chosen = Q(final_labels__isnull=False, state__in=states)
    if options.get("model_predictions"):  # items no one decided yet, labelled by the model
        chosen |= Q(state__in=(Item.State.PREDICTED, Item.State.NEEDS_REVIEW))
    items = Item.objects.filter(chosen, project_id=project_id)
    if job_id is not None:
        items = items.annotate(
            job_prediction=FilteredRelation("predictions", condition=Q(predictions__job_id=job_id)),
        ).filter(job_prediction__isnull=False).annotate(
            shown_labels=F("job_prediction__labels"), shown_confidence=F("job_prediction__confidence"),
            shown_model=F("job_prediction__model_name"), shown_probabilities=F("job_prediction__probabilities"),
            shown_schema=F("job_prediction__schema_id"),
        )
    else:
        items = items.annotate(shown_labels=F("predicted_labels"), shown_confidence=F("confidence"),
                               shown_model=F("prediction__model_name"), shown_probabilities=F("prediction__probabilities"),
                               shown_schema=F("prediction__schema_id"))
    if options.get("model_predictions"):
        items = items.filter(~Q(state__in=(Item.State.PREDICTED, Item.State.NEEDS_REVIEW))
                             | Q(shown_labels__isnull=False))
    if options["min_confidence"] is not None:
        items = items.filter(Q(final_source__in=Item.HUMAN_SOURCES) | Q(shown_confidence__gte=options["min_confidence"]))
    if options["labels"]:
        items = items.filter(_has_any_label(options["labels"]))
    return _filtered(items, filters)


def _filtered(items: QuerySet[Item], filters: dict[str, Any]) -> QuerySet[Item]:
    """The ``source``, ``confidence`` and date filters (``exports.fields``); a confidence range leaves
    out items without a prediction."""
    if filters.get("source"):
        items = items.filter(final_source__in=filters["source"])
    confidence = filters.get("confidence")
    if confidence:
        items = items.filter(shown_confidence__isnull=False)
        if confidence["min"] is not None:
            items = items.filter(shown_confidence__gte=confidence["min"])
        if confidence["max"] is not None:
            items = items.filter(shown_confidence__lte=confidence["max"])
    for name, column in (("created", "created_at"), ("decided", "decided_at")):
        window = filters.get(name)
        if window and window["since"]:
            items = items.filter(**{f"{column}__gte": window["since"]})
        if window and window["until"]:
            items = items.filter(**{f"{column}__lt": window["until"]})
    return items


NOTHING_TO_EXPORT = "Nothing to export: {reason}."
NO_ITEMS_YET = "the project has no items yet"
JOB_PREDICTED_NOTHING_LABELLED = "none of the {predicted} items this job predicted has a final label yet"
NO_LABELS_AUDIT_FIRST = ("no labelled items yet: {pending} audit items must be reviewed before anything is "
                         "auto-accepted")
NO_LABELS_YET = "no labelled items yet: {waiting} items wait for review"
ONLY_AUTO_ACCEPTED = ("the {auto} labelled items were all auto-accepted; set include_auto_accepted to export "
                      "them")
NONE_MATCH = "none of the {labelled} labelled items matches the export's labels and confidence filters"
ASK_FOR_PREDICTIONS = " (or set model_predictions to export the model's labels)"


def export_empty_reason(*, project_id: int, job_id: int | None, options: dict[str, Any]) -> str:
    """Why an export's selection is empty, in the words a user can act on."""
    items = Item.objects.filter(project_id=project_id)
    found = items.aggregate(
        total=Count("id"),
        human=Count("id", filter=Q(final_source__in=Item.HUMAN_SOURCES, final_labels__isnull=False)),
        auto=Count("id", filter=Q(state=Item.State.AUTO_ACCEPTED)),
        audit_pending=Count("id", filter=Q(in_audit_slice=True) & ~Q(final_source__in=Item.HUMAN_SOURCES)),
        waiting=Count("id", filter=Q(state__in=(Item.State.PREDICTED, Item.State.NEEDS_REVIEW))),
    )
    hint = "" if options.get("model_predictions") or not found["waiting"] else ASK_FOR_PREDICTIONS
    if not found["total"]:
        reason = NO_ITEMS_YET
    elif job_id is not None and not found["human"] and not found["auto"]:
        predicted = items.filter(predictions__job_id=job_id).count()
        reason = JOB_PREDICTED_NOTHING_LABELLED.format(predicted=predicted) + hint
    elif not found["human"] and not found["auto"]:
        reason = (NO_LABELS_AUDIT_FIRST.format(pending=found["audit_pending"]) if found["audit_pending"]
                  else NO_LABELS_YET.format(waiting=found["waiting"])) + hint
    elif not found["human"] and not options["include_auto_accepted"]:
        reason = ONLY_AUTO_ACCEPTED.format(auto=found["auto"])
    else:
        reason = NONE_MATCH.format(labelled=found["human"] + found["auto"])
    return NOTHING_TO_EXPORT.format(reason=reason)


def selection_fingerprint(*, items: QuerySet[Item]) -> dict[str, Any]:
    """What changes when the selected data does: how many items, which (sum and max of ids), the
    latest decision and the latest prediction among them (ids and times only grow, so a new label or
    prediction on any selected item moves a maximum), and the sum of the confidences shown (a job
    that runs again updates its predictions in place)."""
    found = items.order_by().aggregate(count=Count("id"), id_sum=Sum("id"), id_max=Max("id"),
                                       decided=Max("decided_at"), prediction=Max("prediction_id"),
                                       confidence=Sum("shown_confidence"))
    if found["confidence"] is not None:
        found["confidence"] = round(found["confidence"], 6)
    if found["decided"] is not None:
        found["decided"] = found["decided"].isoformat()
    if found["id_sum"] is not None:
        found["id_sum"] = int(found["id_sum"])  # PostgreSQL sums bigints as numeric
    return found


def export_rows(*, items: QuerySet[Item], chunk_size: int, with_probabilities: bool = False):
    """The selected items as dicts in id order, ``chunk_size`` rows per query (each joins the reviewer's
    email and the prediction's fields), so memory stays flat in the item count. ``with_probabilities``
    adds the shown prediction's probabilities and schema (only when asked: they hold one number per class).

    Each page is read whole by a query of its own (``id > last``), never through a cursor left open
    while the export writes its progress: on SQLite a write on a connection whose read snapshot another
    process has moved past fails at once with "database is locked", whatever the busy timeout."""
    extra = ("shown_probabilities", "shown_schema") if with_probabilities else ()
    rows = (items.order_by("id")
            .values(*ITEM_COLUMNS, "shown_labels", "shown_confidence", "shown_model", "created_at", "decided_at", *extra,
                    reviewer=F("decided_by__email"), schema_version=F("final_schema__version")))
    last = None
    while True:
        page = list((rows if last is None else rows.filter(id__gt=last))[:chunk_size])
        yield from page
        if len(page) < chunk_size:
            return
        last = page[-1]["id"]


def export_templates_for(*, project: Project) -> QuerySet[ExportTemplate]:
    """The project's export templates, by name."""
    return ExportTemplate.objects.filter(project=project).select_related("created_by").order_by("name", "id")


EXPORT_TEMPLATE_NOT_FOUND = "Export template not found."


def export_template_get(*, project: Project, template_id: int) -> ExportTemplate:
    """One of the project's export templates; another project's (or organization's) is a 404."""
    template = export_templates_for(project=project).filter(pk=template_id).first()
    if template is None:
        raise NotFound(EXPORT_TEMPLATE_NOT_FOUND)
    return template


def export_template_choice(*, template: ExportTemplate) -> dict[str, Any]:
    """What a template gives an export request: fields, new names and filters."""
    return {"fields": template.fields, "rename": template.rename or None, "filters": template.filters or None}
