"""The exports page: ask for an export (format, splits, seed) and download past ones.

The form posts back here and calls ``exports.services.export_create``, as the API does; rows still
being written are followed from the page through ``GET /api/exports/{id}``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from exports import selectors, services
from exports.models import Export
from exports.serializers import ExportCreateSerializer
from modelship.exceptions import DomainError
from projects.selectors import schema_current
from projects.views import form_errors, project_for_page

EXPORT_QUEUED = "Export {id} queued: it appears below and can be downloaded when it is ready."
EXPORT_REUSED = "The same export of unchanged data already exists: {id}."
SPLIT_NAMES = ("train", "val", "test")


def _export_request(post) -> dict:
    """The page's form as the API's request body: split percentages become ratios (the serializer
    and the service check them)."""
    return {
        "format": post.get("format", ""), "seed": post.get("seed") or 0,
        "include_auto_accepted": post.get("include_auto_accepted") == "on",
        "split": {name: _ratio(post.get(f"split_{name}")) for name in SPLIT_NAMES},
    }


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
            options = dict(data.validated_data)
            format_name = options.pop("format")
            try:
                export, created = services.export_create(project=project, created_by=request.user,
                                                         format_name=format_name, options=options)
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, (EXPORT_QUEUED if created else EXPORT_REUSED).format(id=export.public_id))
        return redirect("project-exports", project_id=project.pk)
    formats = [f for f in selectors.export_formats(project=project) if f["suitable"]]
    return render(request, "exports/exports.html", {
        "project": project, "tab": "exports", "formats": formats, "schema": schema_current(project=project),
        "exports": selectors.exports_for(project=project)[:50], "in_progress": Export.IN_PROGRESS,
    })
