"""Serializers of the learning API."""

from rest_framework import serializers


class CalibrationReportSerializer(serializers.Serializer):
    model = serializers.CharField()
    head_version = serializers.IntegerField(allow_null=True)
    temperature = serializers.FloatField()
    fitted_on = serializers.IntegerField()
    ece_before = serializers.FloatField(allow_null=True)
    ece_after = serializers.FloatField(allow_null=True)
    threshold = serializers.FloatField(allow_null=True)
    threshold_source = serializers.CharField()
    audit_slice = serializers.DictField()
    precision = serializers.DictField()
