"""The analytics API: the dashboards (user, project, platform), cost savings, quality metrics, and the
reports other apps' URLs used to compute (``/api/projects/{id}/analytics`` and ``/calibration``,
``/api/review/stats``).

Every project figure is scoped like the rest of the API: a project of another organization is a
404; any role in the project may read its figures (review stats: reviewers and managers). The
platform overview is for staff only.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import selectors
from analytics.serializers import AnalyticsSerializer, CalibrationReportSerializer, CostSavingsSerializer
from modelship.openapi import error_responses as _errors
from projects.permissions import PROJECT_REVIEWERS, project_for_request
from review.selectors import review_project_for_request
from review.serializers import ProjectQuerySerializer

STAFF_ONLY = "Only staff can see the platform overview."
DAYS = OpenApiParameter("days", int, description="Days of history (1 to 366, default 30).")


class IsStaff(BasePermission):
    message = STAFF_ONLY

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


def _days(request) -> int:
    try:
        return min(max(int(request.query_params.get("days", selectors.HISTORY_DAYS)), 1), 366)
    except ValueError:
        return selectors.HISTORY_DAYS


class UserDashboardView(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT, **_errors(401)},
                   description="Your review decisions: totals, per day (14 days), per project, items per hour, "
                               "gold accuracy and agreement with the model.")
    def get(self, request):
        return Response(selectors.user_dashboard(user=request.user))


class ProjectDashboardView(APIView):
    @extend_schema(parameters=[DAYS], responses={200: OpenApiTypes.OBJECT, **_errors(401, 404)},
                   description="Everything on the project dashboard: summary (items per state and label, "
                               "auto-accept rate, ETA against the deadline), history per day, throughput, "
                               "model quality (accuracy, per class, confusion matrix, calibration, reliability "
                               "bins), reviewers and cost savings. Every derived figure carries its formula.")
    def get(self, request, project_id: int):
        project = project_for_request(request, self, project_id)
        return Response(selectors.project_dashboard(project=project, days=_days(request)))


class ProjectSummaryView(APIView):
    @extend_schema(responses={200: AnalyticsSerializer, **_errors(401, 404)},
                   description="Item counts per state, per final label and per source, progress against the "
                               "deadline, the auto-accept rate and the ETA at the current pace.")
    def get(self, request, project_id: int):
        project = project_for_request(request, self, project_id)
        return Response(AnalyticsSerializer(selectors.project_summary(project=project)).data)


class CostSavingsView(APIView):
    @extend_schema(responses={200: CostSavingsSerializer, **_errors(401, 404)},
                   description="Items labelled without a person × seconds per item ÷ 3600 × hourly rate, minus "
                               "items the model scored × compute cost per item; each figure with its formula.")
    def get(self, request, project_id: int):
        project = project_for_request(request, self, project_id)
        return Response(CostSavingsSerializer(selectors.cost_savings(project=project)).data)


class QualityMetricsView(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT, **_errors(401, 404)},
                   description="Model accuracy against people's decisions (overall, per class, confusion matrix "
                               "of the 20 most frequent classes plus '(other)'), calibration (temperature, ECE "
                               "before and after the fit) and the reliability diagram of the audit slice.")
    def get(self, request, project_id: int):
        project = project_for_request(request, self, project_id)
        return Response(selectors.quality_metrics(project=project))


class PlatformOverviewView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(responses={200: OpenApiTypes.OBJECT, **_errors(401, 403)},
                   description="Staff only: organizations, users, projects, items per state, jobs, live workers "
                               "and their utilisation over the last 24 hours.")
    def get(self, request):
        return Response(selectors.platform_overview())


class ReviewStatsView(APIView):
    project_roles = PROJECT_REVIEWERS

    @extend_schema(parameters=[ProjectQuerySerializer], responses={200: OpenApiTypes.OBJECT, **_errors(400, 401, 403, 404)},
                   description="Per project and per reviewer: reviewed count, approve/modify/reject rates, median "
                               "seconds per item, items per hour, agreement (Cohen's kappa per pair, Krippendorff's "
                               "alpha), gold accuracy, and the model's accuracy against people (per class, "
                               "confusion matrix).")
    def get(self, request):
        data = ProjectQuerySerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        project = review_project_for_request(request, self, data.validated_data["project"])
        return Response(selectors.review_stats(project=project))


class ProjectCalibrationView(APIView):
    """The project's calibration: temperature, ECE before and after, threshold, stated precision."""

    @extend_schema(responses={200: CalibrationReportSerializer, **_errors(401, 404)})
    def get(self, request, project_id: int):
        project = project_for_request(request, self, project_id)
        return Response(selectors.calibration_report(project=project))
