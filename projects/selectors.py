"""Reads for projects, always scoped to what the caller may see."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from accounts.models import Membership, Organization
from modelship.exceptions import NotFound
from projects.models import Category, LabelSchema, Project, ProjectAssignment
from projects.permissions import ANY_PROJECT_ROLE, effective_project_role, require_project_role

PROJECT_NOT_FOUND = "Project not found."
ITEMS = Project._meta.get_field("items")  # labeling's Item, reached through its foreign key, not an import
NO_SCHEMA = "This project has no label schema yet."
SCHEMA_VERSION_NOT_FOUND = "This project has no label schema version {version}."


def caller_role_annotations(*, user, project: str = "pk", organization: str = "organization_id") -> dict:
    """What the access rule reads, as annotations (``member_role``, ``assigned_role``) on a queryset of
    projects, or of rows that point at one (``project="project_id"``, ``organization="project__organization_id"``),
    so a row and the caller's role on its project come in one query. ``member_role`` is None outside the
    caller's organizations: filter on it."""
    member_role = Membership.objects.filter(organization=OuterRef(organization), user=user).values("role")[:1]
    assigned_role = ProjectAssignment.objects.filter(project=OuterRef(project), user=user).values("role")[:1]
    return {"member_role": Subquery(member_role), "assigned_role": Subquery(assigned_role)}


def caller_role_require(project: Project, *, member_role: str, assigned_role: str | None,
                        require: Iterable[str] = ANY_PROJECT_ROLE) -> Project:
    """The rest of the rule, on what ``caller_role_annotations`` read: set ``project.caller_role`` (admins
    manage every project, else the assignment, else the organization role carries over) and raise 403
    unless it is one of ``require``."""
    project.caller_role = effective_project_role(organization_role=member_role, assigned_role=assigned_role)
    require_project_role(project=project, roles=require)
    return project


def _with_caller_role(projects: QuerySet[Project], user, *, counts: bool = True) -> QuerySet[Project]:
    """Only the projects the caller can see, each with their roles, schema version and (``counts``) item
    count. Counting a big project's items costs tens of milliseconds: lookups that only check access skip it."""
    version = LabelSchema.objects.filter(project=OuterRef("pk")).order_by("-version").values("version")[:1]
    # The items through the reverse relation of labeling's Item.project: projects imports nothing above it.
    items = (ITEMS.related_model.objects.filter(project=OuterRef("pk")).order_by().values("project")
             .annotate(n=Count("id")).values("n"))
    annotations = {**caller_role_annotations(user=user), "schema_version": Subquery(version)}
    if counts:
        annotations["item_count"] = Coalesce(Subquery(items), 0)
    return projects.annotate(**annotations).filter(member_role__isnull=False)


def _set_caller_role(project: Project) -> Project:
    return caller_role_require(project, member_role=project.member_role, assigned_role=project.assigned_role)


def projects_for(
    *, user, organization: Organization, status: str | None = None, search: str | None = None
) -> QuerySet[Project]:
    """The projects of the caller's active organization, each with ``member_role`` and ``assigned_role``."""
    projects = _with_caller_role(Project.objects.filter(organization=organization), user)
    if status:
        projects = projects.filter(status=status)
    if search:
        projects = projects.filter(name__icontains=search)
    return projects.order_by("-created_at", "-id")


def project_list_roles(projects) -> list[Project]:
    """Set ``caller_role`` on projects read through ``projects_for``."""
    return [_set_caller_role(p) for p in projects]


def project_get_for_user(*, user, project_id, require: Iterable[str] = ANY_PROJECT_ROLE,
                         counts: bool = False) -> Project:
    """The one project-access rule, used by every view and selector. A project of an organization the
    caller is not in (or an id that is not one) is a 404, never a 403; the caller's role in it (admins
    manage every project, else their assignment, else their organization role) must be one of
    ``require``, else 403. Returns it with ``caller_role`` set (and ``item_count`` when ``counts``: the
    count costs tens of milliseconds on a big project, so only the project's own page asks for it)."""
    try:
        project_id = int(project_id)
    except (TypeError, ValueError):
        raise NotFound(PROJECT_NOT_FOUND) from None
    project = (
        _with_caller_role(Project.objects.select_related("organization"), user, counts=counts)
        .filter(pk=project_id).first()
    )
    if project is None:
        raise NotFound(PROJECT_NOT_FOUND)
    return caller_role_require(project, member_role=project.member_role, assigned_role=project.assigned_role,
                               require=require)


def schema_current(*, project: Project) -> LabelSchema | None:
    """The project's current schema: its latest version (None before the first)."""
    return LabelSchema.objects.filter(project=project).order_by("-version").first()


def schema_versions(*, project: Project) -> QuerySet[LabelSchema]:
    return (
        LabelSchema.objects.filter(project=project).select_related("created_by")
        .annotate(category_count=Count("categories")).order_by("-version")
    )


def schema_get(*, project: Project, version: int) -> LabelSchema:
    schema = LabelSchema.objects.filter(project=project, version=version).first()
    if schema is None:
        raise NotFound(SCHEMA_VERSION_NOT_FOUND.format(version=version))
    return schema


def schema_categories(*, schema: LabelSchema) -> list[Category]:
    """A version's categories in display order, each with ``parent_path`` set."""
    categories = list(Category.objects.filter(schema=schema).order_by("order", "id"))
    paths = {c.id: c.path for c in categories}
    for category in categories:
        category.parent_path = paths.get(category.parent_id)
    return categories


def schema_category_count(*, schema: LabelSchema) -> int:
    return Category.objects.filter(schema=schema).count()


def schema_category_paths(*, schema: LabelSchema | None) -> list[str]:
    """The schema's category paths in order (one light query; none without a schema)."""
    return list(schema.categories.order_by("order", "id").values_list("path", flat=True)) if schema else []


def assignments_for(*, project: Project) -> QuerySet[ProjectAssignment]:
    return ProjectAssignment.objects.filter(project=project).select_related("user").order_by("id")
