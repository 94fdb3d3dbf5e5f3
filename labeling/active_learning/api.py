"""The active-learning API: strategies, suggestions, effectiveness, and the label-issue queue."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from labeling.active_learning import selectors
from labeling.active_learning import services as al
from labeling.active_learning.serializers import (
    AnalyzeSerializer,
    LabelIssueResolveSerializer,
    LabelIssueSerializer,
    StrategySerializer,
    SuggestionSerializer,
    SuggestSerializer,
)
from labeling.engine.active_learning import list_strategies
from labeling.inference.selectors import job_get_for_user
from modelship.openapi import error_responses as _errors
from projects.permissions import ANY_PROJECT_ROLE, PROJECT_REVIEWERS
from projects.scoping import ProjectScopedListView, ProjectScopedView


def _job_project(request, job_id: int, roles):
    return job_get_for_user(user=request.user, job_id=job_id, require=roles).project


class StrategiesView(APIView):
    @extend_schema(description='The active-learning strategies, what each needs (probabilities, embeddings, labels) and what it can use.')
    @extend_schema(responses={200: StrategySerializer(many=True), **_errors(401)})
    def get(self, request):
        return Response(list_strategies())


class SuggestSamplesView(APIView):
    """The waiting items of the job's project a strategy would have people label next, with reasons."""

    @extend_schema(request=SuggestSerializer, responses={200: SuggestionSerializer(many=True),
                                                         **_errors(400, 401, 403, 404)})
    def post(self, request, job_id: int):
        data = SuggestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = _job_project(request, job_id, ANY_PROJECT_ROLE)
        return Response(al.samples_suggest(project=project, **data.validated_data))


class AnalyzeEffectivenessView(APIView):
    """Replay labelling on the project's human labels: curves per strategy and labels to 90%/95%."""

    @extend_schema(request=AnalyzeSerializer, responses={200: inline_serializer("Effectiveness", {
        "n_train": serializers.IntegerField(), "n_test": serializers.IntegerField(),
        "n_classes": serializers.IntegerField(), "full_accuracy": serializers.FloatField(),
        "targets": serializers.ListField(child=serializers.FloatField()), "seed": serializers.IntegerField(),
        "curves": serializers.ListField(child=serializers.DictField()),
        "class_names": serializers.ListField(child=serializers.CharField()),
    }), **_errors(400, 401, 403, 404)})
    def post(self, request, job_id: int):
        data = AnalyzeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = _job_project(request, job_id, ANY_PROJECT_ROLE)
        return Response(al.effectiveness_analyze(project=project, **data.validated_data))


class LabelIssueListView(ProjectScopedListView):
    """The project's open label issues: human labels the model confidently contradicts."""

    serializer_class = LabelIssueSerializer

    @extend_schema(parameters=[OpenApiParameter("project", int, required=True)],
                   responses={200: LabelIssueSerializer(many=True), **_errors(400, 401, 403, 404)})
    def get(self, request):
        project = self.get_project(request.query_params.get("project"))
        page = self.paginate_queryset(selectors.label_issues_open(project=project))
        return self.get_paginated_response(LabelIssueSerializer(page, many=True).data)


class LabelIssueScanView(ProjectScopedView):
    """Look for label issues now (the learning loop also does after each round)."""

    project_roles = PROJECT_REVIEWERS

    @extend_schema(request=None, responses={200: inline_serializer("LabelIssueScan", {
        "opened": serializers.IntegerField()}), **_errors(401, 403, 404)})
    def post(self, request, project_id: int):
        project = self.get_project()
        return Response({"opened": al.label_issues_find(project=project, actor=request.user)})


class LabelIssueResolveView(APIView):
    project_roles = PROJECT_REVIEWERS

    @extend_schema(description='Resolve an open label issue: keep the human label, or relabel the item with `labels`.')
    @extend_schema(request=LabelIssueResolveSerializer, responses={200: LabelIssueSerializer,
                                                                   **_errors(400, 401, 403, 404, 409)})
    def post(self, request, issue_id: int):
        data = LabelIssueResolveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        issue = selectors.label_issue_get_for_user(user=request.user, issue_id=issue_id, require=PROJECT_REVIEWERS)
        issue = al.label_issue_resolve(issue=issue, actor=request.user, **data.validated_data)
        return Response(LabelIssueSerializer(issue).data, status=status.HTTP_200_OK)
