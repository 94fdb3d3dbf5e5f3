"""The exports API: the formats, asking for an export (of a job's results or a whole project),
polling it, and downloading its ZIP by its opaque id.

Any member of a project, viewers included, may export it: an export only reads what they can
already see. Another organization's job, project or export is a 404.
"""

from django.http import FileResponse
from django.utils.text import slugify
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import AuditEvent
from accounts.services import audit_record
from exports import selectors, services
from exports.serializers import (
    ExportCreateSerializer,
    ExportFormatFilterSerializer,
    ExportFormatSerializer,
    ExportOptionsSerializer,
    ExportSerializer,
    ExportTemplateInSerializer,
    ExportTemplateSerializer,
)
from labeling.inference.selectors import job_get_for_user
from modelship.exceptions import DomainError
from modelship.openapi import error_responses as _errors
from projects.permissions import ANY_PROJECT_ROLE, MANAGERS
from projects.scoping import ProjectScopedListView, ProjectScopedView
from projects.selectors import project_get_for_user

CREATED = {
    200: OpenApiResponse(ExportSerializer, description="The same request on unchanged data: the export already "
                                                       "made (or being made), while it is valid."),
    202: OpenApiResponse(ExportSerializer, description="Queued on the exports queue; poll /api/exports/{id}."),
}


def _created(export, created: bool) -> Response:
    return Response(ExportSerializer(export).data, status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK)


class ExportFormatListView(APIView):
    """Every export format; with ``project`` (or ``project_type``) whether each suits it and why not."""

    @extend_schema(
        parameters=[ExportFormatFilterSerializer],
        responses={200: ExportFormatSerializer(many=True), **_errors(400, 401, 404)},
    )
    def get(self, request):
        query = ExportFormatFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        project = None
        if "project" in query.validated_data:
            project = project_get_for_user(user=request.user, project_id=query.validated_data["project"])
        formats = selectors.export_formats(project=project, project_type=query.validated_data.get("project_type"),
                                           multi_label=query.validated_data["multi_label"])
        return Response(ExportFormatSerializer(formats, many=True).data)


class JobExportCreateView(APIView):
    """Export the items an auto-labeling job predicted (with their final labels) in a format."""

    format_name: str | None = None  # set for the format's own path (/api/export/formats/coco/{job_id})

    @extend_schema(request=ExportCreateSerializer, responses={**CREATED, **_errors(400, 401, 403, 404, 409)})
    def post(self, request, job_id: int):
        job = job_get_for_user(user=request.user, job_id=job_id)  # every project role may export
        data = (ExportOptionsSerializer if self.format_name else ExportCreateSerializer)(data=request.data)
        data.is_valid(raise_exception=True)
        options = dict(data.validated_data)
        format_name = self.format_name or options.pop("format")
        export, created = services.export_create(project=job.project, job=job, created_by=request.user,
                                                 format_name=format_name, options=options)
        return _created(export, created)


class JobFormatExportCreateView(JobExportCreateView):
    """Export the items an auto-labeling job predicted in the format the path names (COCO, YOLO, Pascal VOC)."""

    @extend_schema(request=ExportOptionsSerializer, responses={**CREATED, **_errors(400, 401, 403, 404, 409)})
    def post(self, request, job_id: int):
        return super().post(request, job_id)


class ProjectExportCreateView(ProjectScopedView):
    """Export a whole project's final labels, filtered and split, in a format."""

    project_roles = ANY_PROJECT_ROLE

    @extend_schema(request=ExportCreateSerializer, responses={**CREATED, **_errors(400, 401, 403, 404, 409)})
    def post(self, request, project_id: int):
        project = self.get_project()
        data = ExportCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        options = dict(data.validated_data)
        format_name = options.pop("format")
        export, created = services.export_create(project=project, created_by=request.user, format_name=format_name,
                                                 options=options)
        return _created(export, created)


class ProjectExportListView(ProjectScopedListView):
    """A project's exports, newest first, each with its status, size and (when finished) download link."""

    serializer_class = ExportSerializer

    @extend_schema(responses={200: ExportSerializer(many=True), **_errors(401, 404)})
    def get(self, request, project_id: int):
        project = self.get_project()
        page = self.paginate_queryset(selectors.exports_for(project=project))
        return self.get_paginated_response(ExportSerializer(page, many=True).data)


class ExportDetailView(APIView):
    """An export's status and progress (items selected, read, written and left out)."""

    @extend_schema(responses={200: ExportSerializer, **_errors(401, 404)})
    def get(self, request, export_id: str):
        return Response(ExportSerializer(selectors.export_get_for_user(user=request.user, public_id=export_id)).data)


class ExportDownloadView(APIView):
    """The export's ZIP, streamed from storage. The name is the export's id (``download_name``)."""

    @extend_schema(
        parameters=[OpenApiParameter("filename", str, OpenApiParameter.PATH,
                                     description="The export's id, optionally with .zip")],
        responses={
            (200, "application/zip"): OpenApiTypes.BINARY,
            409: OpenApiResponse(description="Not finished (or failed): the body gives its status."),
            410: OpenApiResponse(description="Expired: its file is gone; create it again."),
            **_errors(400, 401, 404),
        },
    )
    def get(self, request, filename: str):
        export = selectors.export_for_download(user=request.user, filename=filename)
        try:
            stream = export.file.open("rb")
        except (FileNotFoundError, OSError):
            # The file left storage behind ModelShip's back (a bucket lifecycle rule, a manual clean-up).
            raise DomainError(selectors.EXPORT_FILE_GONE, status_code=410, extra={"status": export.status}) from None
        audit_record(actor=request.user, organization=export.project.organization, action=AuditEvent.Action.EXPORT_DOWNLOADED,
                     target=export, metadata={"project": export.project_id, "format": export.format})
        name = f"{slugify(export.project.name) or 'project'}-{export.format}-{export.public_id}.zip"
        return FileResponse(stream, as_attachment=True, filename=name, content_type="application/zip")


TEMPLATE_ROLES = {"GET": ANY_PROJECT_ROLE, "*": MANAGERS}


class ExportTemplateListView(ProjectScopedView):
    """A project's export templates (any member reads them; managers save them)."""

    project_roles = TEMPLATE_ROLES

    @extend_schema(responses={200: ExportTemplateSerializer(many=True), **_errors(401, 403, 404)})
    def get(self, request, project_id: int):
        project = self.get_project()
        return Response(ExportTemplateSerializer(selectors.export_templates_for(project=project), many=True).data)

    @extend_schema(request=ExportTemplateInSerializer,
                   responses={201: ExportTemplateSerializer, **_errors(400, 401, 403, 404)})
    def post(self, request, project_id: int):
        project = self.get_project()
        data = ExportTemplateInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        template = services.export_template_create(project=project, created_by=request.user, **data.validated_data)
        return Response(ExportTemplateSerializer(template).data, status=status.HTTP_201_CREATED)


class ExportTemplateDetailView(ProjectScopedView):
    """One export template: read, change (only the keys given) or delete."""

    project_roles = TEMPLATE_ROLES

    def _template(self, request, project_id: int, template_id: int):
        project = self.get_project()
        return selectors.export_template_get(project=project, template_id=template_id)

    @extend_schema(responses={200: ExportTemplateSerializer, **_errors(401, 403, 404)})
    def get(self, request, project_id: int, template_id: int):
        return Response(ExportTemplateSerializer(self._template(request, project_id, template_id)).data)

    @extend_schema(request=ExportTemplateInSerializer,
                   responses={200: ExportTemplateSerializer, **_errors(400, 401, 403, 404)})
    def patch(self, request, project_id: int, template_id: int):
        template = self._template(request, project_id, template_id)
        data = ExportTemplateInSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        template = services.export_template_update(template=template, actor=request.user,
                                                   data=dict(data.validated_data))
        return Response(ExportTemplateSerializer(template).data)

    @extend_schema(responses={204: None, **_errors(401, 403, 404)})
    def delete(self, request, project_id: int, template_id: int):
        services.export_template_delete(template=self._template(request, project_id, template_id), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
