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
