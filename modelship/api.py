from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from modelship.selectors import platform_health

_part = inline_serializer("HealthPart", {"ok": serializers.BooleanField(), "detail": serializers.CharField()})
HealthSerializer = inline_serializer(
    "Health",
    {
        "status": serializers.ChoiceField(choices=["ok", "degraded"]),
        "database": _part,
        "broker": _part,
        "workers": serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
        "down": serializers.ListField(child=serializers.CharField()),
    },
)


class HealthView(APIView):
    """Database, broker and live workers per queue: 200 when all are up, 503 naming what is down."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes: list = []

    @extend_schema(responses={200: HealthSerializer, 503: HealthSerializer})
    def get(self, request):
        report = platform_health()
        code = status.HTTP_200_OK if not report["down"] else status.HTTP_503_SERVICE_UNAVAILABLE
        return Response(report, status=code)
