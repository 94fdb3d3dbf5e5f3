"""The learning API: what the project's calibration says about its model."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from labeling.learning.calibration import calibration_report
from labeling.learning.serializers import CalibrationReportSerializer
from modelship.openapi import error_responses as _errors
from projects.permissions import project_for_request


class ProjectCalibrationView(APIView):
    """The project's calibration: temperature, ECE before and after, threshold, stated precision."""

    @extend_schema(responses={200: CalibrationReportSerializer, **_errors(401, 404)})
    def get(self, request, project_id: int):
        project = project_for_request(request, self, project_id)
        return Response(calibration_report(project=project))
