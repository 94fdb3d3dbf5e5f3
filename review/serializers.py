"""Input and output shapes of the review API."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from labeling.models import Item
from review import selectors
from review.models import ReviewDecision
from review.services import BATCH_INVALID, DecisionInput, gold_rate

MAX_LIMIT = 100
MAX_BATCH = 500
MAX_EXCLUDE = 500
EXCLUDE_INVALID = "exclude must be a comma-separated list of item ids."


class QueueQuerySerializer(serializers.Serializer):
    project = serializers.IntegerField()
    limit = serializers.IntegerField(required=False, default=10, min_value=1, max_value=MAX_LIMIT)
    strategy = serializers.CharField(required=False, allow_blank=True, max_length=64,
                                     help_text="How to order the queue (default: the project's setting).")
    exclude = serializers.CharField(required=False, allow_blank=True, default="",
                                    help_text="Comma-separated ids of items to leave out (the ones you skipped).")

    def validate_exclude(self, value: str) -> list[int]:
        try:
            ids = [int(part) for part in value.split(",") if part.strip()]
        except ValueError:
            raise serializers.ValidationError(EXCLUDE_INVALID) from None
        return ids[:MAX_EXCLUDE]


class ProjectQuerySerializer(serializers.Serializer):
    project = serializers.IntegerField()


class PredictionShownSerializer(serializers.Serializer):
    label = serializers.CharField()
    confidence = serializers.FloatField()


class QueueItemSerializer(serializers.Serializer):
    """An item as a reviewer sees it: its content, the model's top labels and why it was picked."""

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Item.Kind.choices)
    text = serializers.CharField()
    file_url = serializers.SerializerMethodField()
    original_name = serializers.CharField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    predicted_labels = serializers.ListField(child=serializers.CharField(), allow_null=True)
    confidence = serializers.FloatField(allow_null=True)
    predictions = serializers.SerializerMethodField()
    reason = serializers.SerializerMethodField()
    required_reviews = serializers.IntegerField()
    review_count = serializers.IntegerField()

    def get_file_url(self, item: Item) -> str | None:
        return reverse("item-download", args=[item.pk]) if item.kind == Item.Kind.IMAGE else None

    def get_predictions(self, item: Item) -> list[dict]:
        return PredictionShownSerializer(selectors.top_predictions(item), many=True).data

    def get_reason(self, item: Item) -> str:
        return self.context.get("reasons", {}).get(item.pk, "")


class QueueSerializer(serializers.Serializer):
    project = serializers.IntegerField()
    strategy = serializers.CharField()
    lease_expires_at = serializers.DateTimeField()
    items = QueueItemSerializer(many=True)


class SubmitSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    decision = serializers.ChoiceField(choices=ReviewDecision.Decision.choices)
    labels = serializers.ListField(child=serializers.CharField(allow_blank=True, max_length=1000), required=False,
                                   allow_null=True, max_length=5000,
                                   help_text="The labels, when modifying (category paths).")
    seconds_spent = serializers.FloatField(required=False, default=0.0, min_value=0.0, max_value=86400.0)

    def decision_input(self) -> DecisionInput:
        data = self.validated_data
        return DecisionInput(item_id=data["item"], decision=data["decision"], labels=data.get("labels"),
                             seconds_spent=data["seconds_spent"])


class BatchSerializer(serializers.Serializer):
    project = serializers.IntegerField()
    decisions = serializers.ListField(child=serializers.DictField(), min_length=1, max_length=MAX_BATCH,
                                      help_text="Decisions shaped like /api/review/submit's body.")

    def decision_inputs(self) -> list[DecisionInput]:
        """Each decision parsed; a 400 naming every malformed one (by index) and saving nothing."""
        inputs, errors = [], {}
        for index, raw in enumerate(self.validated_data["decisions"]):
            entry = SubmitSerializer(data=raw)
            if entry.is_valid():
                inputs.append(entry.decision_input())
            else:
                errors[str(index)] = entry.errors
        if errors:
            total = len(self.validated_data["decisions"])
            raise serializers.ValidationError(
                {"detail": BATCH_INVALID.format(count=len(errors), total=total), "errors": errors})
        return inputs


class DecisionSerializer(serializers.ModelSerializer):
    schema_version = serializers.IntegerField(source="schema.version")
    item_state = serializers.CharField(source="item.state")
    final_labels = serializers.JSONField(source="item.final_labels")
    review_outcome = serializers.CharField(source="item.review_outcome")

    class Meta:
        model = ReviewDecision
        fields = ["id", "item", "decision", "labels", "schema_version", "seconds_spent", "item_state",
                  "final_labels", "review_outcome", "undone_at", "created_at"]


class BatchResultSerializer(serializers.Serializer):
    decisions = DecisionSerializer(many=True)


class UndoResultSerializer(serializers.Serializer):
    undone = DecisionSerializer()
    item = QueueItemSerializer(help_text="The item again, to be decided anew.")


class ReleaseSerializer(serializers.Serializer):
    project = serializers.IntegerField()
    items = serializers.ListField(child=serializers.IntegerField(), max_length=MAX_EXCLUDE)


class ReleaseResultSerializer(serializers.Serializer):
    released = serializers.IntegerField()


class GoldInSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    labels = serializers.ListField(child=serializers.CharField(allow_blank=True, max_length=1000), allow_null=True,
                                   help_text="The known answer; null makes the item an ordinary one again.")


class GoldItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    text = serializers.CharField()
    original_name = serializers.CharField()
    gold_labels = serializers.ListField(child=serializers.CharField(), allow_null=True)
    answered = serializers.IntegerField(source="gold_answered", default=0)
    correct = serializers.IntegerField(source="gold_correct", default=0)


class AdjudicationDecisionSerializer(serializers.Serializer):
    reviewer = serializers.EmailField(source="reviewer.email")
    decision = serializers.CharField()
    labels = serializers.ListField(child=serializers.CharField())
    created_at = serializers.DateTimeField()


class AdjudicationItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    text = serializers.CharField()
    original_name = serializers.CharField()
    predicted_labels = serializers.ListField(child=serializers.CharField(), allow_null=True)
    confidence = serializers.FloatField(allow_null=True)
    decisions = AdjudicationDecisionSerializer(source="decisions_shown", many=True)


class ReviewSettingsSerializer(serializers.Serializer):
    queue_strategy = serializers.CharField(required=False, max_length=32)
    lease_seconds = serializers.IntegerField(required=False, min_value=30, max_value=86400)
    overlap_reviewers = serializers.IntegerField(required=False, min_value=2, max_value=10)
    overlap_fraction = serializers.FloatField(required=False, min_value=0.0, max_value=1.0)
    gold_rate = serializers.FloatField(required=False, allow_null=True, min_value=0.0, max_value=1.0,
                                       help_text="The share of queue slots given to gold checks; null: the "
                                                 "deployment's default (REVIEW_GOLD_RATE).")


class ReviewSettingsUpdateSerializer(ReviewSettingsSerializer):
    project = serializers.IntegerField()


class ReviewSettingsOutSerializer(serializers.Serializer):
    queue_strategy = serializers.CharField()
    lease_seconds = serializers.IntegerField()
    overlap_reviewers = serializers.IntegerField()
    overlap_fraction = serializers.FloatField()
    gold_rate = serializers.FloatField(allow_null=True, help_text="The project's own gold rate; null: the default.")
    gold_rate_in_force = serializers.SerializerMethodField(
        help_text="The share of queue slots given to gold checks now (the project's own or the default).")
    strategies = serializers.SerializerMethodField()

    def get_gold_rate_in_force(self, project) -> float:
        return gold_rate(project=project)

    def get_strategies(self, project) -> list[str]:
        return sorted(selectors.QUEUE_STRATEGIES)
