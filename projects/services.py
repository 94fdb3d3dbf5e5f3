"""Writes for projects, label schema versions and assignments. Each leaves an AuditEvent."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.module_loading import import_string

from accounts.models import AuditEvent, Membership, Organization, User
from accounts.plans import limit_check
from accounts.services import audit_record
from modelship.exceptions import DomainError, NotFound
from projects.models import Category, LabelSchema, Project, ProjectAssignment
from projects.schemas import categories_validate
from projects.storage import project_storage_prefix, stored_prefix_delete
from projects.template_catalog import default_model_for, template_get, template_list

PROJECT_NAME_TAKEN = "A project named {name!r} already exists in this organization."
PROJECT_TYPE_REQUIRED = "Choose a project_type (image_classification or text_classification) or a template."
TEMPLATE_UNKNOWN = "Unknown template {slug!r}; choose one of: {slugs}."
TEMPLATE_TYPE_MISMATCH = "The {slug!r} template is for {expected} projects."
PROJECT_TYPE_FIXED = "A project's type cannot change after it is created."
DELETE_CONFIRM_REQUIRED = (
    "This project has {count} item(s). To delete it with all its files, send "
    "{{\"confirm\": \"<the project's name>\"}}."
)
ASSIGNEE_NOT_MEMBER = "{who} is not a member of this project's organization."
ASSIGNEE_REQUIRED = "Give the user to assign, by user_id or email."
ASSIGNMENT_NOT_FOUND = "This user has no assignment in this project."

UPDATABLE_FIELDS = (
    "name", "description", "status", "deadline", "default_model", "auto_accept_threshold",
    "review_policy", "qa_sample_rate", "audit_slice_size", "seconds_per_item", "hourly_rate",
    "compute_cost_per_item",
)
COST_RATE_FIELDS = ("seconds_per_item", "hourly_rate", "compute_cost_per_item")


def _check_name_free(*, organization_id: int, name: str, exclude_id: int | None = None) -> None:
    taken = Project.objects.filter(organization_id=organization_id, name__iexact=name)
    if exclude_id is not None:
        taken = taken.exclude(pk=exclude_id)
    if taken.exists():
        raise DomainError(PROJECT_NAME_TAKEN.format(name=name), field="name")


def _default_model_check(*, name: str, project_type: str) -> None:
    """A project's ``default_model`` must be a model that classifies its items and loads here (or blank).

    The models are labeling's; projects does not import it, so the check is the callable named by
    ``PROJECT_MODEL_CHECK`` (``labeling.inference.jobs.model_check``), wired in the settings."""
    if not name:
        return
    model_check = import_string(settings.PROJECT_MODEL_CHECK)
    kind = Project(project_type=project_type).item_kind
    try:
        model_check(name=name, kind=kind)
    except DomainError as exc:
        raise DomainError(exc.message, field="default_model") from None


@transaction.atomic
def project_create(
    *,
    organization: Organization,
    created_by: User,
    name: str,
    project_type: str | None = None,
    template: str = "",
    description: str = "",
    deadline: date | None = None,
    default_model: str = "",
    auto_accept_threshold: float | None = None,
    review_policy: str = Project.ReviewPolicy.BELOW_THRESHOLD,
    qa_sample_rate: float = 0.0,
    audit_slice_size: int = 300,
    schema: dict[str, Any] | None = None,
    **cost_rates: Any,
) -> Project:
    """Create a project, from a template or not, with its first schema version when one is known.

    ``schema`` (``multi_label``, ``min_labels``, ``max_labels``, ``categories``) replaces the
    template's; custom templates start without a schema unless one is given. ``cost_rates``
    (``seconds_per_item``, ``hourly_rate``, ``compute_cost_per_item``) override the model's defaults.
    """
    unknown = set(cost_rates) - set(COST_RATE_FIELDS)
    if unknown:
        raise ValueError(f"not a project setting: {sorted(unknown)}")
    name = name.strip()
    given_model = default_model.strip()
    if template:
        found = template_get(template)
        if found is None:
            slugs = ", ".join(t.slug for t in template_list())
            raise DomainError(TEMPLATE_UNKNOWN.format(slug=template, slugs=slugs), field="template")
        if project_type and project_type != found.project_type:
            expected = Project.Type(found.project_type).label.lower()
            raise DomainError(TEMPLATE_TYPE_MISMATCH.format(slug=template, expected=expected), field="project_type")
        project_type = found.project_type
        default_model = default_model or found.default_model
        if schema is None and found.has_schema:
            schema = {"multi_label": found.multi_label, "min_labels": found.min_labels,
                      "max_labels": found.max_labels, "categories": list(found.categories)}
    if not project_type:
        raise DomainError(PROJECT_TYPE_REQUIRED, field="project_type")
    _default_model_check(name=given_model, project_type=project_type)
    _check_name_free(organization_id=organization.pk, name=name)
    limit_check(organization=organization, what="projects", existing=Project.objects.filter(organization=organization))
    try:
        with transaction.atomic():
            project = Project.objects.create(
                organization=organization, name=name, description=description, project_type=project_type,
                template=template, deadline=deadline, default_model=default_model or default_model_for(project_type),
                auto_accept_threshold=auto_accept_threshold, review_policy=review_policy,
                qa_sample_rate=qa_sample_rate, audit_slice_size=audit_slice_size, created_by=created_by,
                **cost_rates,
            )
    except IntegrityError as exc:  # a concurrent create took the name
        raise DomainError(PROJECT_NAME_TAKEN.format(name=name), field="name") from exc
    audit_record(actor=created_by, organization=organization, action=AuditEvent.Action.PROJECT_CREATED, target=project,
                 metadata={"name": name, "project_type": project_type, "template": template})
    if schema is not None:
        schema_version_create(project=project, created_by=created_by, **schema)
    return project


@transaction.atomic
def project_update(*, project: Project, actor: User, **changes: Any) -> Project:
    """Change a project's settings; only the fields given change. The type never changes."""
    if "project_type" in changes:
        if changes.pop("project_type") != project.project_type:
            raise DomainError(PROJECT_TYPE_FIXED, field="project_type")
    unknown = set(changes) - set(UPDATABLE_FIELDS)
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    if "name" in changes:
        changes["name"] = changes["name"].strip()
        _check_name_free(organization_id=project.organization_id, name=changes["name"], exclude_id=project.pk)
    changed = {field: value for field, value in changes.items() if getattr(project, field) != value}
    if not changed:
        return project
    if "default_model" in changed:
        changed["default_model"] = changed["default_model"].strip()
        _default_model_check(name=changed["default_model"], project_type=project.project_type)
    for field, value in changed.items():
        setattr(project, field, value)
    try:
        with transaction.atomic():
            project.save(update_fields=[*changed, "updated_at"])
    except IntegrityError as exc:
        raise DomainError(PROJECT_NAME_TAKEN.format(name=project.name), field="name") from exc
    audit_record(actor=actor, organization=project.organization, action=AuditEvent.Action.PROJECT_UPDATED, target=project,
                 metadata={"fields": sorted(changed)})
    return project


@transaction.atomic
def project_delete(*, project: Project, actor: User, confirm: str | None = None) -> None:
    """Delete a project; one with items needs ``confirm`` equal to its name. Its files go after commit."""
    count = project.items.count()
    if count and (confirm or "").strip() != project.name:
        raise DomainError(DELETE_CONFIRM_REQUIRED.format(count=count), field="confirm")
    prefix = project_storage_prefix(project.pk)
    audit_record(actor=actor, organization=project.organization, action=AuditEvent.Action.PROJECT_DELETED, target=project,
                 metadata={"name": project.name, "items": count})
    project.delete()
    transaction.on_commit(lambda: stored_prefix_delete(prefix=prefix))


@transaction.atomic
def schema_version_create(
    *,
    project: Project,
    created_by: User | None,
    categories: list[dict[str, Any]],
    multi_label: bool = False,
    min_labels: int | None = None,
    max_labels: int | None = None,
) -> LabelSchema:
    """Validate a full category list and write it as the project's next schema version."""
    spec = categories_validate(categories=categories, multi_label=multi_label,
                               min_labels=min_labels, max_labels=max_labels)
    Project.objects.select_for_update().filter(pk=project.pk).first()  # one version number at a time
    latest = LabelSchema.objects.filter(project=project).aggregate(v=Max("version"))["v"] or 0
    schema = LabelSchema.objects.create(
        project=project, version=latest + 1, multi_label=spec.multi_label, min_labels=spec.min_labels,
        max_labels=spec.max_labels, created_by=created_by,
    )
    ids: dict[str, int] = {}
    depth = 0
    while True:
        level = [c for c in spec.categories if c.depth == depth]
        if not level:
            break
        created = Category.objects.bulk_create([
            Category(schema=schema, name=c.name, path=c.path, description=c.description, color=c.color,
                     shortcut=c.shortcut, order=c.order, parent_id=ids.get(c.parent_path) if c.parent_path else None)
            for c in level
        ])
        ids.update({c.path: c.pk for c in created})
        depth += 1
    audit_record(actor=created_by, organization=project.organization, action=AuditEvent.Action.LABEL_SCHEMA_VERSION_CREATED,
                 target=schema, metadata={"project": project.pk, "version": schema.version,
                                          "categories": len(spec.categories)})
    return schema


@transaction.atomic
def assignment_set(
    *, project: Project, actor: User, role: str, user_id: int | None = None, email: str | None = None,
    daily_target: int | None = None,
) -> ProjectAssignment:
    """Give a member of the project's organization a role (and daily target) in the project."""
    if user_id is None and not email:
        raise DomainError(ASSIGNEE_REQUIRED, field="user_id")
    members = Membership.objects.filter(organization_id=project.organization_id).select_related("user")
    if user_id is not None:
        membership, who = members.filter(user_id=user_id).first(), f"User {user_id}"
    else:
        email = email.strip()
        membership, who = members.filter(user__email__iexact=email).first(), email
    if membership is None:
        raise DomainError(ASSIGNEE_NOT_MEMBER.format(who=who), field="user_id" if user_id is not None else "email")
    assignment, created = ProjectAssignment.objects.update_or_create(
        project=project, user=membership.user, defaults={"role": role, "daily_target": daily_target},
    )
    audit_record(actor=actor, organization=project.organization, action=AuditEvent.Action.PROJECT_MEMBER_ASSIGNED,
                 target=assignment, metadata={"project": project.pk, "user": membership.user.email,
                                              "role": role, "daily_target": daily_target, "created": created})
    assignment.user = membership.user
    return assignment


@transaction.atomic
def assignment_remove(*, project: Project, actor: User, user_id: int) -> None:
    assignment = ProjectAssignment.objects.select_related("user").filter(project=project, user_id=user_id).first()
    if assignment is None:
        raise NotFound(ASSIGNMENT_NOT_FOUND)
    audit_record(actor=actor, organization=project.organization, action=AuditEvent.Action.PROJECT_ASSIGNMENT_REMOVED,
                 target=assignment, metadata={"project": project.pk, "user": assignment.user.email,
                                              "role": assignment.role})
    assignment.delete()
