"""The learning API: a project's learning settings and rounds, and starting a round."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from labeling.learning import services
from labeling.learning.serializers import (
    LearningOutSerializer,
    LearningPatchOutSerializer,
    LearningRoundSerializer,
    LearningSettingsOutSerializer,
    LearningSettingsSerializer,
    LearnStartedSerializer,
)
from modelship.openapi import error_responses as _errors
from projects.permissions import MANAGERS, PROJECT_REVIEWERS
from projects.scoping import ProjectScopedView

ROUNDS_SHOWN = 100


def _settings(project) -> dict:
    return LearningSettingsOutSerializer({name: getattr(project, name) for name in (
        *services.LEARNING_SETTINGS, "labels_counted", "learn_next_at")}).data


class ProjectLearningView(ProjectScopedView):
    """The project's learning settings and its learning rounds (newest first, the last 100)."""

    project_roles = {"GET": PROJECT_REVIEWERS, "PATCH": MANAGERS}

    @extend_schema(responses={200: LearningOutSerializer, **_errors(401, 403, 404)})
    def get(self, request, project_id: int):
        project = self.get_project()
        rounds = services.learning_rounds(project=project)[:ROUNDS_SHOWN]
        return Response({"settings": _settings(project), "rounds": LearningRoundSerializer(rounds, many=True).data})

    @extend_schema(request=LearningSettingsSerializer,
                   responses={200: LearningPatchOutSerializer, **_errors(400, 401, 403, 404)},
                   description="Change the target precision, delta, strict mode, the learning cadence, the audit "
                               "slice's size or the queue's strategy. A change of the first four re-decides every "
                               "item no person decided before the response, and returns the round that did it.")
    def patch(self, request, project_id: int):
        project = self.get_project()
        data = LearningSettingsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project, record = services.learning_settings_update(project=project, actor=request.user,
                                                            **data.validated_data)
        return Response({"settings": _settings(project),
                         "round": LearningRoundSerializer(record).data if record is not None else None})


class ProjectLearnView(ProjectScopedView):
    """Start a learning round now (on the worker), whatever the cadence."""

    project_roles = MANAGERS

    @extend_schema(request=None, responses={202: LearnStartedSerializer, **_errors(400, 401, 403, 404)})
    def post(self, request, project_id: int):
        project = self.get_project()
        services.learning_start(project=project, actor=request.user)
        return Response({"detail": services.LEARNING_STARTED}, status=202)
