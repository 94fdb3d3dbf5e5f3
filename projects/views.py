"""Server-rendered project pages: a new project from a template, and the label-schema editor.

``project_for_page`` is the pages' one access check (the API's rule: another organization's project
is a 404, a role that may not do this a 403); the other apps' pages use it too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied

from accounts.models import Role
from accounts.selectors import memberships_for
from modelship.exceptions import DomainError, NotFound
from projects import selectors, services
from projects.models import Project
from projects.permissions import ANY_PROJECT_ROLE, MANAGERS, PROJECT_ROLE_REQUIRED, require_project_role
from projects.serializers import SchemaInSerializer
from projects.template_catalog import template_list

PROJECT_CREATED = "Project {name!r} created. Next: upload your data."
SCHEMA_SAVED = "Labels saved as version {version}. Items labelled before keep their labels under version {previous}."
SCHEMA_FIRST_SAVED = "Labels saved as version {version}."
SCHEMA_UNREADABLE = "The label list could not be read; reload the page and try again."
NO_ADMIN_ORGANIZATION = "Only the admins of an organization create its projects: ask one of yours."


def project_for_page(request: HttpRequest, project_id: int, roles: Iterable[str] = ANY_PROJECT_ROLE,
                     *, counts: bool = False) -> Project:
    """The project if the caller may see it (else 404) and their role is one of ``roles`` (else 403)."""
    try:
        project = selectors.project_get_for_user(user=request.user, project_id=project_id, counts=counts)
        require_project_role(user=request.user, project=project, roles=roles)
    except NotFound:
        raise Http404(selectors.PROJECT_NOT_FOUND) from None
    except ApiPermissionDenied:
        raise PermissionDenied(PROJECT_ROLE_REQUIRED) from None
    return project


def form_errors(errors: dict) -> str:
    """A serializer's errors as one line: ``field: message; field: message``."""
    def flat(value) -> str:
        if isinstance(value, dict):
            return "; ".join(f"{k}: {flat(v)}" for k, v in value.items())
        if isinstance(value, list):
            return " ".join(flat(v) for v in value if v)
        return str(value)
    return flat(errors)


@login_required
def project_new_page(request: HttpRequest) -> HttpResponse:
    """Pick a template, name the project, create it (organization admins)."""
    organizations = [m.organization for m in memberships_for(user=request.user) if m.role == Role.ADMIN]
    templates = template_list()
    error = "" if organizations else NO_ADMIN_ORGANIZATION
    if request.method == "POST" and organizations:
        chosen = request.POST.get("organization", "")
        organization = next((o for o in organizations if str(o.pk) == chosen), organizations[0])
        try:
            project = services.project_create(
                organization=organization, created_by=request.user, name=request.POST.get("name", ""),
                template=request.POST.get("template", ""), description=request.POST.get("description", "").strip())
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, PROJECT_CREATED.format(name=project.name))
            return redirect("project-upload" if selectors.schema_current(project=project) else "project-labels",
                            project_id=project.pk)
    return render(request, "projects/new.html", {
        "templates": templates, "organizations": organizations, "error": error, "values": request.POST,
        "selected": request.POST.get("template") or request.GET.get("template") or templates[0].slug,
    })


@login_required
def labels_page(request: HttpRequest, project_id: int) -> HttpResponse:
    """The label-schema editor: every save writes the next version; older labels keep theirs."""
    project = project_for_page(request, project_id)
    can_edit = project.caller_role in MANAGERS
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied(PROJECT_ROLE_REQUIRED)
        try:
            payload = json.loads(request.POST.get("schema", ""))
        except ValueError:
            payload = None
        data = SchemaInSerializer(data=payload) if isinstance(payload, dict) else None
        if data is None:
            messages.error(request, SCHEMA_UNREADABLE)
        elif not data.is_valid():
            messages.error(request, form_errors(data.errors))
        else:
            previous = selectors.schema_current(project=project)
            try:
                schema = services.schema_version_create(project=project, created_by=request.user,
                                                        **data.validated_data)
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, SCHEMA_SAVED.format(version=schema.version, previous=previous.version)
                                 if previous else SCHEMA_FIRST_SAVED.format(version=schema.version))
                return redirect("project-labels", project_id=project.pk)
    schema = selectors.schema_current(project=project)
    categories = selectors.schema_categories(schema=schema) if schema else []
    editor = {
        "multiLabel": bool(schema and schema.multi_label),
        "minLabels": schema.min_labels if schema else None,
        "maxLabels": schema.max_labels if schema and schema.multi_label else None,
        "categories": [{"key": c.path, "name": c.name, "parent": c.parent_path, "color": c.color,
                        "shortcut": c.shortcut, "description": c.description} for c in categories],
    }
    return render(request, "projects/labels.html", {
        "project": project, "tab": "labels", "schema": schema, "categories": categories, "editor": editor,
        "versions": selectors.schema_versions(project=project), "can_edit": can_edit,
    })
