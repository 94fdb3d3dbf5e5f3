"""Shapes of the auto-labeling API: classify requests and answers, jobs, predictions, models."""

from rest_framework import serializers

from labeling.inference.jobs import job_scored
from labeling.models import Item, Job, Prediction


class TopLabelSerializer(serializers.Serializer):
    label = serializers.CharField()
    probability = serializers.FloatField()


class ClassifyResultSerializer(serializers.Serializer):
    model = serializers.CharField()
    labels = serializers.ListField(child=serializers.CharField())
    confidence = serializers.FloatField()
    calibrated = serializers.BooleanField()
    top = TopLabelSerializer(many=True)


class ClassifyTextSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True, trim_whitespace=False)
    model = serializers.CharField(required=False)
    project = serializers.IntegerField(required=False)
    categories = serializers.ListField(child=serializers.CharField(), required=False, min_length=2)


class ClassifyImageSerializer(serializers.Serializer):
    file = serializers.FileField()
    model = serializers.CharField(required=False)
    project = serializers.IntegerField(required=False)
    categories = serializers.ListField(child=serializers.CharField(), required=False, min_length=2)


class QuickSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True, trim_whitespace=False)
    task = serializers.CharField(default="sentiment")


class QuickResultSerializer(serializers.Serializer):
    task = serializers.CharField()
    model = serializers.CharField()
    label = serializers.CharField()
    confidence = serializers.FloatField()
    top = TopLabelSerializer(many=True)


class TextBatchSerializer(serializers.Serializer):
    project = serializers.IntegerField(required=False, help_text=(
        "Without one, the batch goes to your own scratch project for texts (sentiment), made on first use."))
    texts = serializers.ListField(child=serializers.CharField(allow_blank=True, trim_whitespace=False),
                                  allow_empty=False)
    model = serializers.CharField(required=False)


class ImageBatchSerializer(serializers.Serializer):
    project = serializers.IntegerField(required=False, help_text=(
        "Without one, the batch goes to your own scratch project for images (ImageNet), made on first use."))
    files = serializers.ListField(child=serializers.FileField(), allow_empty=False)
    model = serializers.CharField(required=False)


class ProjectClassifySerializer(serializers.Serializer):
    model = serializers.CharField(required=False)
    item_ids = serializers.ListField(child=serializers.IntegerField(), required=False, allow_empty=False)


class JobSerializer(serializers.ModelSerializer):
    scored = serializers.SerializerMethodField(help_text=(
        "Items the model has scored so far; moves after every model batch, before the chunk's results are "
        "written (done)."))
    progress = serializers.SerializerMethodField(help_text="Share of the job scored or finished, 0 to 1.")

    class Meta:
        model = Job
        fields = ["id", "project", "kind", "model_name", "schema", "status", "total", "done", "failed", "scored",
                  "progress", "error", "created_at", "started_at", "finished_at"]

    def get_scored(self, job) -> int:
        if not hasattr(job, "_scored"):  # read once per job: both fields use it
            counted = job.done + job.failed
            job._scored = counted if job.is_finished else min(job.total, max(counted, job_scored(job_id=job.pk)))
        return job._scored

    def get_progress(self, job) -> float:
        return round(self.get_scored(job) / job.total, 4) if job.total else 1.0


class JobFilterSerializer(serializers.Serializer):
    project = serializers.IntegerField(required=False)
    status = serializers.ChoiceField(choices=Job.Status.choices, required=False, allow_blank=True)
    kind = serializers.ChoiceField(choices=Job.Kind.choices, required=False, allow_blank=True)


class BatchJobSerializer(serializers.Serializer):
    job = JobSerializer()
    imported = serializers.DictField()


class PredictionItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="item.id")
    kind = serializers.CharField(source="item.kind")
    original_name = serializers.CharField(source="item.original_name")
    text = serializers.CharField(source="item.text")
    state = serializers.CharField(source="item.state")
    final_labels = serializers.JSONField(source="item.final_labels")


class PredictionSerializer(serializers.ModelSerializer):
    item = PredictionItemSerializer(source="*")
    error = serializers.SerializerMethodField()

    class Meta:
        model = Prediction
        fields = ["id", "item", "model_name", "labels", "confidence", "probabilities", "calibrated", "temperature",
                  "created_at", "error"]

    def get_error(self, obj) -> str | None:
        return None


class ResultsFilterSerializer(serializers.Serializer):
    label = serializers.CharField(required=False)
    min_confidence = serializers.FloatField(required=False, min_value=0, max_value=1)
    max_confidence = serializers.FloatField(required=False, min_value=0, max_value=1)
    state = serializers.ChoiceField(choices=Item.State.choices, required=False)


class ModelSerializer(serializers.Serializer):
    name = serializers.CharField()
    modality = serializers.CharField()
    description = serializers.CharField()
    label_set = serializers.CharField()
    any_label_set = serializers.BooleanField()
    embedding_dim = serializers.IntegerField(allow_null=True)
    loadable = serializers.BooleanField()
    unavailable_reason = serializers.CharField(allow_null=True)
