"""The auto-labeling API: classify now, classify in batches (jobs), follow jobs, list models."""

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import active_membership
from labeling.engine import list_models
from labeling.inference import classify as classify_service
from labeling.inference import selectors
from labeling.inference.jobs import job_cancel, job_create
from labeling.inference.serializers import (
    BatchJobSerializer,
    ClassifyImageSerializer,
    ClassifyResultSerializer,
    ClassifyTextSerializer,
    ImageBatchSerializer,
    JobFilterSerializer,
    JobSerializer,
    ModelSerializer,
    PredictionSerializer,
    ProjectClassifySerializer,
    QuickResultSerializer,
    QuickSerializer,
    ResultsFilterSerializer,
    TextBatchSerializer,
)
from labeling.items.imports import UploadFile
from labeling.items.serializers import ImportJobSerializer
from modelship.exceptions import DomainError
from modelship.openapi import error_responses as _errors
from modelship.parsers import JSONParser
from modelship.throttles import IPRateThrottle
from projects.permissions import ANY_PROJECT_ROLE, UPLOADERS
from projects.scoping import ProjectScopedListView, ProjectScopedView


def _check_text(text: str, limit: int) -> None:
    if not text.strip():
        raise DomainError(classify_service.EMPTY_TEXT, field="text")
    if len(text) > limit:
        raise DomainError(classify_service.TEXT_TOO_LONG.format(limit=limit), field="text",
                          status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)


def _check_batch(count: int) -> None:
    limit = settings.CLASSIFY_BATCH_MAX_ITEMS
    if count > limit:
        raise DomainError(classify_service.BATCH_TOO_LARGE.format(limit=limit, count=count),
                          status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, extra={"limit": limit})


class ClassifyTextView(ProjectScopedView):
    """Classify one text at once: with a `project`, over its schema with its model and calibration."""

    project_roles = ANY_PROJECT_ROLE

    @extend_schema(request=ClassifyTextSerializer, responses={200: ClassifyResultSerializer,
                                                              **_errors(400, 401, 403, 404, 413)})
    def post(self, request):
        data = ClassifyTextSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        _check_text(v["text"], settings.CLASSIFY_TEXT_MAX_CHARS)
        project = self.get_project(v["project"]) if "project" in v else None
        result = classify_service.classify_now(kind="text", value=v["text"], model_name=v.get("model"),
                                               project=project, categories=v.get("categories"))
        return Response(ClassifyResultSerializer(result).data)


class ClassifyImageView(ProjectScopedView):
    """Classify one image at once (multipart `file`)."""

    parser_classes = [MultiPartParser, FormParser]
    project_roles = ANY_PROJECT_ROLE

    @extend_schema(request={"multipart/form-data": ClassifyImageSerializer},
                   responses={200: ClassifyResultSerializer, **_errors(400, 401, 403, 404, 413)})
    def post(self, request):
        data = ClassifyImageSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        upload = v["file"]
        if upload.size > settings.UPLOAD_MAX_FILE_BYTES:
            raise DomainError(f"The image is larger than the limit of {settings.UPLOAD_MAX_FILE_BYTES} bytes.",
                              field="file", status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        project = self.get_project(v["project"]) if "project" in v else None
        result = classify_service.classify_now(kind="image", value=upload.read(), model_name=v.get("model"),
                                               project=project, categories=v.get("categories"))
        return Response(ClassifyResultSerializer(result).data)


class ClassifyTextQuickView(APIView):
    """Try ModelShip without an account: one short text, a small model, answered at once."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [IPRateThrottle]
    throttle_scope = "quick"

    @extend_schema(request=QuickSerializer, responses={200: QuickResultSerializer, **_errors(400, 413, 429)})
    def post(self, request):
        data = QuickSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _check_text(data.validated_data["text"], settings.QUICK_TEXT_MAX_CHARS)
        result = classify_service.classify_quick(text=data.validated_data["text"], task=data.validated_data["task"])
        return Response(QuickResultSerializer(result).data)


def _batch_response(imported, job) -> Response:
    body = {"job": JobSerializer(job).data, "imported": ImportJobSerializer(imported).data}
    return Response(body, status=status.HTTP_202_ACCEPTED)


class ClassifyTextBatchView(ProjectScopedView):
    """Add texts to a project and classify them in a job on the workers (202; poll /api/jobs/{id})."""

    project_roles = UPLOADERS

    @extend_schema(request=TextBatchSerializer, responses={202: BatchJobSerializer,
                                                           **_errors(400, 401, 402, 403, 404, 413)})
    def post(self, request):
        texts = request.data.get("texts") if isinstance(request.data, dict) else None
        _check_batch(len(texts) if isinstance(texts, list) else 0)
        data = TextBatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        for index, text in enumerate(v["texts"]):
            if not text.strip():
                raise DomainError(f"Text {index} is empty.", field="texts")
        imported, job = classify_service.batch_classify(
            project=self.get_project(v["project"]) if v.get("project") is not None else None,
            membership=active_membership(request),
            files=[classify_service.texts_as_upload(v["texts"])], uploaded_by=request.user, model_name=v.get("model"),
            kind="text")
        return _batch_response(imported, job)


class ClassifyImageBatchView(ProjectScopedView):
    """Upload images to a project and classify them in a job on the workers (202)."""

    parser_classes = [MultiPartParser, FormParser]
    project_roles = UPLOADERS

    @extend_schema(request={"multipart/form-data": ImageBatchSerializer},
                   responses={202: BatchJobSerializer, **_errors(400, 401, 402, 403, 404, 413)})
    def post(self, request):
        _check_batch(len(request.FILES.getlist("files")))
        data = ImageBatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        imported, job = classify_service.batch_classify(
            project=self.get_project(v["project"]) if v.get("project") is not None else None,
            membership=active_membership(request),
            files=[UploadFile.from_upload(f) for f in v["files"]], uploaded_by=request.user, model_name=v.get("model"),
            kind="image")
        return _batch_response(imported, job)


class ProjectClassifyView(ProjectScopedView):
    """Classify every unlabelled item of the project (or the given items) in a job (202)."""

    project_roles = UPLOADERS
    parser_classes = [JSONParser]

    @extend_schema(request=ProjectClassifySerializer, responses={202: JobSerializer, **_errors(400, 401, 402, 403, 404)})
    def post(self, request, project_id: int):
        data = ProjectClassifySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = self.get_project()
        job = job_create(project=project, created_by=request.user, model_name=data.validated_data.get("model"),
                         item_ids=data.validated_data.get("item_ids"))
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class JobListView(ProjectScopedListView):
    """Jobs in the projects you can see, newest first; filter by project, status and kind."""

    serializer_class = JobSerializer

    @extend_schema(parameters=[JobFilterSerializer], responses={200: JobSerializer(many=True),
                                                                **_errors(400, 401, 404)})
    def get(self, request):
        filters = JobFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        f = filters.validated_data
        project = self.get_project(f["project"]) if "project" in f else None
        jobs = selectors.jobs_visible_to(user=request.user, project=project, status=f.get("status"),
                                         kind=f.get("kind"))
        page = self.paginate_queryset(jobs)
        return self.get_paginated_response(JobSerializer(page, many=True).data)


class JobDetailView(APIView):
    @extend_schema(description='An auto-labeling job: status, items done and failed, progress, the error if it failed.')
    @extend_schema(responses={200: JobSerializer, **_errors(401, 404)})
    def get(self, request, job_id: int):
        job = selectors.job_get_for_user(user=request.user, job_id=job_id)
        return Response(JobSerializer(job).data)


class JobCancelView(APIView):
    @extend_schema(description='Cancel a queued or running job; chunks not yet run are dropped (409 once it has finished).')
    @extend_schema(request=None, responses={200: JobSerializer, **_errors(401, 403, 404, 409)})
    def post(self, request, job_id: int):
        job = selectors.job_get_for_user(user=request.user, job_id=job_id, require=UPLOADERS)
        return Response(JobSerializer(job_cancel(job=job, actor=request.user)).data)


class JobResultsView(GenericAPIView):
    """A job's predictions, paginated; filter by label, confidence range and item state."""

    serializer_class = PredictionSerializer

    @extend_schema(parameters=[ResultsFilterSerializer], responses={200: PredictionSerializer(many=True),
                                                                   **_errors(400, 401, 404)})
    def get(self, request, job_id: int):
        job = selectors.job_get_for_user(user=request.user, job_id=job_id)
        filters = ResultsFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(selectors.job_results(job=job, **filters.validated_data))
        return self.get_paginated_response(PredictionSerializer(page, many=True).data)


class ModelListView(APIView):
    """The models ModelShip knows, their tasks, and whether each can load on this deployment."""

    @extend_schema(responses={200: ModelSerializer(many=True), **_errors(401)})
    def get(self, request):
        return Response(ModelSerializer([spec.as_dict() for spec in list_models()], many=True).data)
