"""The files API: uploads (and their progress), a user's files, deleting and downloading a file."""

import io

from django.conf import settings
from django.http import FileResponse, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from labeling.items import selectors
from labeling.items.files import THUMBNAIL_SIZE, item_file_open, item_thumbnail
from labeling.items.imports import UploadFile, upload_receive
from labeling.items.serializers import (
    FilesFilterSerializer,
    ImportJobFilterSerializer,
    ImportJobSerializer,
    ItemBrowseFilterSerializer,
    ItemBrowseSerializer,
    ItemSerializer,
    UploadSerializer,
)
from labeling.items.services import item_delete
from labeling.uploads import messages
from modelship.exceptions import DomainError
from modelship.openapi import error_responses as _errors
from projects.permissions import UPLOADERS
from projects.scoping import ProjectScopedListView, ProjectScopedView
from projects.selectors import project_get_for_user


class UploadView(ProjectScopedView):
    """Upload files into a project. Small uploads answer 201 with the report; large ones 202 with a
    queued job to poll at ``/api/uploads/{id}``."""

    parser_classes = [MultiPartParser, FormParser]
    project_roles = UPLOADERS

    @extend_schema(
        request={"multipart/form-data": UploadSerializer},
        responses={
            201: OpenApiResponse(ImportJobSerializer, description="Imported; the report lists every file."),
            202: OpenApiResponse(ImportJobSerializer, description="Queued on a worker; poll /api/uploads/{id}."),
            413: OpenApiResponse(description="The request is larger than UPLOAD_MAX_REQUEST_BYTES."),
            **_errors(400, 401, 403, 404),
        },
    )
    def post(self, request):
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > settings.UPLOAD_MAX_REQUEST_BYTES:
            raise DomainError(messages.REQUEST_TOO_LARGE.format(limit=settings.UPLOAD_MAX_REQUEST_BYTES),
                              status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        data = UploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = self.get_project(data.validated_data["project"])
        job = upload_receive(
            project=project, files=[UploadFile.from_upload(f) for f in data.validated_data["files"]],
            text_mode=data.validated_data["text_mode"], uploaded_by=request.user,
        )
        code = status.HTTP_202_ACCEPTED if job.is_async else status.HTTP_201_CREATED
        return Response(ImportJobSerializer(job).data, status=code)


class ImportJobListView(ProjectScopedListView):
    serializer_class = ImportJobSerializer

    @extend_schema(description="The project's imports (uploads), newest first, with their counts and status.")
    @extend_schema(parameters=[ImportJobFilterSerializer], responses={200: ImportJobSerializer(many=True),
                                                                     **_errors(400, 401, 404)})
    def get(self, request):
        filters = ImportJobFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        project = self.get_project(filters.validated_data["project"])
        page = self.paginate_queryset(selectors.import_jobs_for(project=project))
        return self.get_paginated_response(ImportJobSerializer(page, many=True).data)


class ImportJobDetailView(APIView):
    @extend_schema(description='One import: status, progress and the per-file report (poll it after a 202).')
    @extend_schema(responses={200: ImportJobSerializer, **_errors(401, 404)})
    def get(self, request, import_id: int):
        job = selectors.import_job_get_for_user(user=request.user, import_job_id=import_id)
        return Response(ImportJobSerializer(job).data)


class UserFilesView(GenericAPIView):
    """The files (items) a user uploaded, in the caller's organizations (kept for API clients; a project's
    items are listed per project)."""

    serializer_class = ItemSerializer

    @extend_schema(
        parameters=[FilesFilterSerializer],
        responses={200: ItemSerializer(many=True), **_errors(400, 401, 404)},
    )
    def get(self, request, user_id: int):
        filters = FilesFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        f = filters.validated_data
        project = project_get_for_user(user=request.user, project_id=f["project"]) if "project" in f else None
        items = selectors.items_uploaded_by(
            viewer=request.user, user_id=user_id, project=project, kind=f.get("kind"), state=f.get("state"),
            import_job_id=f.get("import_job"),
        ).select_related("final_schema")
        page = self.paginate_queryset(items)
        return self.get_paginated_response(ItemSerializer(page, many=True).data)


class ItemDetailView(APIView):
    @extend_schema(
        responses={204: None, **_errors(401, 403, 404)},
        description="Managers, and the labeler who uploaded it, delete an item; its stored file goes with it.",
    )
    def delete(self, request, item_id: int):
        item = selectors.item_get_for_user(user=request.user, item_id=item_id)
        item_delete(item=item, actor=request.user, actor_role=item.project.caller_role)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ItemDownloadView(APIView):
    @extend_schema(responses={(200, "*/*"): OpenApiTypes.BINARY, **_errors(401, 404)},
                   description="The item's file as uploaded, streamed; a text item comes as text/plain.")
    def get(self, request, item_id: int):
        item = selectors.item_get_for_user(user=request.user, item_id=item_id)
        if item.kind == item.Kind.TEXT:
            return FileResponse(io.BytesIO(item.text.encode("utf-8")), as_attachment=True,
                                filename=f"item-{item.pk}.txt", content_type="text/plain; charset=utf-8")
        name = item.original_name.rsplit("/", 1)[-1] or item.file.name.rsplit("/", 1)[-1]
        return FileResponse(item_file_open(item=item), as_attachment=True, filename=name,
                            content_type=item.mime_type)


class ItemThumbnailView(APIView):
    @extend_schema(responses={(200, "image/jpeg"): OpenApiTypes.BINARY, **_errors(401, 404)},
                   description=f"An image item's thumbnail: a JPEG at most {THUMBNAIL_SIZE} px on its longest side, "
                               "made on first use and kept. A text item has none (404).")
    def get(self, request, item_id: int):
        item = selectors.item_get_for_user(user=request.user, item_id=item_id)
        response = HttpResponse(item_thumbnail(item=item), content_type="image/jpeg")
        # an item's content never changes: the browser may keep its thumbnail
        response["Cache-Control"] = "private, max-age=86400"
        response["ETag"] = f'"{item.content_hash}-{THUMBNAIL_SIZE}"'
        return response


class ProjectItemListView(ProjectScopedListView):
    """A project's items, filtered by state, label, confidence range and source, sorted and paginated."""

    serializer_class = ItemBrowseSerializer

    @extend_schema(parameters=[ItemBrowseFilterSerializer],
                   responses={200: ItemBrowseSerializer(many=True), **_errors(400, 401, 404)})
    def get(self, request, project_id: int):
        project = self.get_project()
        filters = ItemBrowseFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(selectors.items_browse(project=project, **filters.validated_data))
        return self.get_paginated_response(ItemBrowseSerializer(page, many=True).data)
