from rest_framework import serializers

from exports.models import Export


class ExportOptionsSerializer(serializers.Serializer):
    """Which items go into an export and how they are split (checked against the schema by the service)."""

    include_auto_accepted = serializers.BooleanField(
        required=False, allow_null=True, default=None,
        help_text="Also export auto-accepted items (labels the model decided). Default: no for a project "
                  "export (final labels from review and import only), yes for a job export.")
    min_confidence = serializers.FloatField(
        required=False, allow_null=True, default=None, min_value=0.0, max_value=1.0,
        help_text="Leave out auto-accepted items below this confidence; labels a person gave always pass.")
    labels = serializers.ListField(
        child=serializers.CharField(max_length=1000, trim_whitespace=False), required=False, allow_null=True,
        allow_empty=False, default=None, max_length=10000,
        help_text="Export only these labels (category paths): items with one of them, holding only them.")
    split = serializers.DictField(
        child=serializers.FloatField(), required=False, allow_null=True, default=None,
        help_text='Ratios of "train", "val" and "test" adding up to 1 (default: everything in train).')
    seed = serializers.IntegerField(required=False, default=0, min_value=0, max_value=2**31 - 1,
                                    help_text="The split's seed: each item's split is hash(seed, item id).")
    model_predictions = serializers.BooleanField(
        required=False, default=False,
        help_text="Also export items no one has decided yet, labelled with the model's prediction (their state "
                  "says so). Without it, an export with no labelled item is refused (409) with the reason.")
    include_predictions = serializers.BooleanField(
        required=False, default=True, help_text="Write the model's labels, confidence and name where the format "
                                                "has room for them.")


class ExportCreateSerializer(ExportOptionsSerializer):
    format = serializers.CharField(max_length=64, help_text="A format name from GET /api/export/formats.")


class ExportSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", help_text="The export's opaque id: poll and download by it.")
    project = serializers.IntegerField(source="project_id")
    job = serializers.IntegerField(source="job_id", allow_null=True)
    schema_version = serializers.IntegerField(source="schema.version")
    created_by = serializers.EmailField(source="created_by.email", allow_null=True, default=None)
    download_name = serializers.CharField(read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Export
        fields = ["id", "project", "job", "format", "options", "schema_version", "status", "total", "processed",
                  "written", "skipped", "size_bytes", "error", "download_name", "download_url", "created_by",
                  "created_at", "started_at", "finished_at", "expires_at"]

    def get_download_url(self, export) -> str | None:
        if export.status != Export.Status.SUCCEEDED:
            return None
        return f"/api/export/download/{export.download_name}"


class ExportFormatSerializer(serializers.Serializer):
    name = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    extension = serializers.CharField()
    project_types = serializers.ListField(child=serializers.CharField())
    multi_label_images = serializers.BooleanField(help_text="Whether it holds images with several labels.")
    suitable = serializers.BooleanField(required=False, help_text="With ?project or ?project_type: whether it suits.")
    reason = serializers.CharField(required=False, help_text="Why it does not suit (empty when it does).")


class ExportFormatFilterSerializer(serializers.Serializer):
    project = serializers.IntegerField(required=False)
    project_type = serializers.CharField(required=False, max_length=64)
    multi_label = serializers.BooleanField(required=False, default=False)
