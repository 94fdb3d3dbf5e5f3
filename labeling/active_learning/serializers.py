"""Serializers of the active-learning API."""

from rest_framework import serializers


class StrategySerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    requires = serializers.ListField(child=serializers.CharField())
    optional = serializers.ListField(child=serializers.CharField())


class SuggestSerializer(serializers.Serializer):
    strategy = serializers.CharField(default="margin")
    count = serializers.IntegerField(min_value=1, max_value=1000, default=20)
    seed = serializers.IntegerField(default=0)


class SuggestionSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    item_id = serializers.IntegerField()
    score = serializers.FloatField()
    reason = serializers.CharField()
    pool_size = serializers.IntegerField()


class AnalyzeSerializer(serializers.Serializer):
    strategies = serializers.ListField(child=serializers.CharField(), required=False, allow_empty=False)
    seed = serializers.IntegerField(default=0)


class LabelIssueSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    item_id = serializers.IntegerField()
    text = serializers.CharField(source="item.text")
    original_name = serializers.CharField(source="item.original_name")
    given_labels = serializers.ListField(child=serializers.CharField())
    suggested_label = serializers.CharField()
    self_confidence = serializers.FloatField()
    suggested_confidence = serializers.FloatField()
    reason = serializers.CharField()
    status = serializers.CharField()


class LabelIssueResolveSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["keep", "relabel"])
    labels = serializers.ListField(child=serializers.CharField(), required=False)
