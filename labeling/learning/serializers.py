"""Serializers of the learning API."""

from rest_framework import serializers


class LearningSettingsSerializer(serializers.Serializer):
    """A project's learning settings (every field optional on PATCH; only those given change)."""

    target_precision = serializers.FloatField(required=False, min_value=0.5, max_value=0.999,
                                              help_text="Auto-accepted labels are at least this precise, with "
                                                        "probability at least 1 - precision_delta.")
    precision_delta = serializers.FloatField(required=False, min_value=0.001, max_value=0.5,
                                             help_text="The chance the guarantee may fail (Learn-then-Test's delta).")
    strict_precision = serializers.BooleanField(required=False,
                                                help_text="Exact binomial tests only (no prediction-powered ones).")
    learn_first = serializers.IntegerField(required=False, min_value=0, max_value=100_000,
                                           help_text="The first round after this many human labels, then twice as "
                                                     "many each time until the gap reaches learn_every; 0: every "
                                                     "learn_every from the start.")
    learn_every = serializers.IntegerField(required=False, min_value=0, max_value=100_000,
                                           help_text="Then a round every this many human labels.")
    audit_slice_size = serializers.IntegerField(required=False, min_value=0, max_value=100_000,
                                                help_text="Items drawn at random for the audit slice.")
    queue_strategy = serializers.CharField(required=False, max_length=32,
                                           help_text="The review queue's default strategy.")


class LearningSettingsOutSerializer(LearningSettingsSerializer):
    labels_counted = serializers.IntegerField(help_text="Human labels counted so far.")
    learn_next_at = serializers.IntegerField(help_text="The next round starts when labels_counted reaches this.")


class LearningRoundSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    trigger = serializers.CharField()
    started_at = serializers.DateTimeField()
    duration_ms = serializers.IntegerField()
    labels_used = serializers.IntegerField()
    audited = serializers.IntegerField()
    model_name = serializers.CharField()
    head_version = serializers.IntegerField(allow_null=True)
    promoted = serializers.BooleanField()
    promotion_reason = serializers.CharField()
    temperature_before = serializers.FloatField()
    temperature_after = serializers.FloatField()
    calibration_reason = serializers.CharField()
    ece_before = serializers.FloatField(allow_null=True)
    ece_after = serializers.FloatField(allow_null=True)
    threshold = serializers.FloatField(allow_null=True)
    statement = serializers.CharField()
    coverage = serializers.FloatField()
    eligible = serializers.IntegerField()
    auto_accepted = serializers.IntegerField()
    accepted_now = serializers.IntegerField()
    returned_to_review = serializers.IntegerField()


class LearningOutSerializer(serializers.Serializer):
    settings = LearningSettingsOutSerializer()
    rounds = LearningRoundSerializer(many=True)


class LearningPatchOutSerializer(serializers.Serializer):
    settings = LearningSettingsOutSerializer()
    round = LearningRoundSerializer(allow_null=True, help_text="The round that re-decided the items, if any.")


class LearnStartedSerializer(serializers.Serializer):
    detail = serializers.CharField()
