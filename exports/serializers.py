from rest_framework import serializers

from exports.fields import COLUMN_NAME_MAX, FIELD_COLUMNS, FILTER_SOURCES, FILTER_STATES
from exports.models import Export, ExportTemplate

UNKNOWN_KEY = "Unknown {what} '{name}'; the {what}s are: {allowed}."
UNKNOWN_VALUE = "'{{input}}' is not a {what}; the {what}s are: {allowed}."


class StrictSerializer(serializers.Serializer):
    """Refuses keys it does not know, naming the ones it does (DRF would ignore them silently)."""

    unknown_what = "key"

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = [name for name in data if name not in self.fields]
            if unknown:
                raise serializers.ValidationError({unknown[0]: [UNKNOWN_KEY.format(
                    what=self.unknown_what, name=unknown[0], allowed=", ".join(self.fields))]})
        return super().to_internal_value(data)


def _choices(values: tuple[str, ...], what: str) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.ChoiceField(choices=values, error_messages={
            "invalid_choice": UNKNOWN_VALUE.format(what=what, allowed=", ".join(values))}),
        required=False, allow_empty=False, max_length=len(values) * 2,
        help_text=f"Any of: {', '.join(values)}.")


class ConfidenceRangeSerializer(StrictSerializer):
    unknown_what = "bound"
    min = serializers.FloatField(required=False, allow_null=True, default=None, min_value=0.0, max_value=1.0)
    max = serializers.FloatField(required=False, allow_null=True, default=None, min_value=0.0, max_value=1.0)


class DateRangeSerializer(StrictSerializer):
    unknown_what = "bound"
    since = serializers.DateTimeField(required=False, allow_null=True, default=None,
                                      help_text="ISO 8601 date-time, inclusive")
    until = serializers.DateTimeField(required=False, allow_null=True, default=None,
                                      help_text="ISO 8601 date-time, exclusive")


class ExportFiltersSerializer(StrictSerializer):
    """Which items an export holds, beyond the defaults; every filter given must hold."""

    unknown_what = "filter"
    state = _choices(FILTER_STATES, "state")
    source = _choices(FILTER_SOURCES, "source")
    labels = serializers.ListField(
        child=serializers.CharField(max_length=1000, trim_whitespace=False), required=False, allow_empty=False,
        max_length=10000, help_text="Items with one of these labels (category paths), holding only them.")
    confidence = ConfidenceRangeSerializer(
        required=False, help_text="The model's confidence, min and max inclusive; items without a prediction "
                                  "are left out.")
    created = DateRangeSerializer(required=False, help_text="When the item was uploaded.")
    decided = DateRangeSerializer(required=False, help_text="When its final label was decided.")


class ExportChoiceSerializer(serializers.Serializer):
    """Fields with new names, and filters: what an export template keeps."""

    fields = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, allow_null=True, allow_empty=False, default=None,
        max_length=len(FIELD_COLUMNS),
        help_text=f"The columns to write, in order: any of {', '.join(FIELD_COLUMNS)} (text for text projects; "
                  "file, original_name, width and height for images). Default: the format's own layout.")
    rename = serializers.DictField(
        child=serializers.CharField(max_length=COLUMN_NAME_MAX), required=False, allow_null=True, default=None,
        help_text='New column names by field, e.g. {"labels": "target"}.')
    filters = ExportFiltersSerializer(required=False, allow_null=True, default=None)


class ExportOptionsSerializer(ExportChoiceSerializer):
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
    template = serializers.IntegerField(
        required=False, allow_null=True, default=None,
        help_text="An export template of the project: its fields, names and filters, unless this request gives "
                  "its own.")


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
    fields = serializers.ChoiceField(
        choices=["columns", "extra", "fixed"],
        help_text="How it takes an export's chosen fields: columns (exactly those, renamed), extra (its own content "
                  "and label columns plus the chosen ones), fixed (its layout stays; filters still apply).")
    suitable = serializers.BooleanField(required=False, help_text="With ?project or ?project_type: whether it suits.")
    reason = serializers.CharField(required=False, help_text="Why it does not suit (empty when it does).")


class ExportFormatFilterSerializer(serializers.Serializer):
    project = serializers.IntegerField(required=False)
    project_type = serializers.CharField(required=False, max_length=64)
    multi_label = serializers.BooleanField(required=False, default=False)


class ExportTemplateInSerializer(ExportChoiceSerializer):
    name = serializers.CharField(max_length=200)


class ExportTemplateSerializer(serializers.ModelSerializer):
    project = serializers.IntegerField(source="project_id")
    created_by = serializers.EmailField(source="created_by.email", allow_null=True, default=None)
    fields = serializers.ListField(child=serializers.CharField(), allow_null=True)
    rename = serializers.DictField(child=serializers.CharField())
    filters = serializers.JSONField(help_text="The filters, in the canonical form (date-times in ISO 8601).")

    class Meta:
        model = ExportTemplate
        fields = ["id", "project", "name", "fields", "rename", "filters", "created_by", "created_at", "updated_at"]
