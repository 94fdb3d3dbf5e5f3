from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from labeling.models import ImportJob, Item
from labeling.uploads.readers import TEXT_MODES


class UploadSerializer(serializers.Serializer):
    project = serializers.IntegerField()
    files = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True, use_url=False), required=False, default=list,
        help_text="Images (JPEG, PNG, TIFF, BMP, WebP), TXT, CSV, JSON, JSONL files, and ZIP archives of them.",
    )
    text_mode = serializers.ChoiceField(
        choices=TEXT_MODES, required=False, default="line",
        help_text="TXT files: one item per non-empty line (line), or the whole file as one item (whole).",
    )


class ReportFileSerializer(serializers.Serializer):
    file = serializers.CharField()
    kind = serializers.CharField()
    accepted = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    rejected = serializers.IntegerField()


class ReportRowSerializer(serializers.Serializer):
    file = serializers.CharField(help_text="The file, or the entry's path inside its archive.")
    archive = serializers.CharField(help_text="The uploaded ZIP the file came from, or empty.")
    line = serializers.IntegerField(allow_null=True, help_text="The row of a CSV, TXT or JSONL file "
                                                               "(the position in a JSON list).")
    item = serializers.IntegerField(allow_null=True, help_text="The item created, or the one it duplicates.")


class ReportRejectedSerializer(serializers.Serializer):
    file = serializers.CharField()
    archive = serializers.CharField()
    line = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField()


class ImportReportSerializer(serializers.Serializer):
    files = ReportFileSerializer(many=True)
    accepted = ReportRowSerializer(many=True)
    duplicates = ReportRowSerializer(many=True)
    rejected = ReportRejectedSerializer(many=True)
    truncated = serializers.BooleanField(help_text="True when a list was cut at UPLOAD_REPORT_MAX_ROWS rows.")


class ImportJobSerializer(serializers.ModelSerializer):
    created_by = serializers.EmailField(source="created_by.email", allow_null=True, default=None)
    report = serializers.SerializerMethodField(help_text="Filled when the import has finished.")

    class Meta:
        model = ImportJob
        fields = ["id", "project", "status", "is_async", "text_mode", "total", "total_bytes", "processed",
                  "accepted", "duplicates", "rejected", "report", "error", "created_by", "created_at",
                  "started_at", "finished_at"]

    @extend_schema_field(ImportReportSerializer(allow_null=True))
    def get_report(self, job):
        return job.report or None


class ItemSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.IntegerField(source="uploaded_by_id", allow_null=True)
    final_schema_version = serializers.IntegerField(source="final_schema.version", allow_null=True, default=None)
    decided_by = serializers.IntegerField(source="decided_by_id", allow_null=True)
    import_job = serializers.IntegerField(source="import_job_id", allow_null=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Item
        fields = ["id", "project", "kind", "text", "original_name", "mime_type", "size_bytes", "width", "height",
                  "source_archive", "content_hash", "metadata", "state", "in_audit_slice", "final_labels",
                  "final_schema_version", "final_source", "decided_by", "decided_at", "review_outcome",
                  "import_job", "uploaded_by", "created_at", "download_url"]

    def get_download_url(self, item) -> str:
        return f"/api/items/{item.pk}/download"


class FilesFilterSerializer(serializers.Serializer):
    project = serializers.IntegerField(required=False)
    kind = serializers.ChoiceField(choices=Item.Kind.choices, required=False)
    state = serializers.ChoiceField(choices=Item.State.choices, required=False)
    import_job = serializers.IntegerField(required=False)


class ImportJobFilterSerializer(serializers.Serializer):
    project = serializers.IntegerField()


CONFIDENCE_RANGE_INVALID = "min_confidence cannot be above max_confidence."


class ItemBrowseFilterSerializer(serializers.Serializer):
    """The data browser's filters (the page and ``GET /api/projects/{id}/items``)."""

    state = serializers.ChoiceField(choices=Item.State.choices, required=False, allow_blank=True)
    label = serializers.CharField(required=False, allow_blank=True, max_length=1000,
                                  help_text="A category path: the final label, or the model's where none is decided.")
    min_confidence = serializers.FloatField(required=False, allow_null=True, min_value=0.0, max_value=1.0)
    max_confidence = serializers.FloatField(required=False, allow_null=True, min_value=0.0, max_value=1.0)
    source = serializers.ChoiceField(
        choices=[(s, s) for s in ("import", "auto", "review", "none")], required=False, allow_blank=True,
        help_text="Who decided the final label: import, auto (the threshold), review, or none yet.")
    sort = serializers.ChoiceField(choices=["newest", "oldest", "confidence", "-confidence", "decided"],
                                   required=False, default="newest")

    def validate(self, data):
        low, high = data.get("min_confidence"), data.get("max_confidence")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"min_confidence": [CONFIDENCE_RANGE_INVALID]})
        return data


class ItemBrowseSerializer(ItemSerializer):
    class Meta(ItemSerializer.Meta):
        fields = ItemSerializer.Meta.fields + ["predicted_labels", "confidence"]
