"""The exports page: ask for an export (format, splits, seed, and optionally a saved export template
or chosen fields, new column names and filters) and download past ones.

The form posts back here and calls ``exports.services.export_create``, as the API does (managers may
also save the choice as a template with ``export_template_create``); rows still being written are
followed from the page through ``GET /api/exports/{id}``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from exports import selectors, services
from exports.fields import FILTER_SOURCES, FILTER_STATES, fields_for
from exports.models import Export
from exports.serializers import ExportCreateSerializer
from modelship.exceptions import DomainError
from projects.permissions import MANAGERS, project_role_for
from projects.selectors import schema_current
from projects.views import form_errors, project_for_page

EXPORT_QUEUED = "Export {id} queued: it appears below and can be downloaded when it is ready."
EXPORT_REUSED = "The same export of unchanged data already exists: {id}."
EXPORT_TEMPLATE_SAVED = "Export template '{name}' saved: pick it next time."
TEMPLATE_SAVE_MANAGERS = "Only the project's managers save export templates."
SPLIT_NAMES = ("train", "val", "test")
DATE_WINDOWS = ("created", "decided")


def _export_request(post) -> dict:
    """The page's form as the API's request body: split percentages become ratios, dates become
    midnight UTC (the serializer and the service check everything)."""
    body = {
        "format": post.get("format", ""), "seed": post.get("seed") or 0,
        "include_auto_accepted": post.get("include_auto_accepted") == "on",
        "split": {name: _ratio(post.get(f"split_{name}")) for name in SPLIT_NAMES},
        "template": post.get("template") or None,
    }
    fields = post.getlist("fields")
    if fields:
        body["fields"] = fields
        rename = {name: post.get(f"rename_{name}", "").strip() for name in fields}
        body["rename"] = {name: new for name, new in rename.items() if new} or None
    filters: dict = {}
    for name in ("state", "source"):
        if post.getlist(f"filter_{name}"):
            filters[name] = post.getlist(f"filter_{name}")
    confidence = {bound: post.get(f"confidence_{bound}") for bound in ("min", "max") if post.get(f"confidence_{bound}")}
    if confidence:
        filters["confidence"] = confidence
    for name in DATE_WINDOWS:
        window = {bound: f"{post.get(f'{name}_{bound}')}T00:00:00Z" for bound in ("since", "until")
                  if post.get(f"{name}_{bound}")}
        if window:
            filters[name] = window
    if filters:
        body["filters"] = filters
    return body


def _ratio(percent: str | None):
    try:
        return float(percent or 0) / 100
    except ValueError:
        return percent  # the serializer names it


@login_required
def exports_page(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for_page(request, project_id)
    if request.method == "POST":
        data = ExportCreateSerializer(data=_export_request(request.POST))
        if not data.is_valid():
            messages.error(request, form_errors(data.errors))
        else:
            _export(request, project, dict(data.validated_data), template_name=request.POST.get("template_name", ""))
        return redirect("project-exports", project_id=project.pk)
    formats = [f for f in selectors.export_formats(project=project) if f["suitable"]]
    return render(request, "exports/exports.html", {
        "project": project, "tab": "exports", "formats": formats, "schema": schema_current(project=project),
        "exports": selectors.exports_for(project=project)[:50], "in_progress": Export.IN_PROGRESS,
        "export_templates": selectors.export_templates_for(project=project), "field_choices": fields_for(
            project.project_type), "filter_states": FILTER_STATES, "filter_sources": FILTER_SOURCES,
        "can_save_template": project_role_for(user=request.user, project=project) in MANAGERS,
    })


def _export(request: HttpRequest, project, options: dict, *, template_name: str) -> None:
    """Save the choice as a template when a manager names one, then ask for the export; each outcome
    becomes a message."""
    format_name = options.pop("format")
    try:
        if template_name.strip():
            if project_role_for(user=request.user, project=project) not in MANAGERS:
                messages.error(request, TEMPLATE_SAVE_MANAGERS)
                return
            template = services.export_template_create(
                project=project, created_by=request.user, name=template_name, fields=options.get("fields"),
                rename=options.get("rename"), filters=options.get("filters"))
            messages.success(request, EXPORT_TEMPLATE_SAVED.format(name=template.name))
        export, created = services.export_create(project=project, created_by=request.user, format_name=format_name,
                                                 options=options)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, (EXPORT_QUEUED if created else EXPORT_REUSED).format(id=export.public_id))
