"""The learning API: what the project's calibration says about its model."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from labeling.learning.calibration import calibration_report
from labeling.learning.serializers import CalibrationReportSerializer
from modelship.openapi import error_responses as _errors
from projects.scoping import ProjectScopedView


class ProjectCalibrationView(ProjectScopedView):
    """The project's calibration: temperature, ECE before and after, threshold, stated precision."""

    @extend_schema(responses={200: CalibrationReportSerializer, **_errors(401, 404)})
    def get(self, request, project_id: int):
        project = self.get_project()
        return Response(calibration_report(project=project))
