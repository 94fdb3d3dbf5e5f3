"""The projects API: projects, templates, label schema versions, assignments.

``GET /api/projects/{id}/analytics`` is a report, served by ``analytics``."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import ADMIN, ALL_ROLES, OrganizationRole, active_organization
from modelship.exceptions import NotFound
from modelship.openapi import error_responses as _errors
from projects import selectors, services
from projects.permissions import ANY_PROJECT_ROLE, MANAGERS
from projects.scoping import ProjectScopedView
from projects.serializers import (
    AssignmentSerializer,
    AssignSerializer,
    LabelSchemaSerializer,
    LabelSchemaSummarySerializer,
    ProjectCreateSerializer,
    ProjectDeleteSerializer,
    ProjectSerializer,
    ProjectUpdateSerializer,
    SchemaInSerializer,
    TemplateSerializer,
)
from projects.template_catalog import template_list

ORG_HEADER = OpenApiParameter("X-Organization", int, OpenApiParameter.HEADER, required=False,
                              description="The organization to work in (default: your oldest membership).")


def _schema_out(schema) -> dict:
    schema.category_list = selectors.schema_categories(schema=schema)
    return LabelSchemaSerializer(schema).data


class ProjectListCreateView(GenericAPIView):
    """The active organization's projects; admins create them (optionally from a template)."""

    permission_classes = [IsAuthenticated, OrganizationRole]
    required_roles = {"GET": ALL_ROLES, "POST": ADMIN}
    serializer_class = ProjectSerializer

    @extend_schema(
        parameters=[ORG_HEADER, OpenApiParameter("status", str, enum=["active", "archived"]),
                    OpenApiParameter("search", str, description="Part of the name")],
        responses={200: ProjectSerializer(many=True), **_errors(401, 403)},
    )
    def get(self, request):
        projects = selectors.projects_for(
            user=request.user, organization=active_organization(request),
            status=request.query_params.get("status"), search=request.query_params.get("search"),
        )
        page = self.paginate_queryset(projects)
        return self.get_paginated_response(ProjectSerializer(selectors.project_list_roles(page), many=True).data)

    @extend_schema(parameters=[ORG_HEADER], request=ProjectCreateSerializer,
                   responses={201: ProjectSerializer, **_errors(400, 401, 403)})
    def post(self, request):
        data = ProjectCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = services.project_create(organization=active_organization(request), created_by=request.user,
                                          **data.validated_data)
        project = selectors.project_get_for_user(user=request.user, project_id=project.pk, counts=True)
        return Response(ProjectSerializer(project).data, status=status.HTTP_201_CREATED)


class ProjectTemplateListView(APIView):
    """Templates a project can start from: type, default model and label schema."""

    @extend_schema(responses={200: TemplateSerializer(many=True), **_errors(401)})
    def get(self, request):
        return Response(TemplateSerializer(template_list(), many=True).data)


class ProjectDetailView(ProjectScopedView):
    project_roles = {"GET": ANY_PROJECT_ROLE, "PUT": MANAGERS, "PATCH": MANAGERS, "DELETE": MANAGERS}
    project_counts = True

    @extend_schema(description="A project of the caller's organizations, with its settings, item count and the caller's role.")
    @extend_schema(responses={200: ProjectSerializer, **_errors(401, 404)})
    def get(self, request, project_id: int):
        return Response(ProjectSerializer(self.get_project()).data)

    @extend_schema(request=ProjectUpdateSerializer, responses={200: ProjectSerializer, **_errors(400, 401, 403, 404)},
                   description="Change settings; only the fields given change.")
    def put(self, request, project_id: int):
        project = self.get_project()
        data = ProjectUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.project_update(project=project, actor=request.user, **data.validated_data)
        return Response(ProjectSerializer(project).data)

    @extend_schema(description='Change settings; only the fields given change (the same as PUT).')
    @extend_schema(request=ProjectUpdateSerializer, responses={200: ProjectSerializer, **_errors(400, 401, 403, 404)})
    def patch(self, request, project_id: int):
        return self.put(request, project_id)

    @extend_schema(
        request=ProjectDeleteSerializer,
        parameters=[OpenApiParameter("confirm", str, description="The project's name (or in the body)")],
        responses={204: None, **_errors(400, 401, 403, 404)},
        description="Delete the project, its items and their stored files. A project with items needs "
                    "`confirm` set to its name.",
    )
    def delete(self, request, project_id: int):
        project = self.get_project()
        data = ProjectDeleteSerializer(data=request.data or request.query_params)
        data.is_valid(raise_exception=True)
        services.project_delete(project=project, actor=request.user, confirm=data.validated_data.get("confirm"))
        return Response(status=status.HTTP_204_NO_CONTENT)


class LabelSchemaView(ProjectScopedView):
    """The current label schema (the latest version), and writing the next version."""

    project_roles = {"GET": ANY_PROJECT_ROLE, "POST": MANAGERS}

    @extend_schema(responses={200: LabelSchemaSerializer, **_errors(401, 404)})
    def get(self, request, project_id: int):
        project = self.get_project()
        schema = selectors.schema_current(project=project)
        if schema is None:
            raise NotFound(selectors.NO_SCHEMA)
        return Response(_schema_out(schema))

    @extend_schema(request=SchemaInSerializer, responses={201: LabelSchemaSerializer, **_errors(400, 401, 403, 404)},
                   description="The full category list of the next version; earlier versions stay as they were.")
    def post(self, request, project_id: int):
        project = self.get_project()
        data = SchemaInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        schema = services.schema_version_create(project=project, created_by=request.user, **data.validated_data)
        return Response(_schema_out(schema), status=status.HTTP_201_CREATED)


class LabelSchemaVersionListView(ProjectScopedView):
    @extend_schema(description="Every version of the project's label schema, newest first, with its category count.")
    @extend_schema(responses={200: LabelSchemaSummarySerializer(many=True), **_errors(401, 404)})
    def get(self, request, project_id: int):
        project = self.get_project()
        return Response(LabelSchemaSummarySerializer(selectors.schema_versions(project=project), many=True).data)


class LabelSchemaVersionDetailView(ProjectScopedView):
    @extend_schema(description="One version of the project's label schema with its categories.")
    @extend_schema(responses={200: LabelSchemaSerializer, **_errors(401, 404)})
    def get(self, request, project_id: int, version: int):
        project = self.get_project()
        return Response(_schema_out(selectors.schema_get(project=project, version=version)))


class AssignView(ProjectScopedView):
    """Give a member of the project's organization a role in the project (or change it)."""

    project_roles = MANAGERS

    @extend_schema(request=AssignSerializer, responses={200: AssignmentSerializer, **_errors(400, 401, 403, 404)})
    def post(self, request, project_id: int):
        project = self.get_project()
        data = AssignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        assignment = services.assignment_set(project=project, actor=request.user, **data.validated_data)
        return Response(AssignmentSerializer(assignment).data)


class AssignmentListView(ProjectScopedView):
    @extend_schema(description='Who has a role in the project, and their daily targets.')
    @extend_schema(responses={200: AssignmentSerializer(many=True), **_errors(401, 404)})
    def get(self, request, project_id: int):
        project = self.get_project()
        return Response(AssignmentSerializer(selectors.assignments_for(project=project), many=True).data)


class AssignmentDetailView(ProjectScopedView):
    project_roles = MANAGERS

    @extend_schema(description="Remove a user's role in the project.")
    @extend_schema(responses={204: None, **_errors(401, 403, 404)})
    def delete(self, request, project_id: int, user_id: int):
        project = self.get_project()
        services.assignment_remove(project=project, actor=request.user, user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
