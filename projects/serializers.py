from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from projects.models import Category, LabelSchema, Project, ProjectAssignment, ProjectRole

TEMPLATE_PREVIEW_CATEGORIES = 20


class CategoryInSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    color = serializers.CharField(required=False, allow_blank=True, max_length=16, default="")
    shortcut = serializers.CharField(required=False, allow_blank=True, max_length=16, default="",
                                     trim_whitespace=False)
    key = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="",
                                help_text="A name for this category inside the request, for `parent` to refer to. "
                                          "Defaults to the name; a schema read back has key = path.")
    parent = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=1000, default=None,
                                   help_text="The key of the parent category (none: top level).")


class SchemaInSerializer(serializers.Serializer):
    multi_label = serializers.BooleanField(required=False, default=False)
    min_labels = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=1000, default=None)
    max_labels = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=1000, default=None)
    categories = CategoryInSerializer(many=True, allow_empty=True)


class CategorySerializer(serializers.ModelSerializer):
    key = serializers.CharField(source="path", read_only=True)
    parent = serializers.CharField(source="parent_path", allow_null=True, read_only=True)

    class Meta:
        model = Category
        fields = ["id", "name", "path", "key", "parent", "description", "color", "shortcut", "order"]


class LabelSchemaSerializer(serializers.ModelSerializer):
    created_by = serializers.EmailField(source="created_by.email", allow_null=True, default=None)
    categories = CategorySerializer(many=True, source="category_list")

    class Meta:
        model = LabelSchema
        fields = ["id", "version", "multi_label", "min_labels", "max_labels", "created_by", "created_at",
                  "categories"]


class LabelSchemaSummarySerializer(serializers.ModelSerializer):
    created_by = serializers.EmailField(source="created_by.email", allow_null=True, default=None)
    category_count = serializers.IntegerField()

    class Meta:
        model = LabelSchema
        fields = ["id", "version", "multi_label", "min_labels", "max_labels", "category_count", "created_by",
                  "created_at"]


class ProjectSettingsSerializer(serializers.Serializer):
    description = serializers.CharField(required=False, allow_blank=True, max_length=10000)
    deadline = serializers.DateField(required=False, allow_null=True)
    default_model = serializers.CharField(required=False, allow_blank=True, max_length=200)
    auto_accept_threshold = serializers.FloatField(required=False, allow_null=True, min_value=0.0, max_value=1.0)
    review_policy = serializers.ChoiceField(required=False, choices=Project.ReviewPolicy.choices)
    qa_sample_rate = serializers.FloatField(required=False, min_value=0.0, max_value=1.0)
    audit_slice_size = serializers.IntegerField(required=False, min_value=0, max_value=100_000)
    seconds_per_item = serializers.FloatField(required=False, min_value=0.0, max_value=86_400.0,
                                              help_text="Seconds a person needs to label one item (cost savings).")
    hourly_rate = serializers.DecimalField(required=False, max_digits=10, decimal_places=2, min_value=0,
                                           help_text="What an hour of a person's labelling costs.")
    compute_cost_per_item = serializers.DecimalField(required=False, max_digits=10, decimal_places=5, min_value=0,
                                                     help_text="What the model costs per item (compute or credits).")


class ProjectCreateSerializer(ProjectSettingsSerializer):
    name = serializers.CharField(max_length=200)
    project_type = serializers.ChoiceField(required=False, choices=Project.Type.choices)
    template = serializers.SlugField(required=False, allow_blank=True, max_length=64)
    schema = SchemaInSerializer(required=False, help_text="The first label schema; replaces the template's.")


class ProjectUpdateSerializer(ProjectSettingsSerializer):
    name = serializers.CharField(required=False, max_length=200)
    status = serializers.ChoiceField(required=False, choices=Project.Status.choices)
    project_type = serializers.ChoiceField(required=False, choices=Project.Type.choices,
                                           help_text="Cannot change; given only to be checked.")


class ProjectDeleteSerializer(serializers.Serializer):
    confirm = serializers.CharField(required=False, allow_blank=True, max_length=200,
                                    help_text="The project's name; required when the project has items.")


class ProjectSerializer(serializers.ModelSerializer):
    created_by = serializers.EmailField(source="created_by.email", allow_null=True, default=None)
    my_role = serializers.ChoiceField(source="caller_role", choices=ProjectRole.choices, read_only=True)
    schema_version = serializers.IntegerField(allow_null=True, read_only=True)
    item_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Project
        fields = ["id", "organization", "name", "description", "project_type", "status", "deadline", "template",
                  "default_model", "auto_accept_threshold", "review_policy", "qa_sample_rate", "audit_slice_size",
                  "seconds_per_item", "hourly_rate", "compute_cost_per_item",
                  "schema_version", "item_count", "my_role", "created_by", "created_at", "updated_at"]


class AssignSerializer(serializers.Serializer):
    user_id = serializers.IntegerField(required=False)
    email = serializers.EmailField(required=False)
    role = serializers.ChoiceField(choices=ProjectRole.choices)
    daily_target = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=1_000_000)


class AssignmentSerializer(serializers.ModelSerializer):
    user_id = serializers.IntegerField(source="user.id")
    email = serializers.EmailField(source="user.email")
    full_name = serializers.CharField(source="user.full_name")

    class Meta:
        model = ProjectAssignment
        fields = ["user_id", "email", "full_name", "role", "daily_target", "created_at", "updated_at"]


class TemplateCategorySerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    shortcut = serializers.CharField()


class TemplateQualitySerializer(serializers.Serializer):
    model = serializers.CharField(help_text="The model the template labels with.")
    method = serializers.ChoiceField(
        choices=["measured", "documented", "unmeasured"],
        help_text="measured: by bench/templates_quality.py on a set built offline; documented: the figure the "
                  "model's authors publish; unmeasured: no fitting public set (zero-shot on your own labels).")
    metric = serializers.CharField(help_text="What the figure is, e.g. top-1 accuracy (empty when unmeasured).")
    value = serializers.FloatField(allow_null=True, help_text="The figure, 0 to 1.")
    dataset = serializers.CharField(help_text="The set it was measured on.")
    dataset_size = serializers.IntegerField(allow_null=True, help_text="How many items that set holds.")
    source = serializers.CharField(help_text="Where the figure comes from.")
    note = serializers.CharField(help_text="What to expect beyond the figure.")


class TemplateSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    project_type = serializers.ChoiceField(choices=Project.Type.choices)
    default_model = serializers.CharField()
    multi_label = serializers.BooleanField()
    min_labels = serializers.IntegerField()
    max_labels = serializers.IntegerField(allow_null=True)
    quality = TemplateQualitySerializer(help_text="The template's model and how good it is, before any review.")
    category_count = serializers.SerializerMethodField()
    categories = serializers.SerializerMethodField(
        help_text=f"The first {TEMPLATE_PREVIEW_CATEGORIES} categories (all of them for most templates).")

    def get_category_count(self, template) -> int:
        return len(template.categories)

    @extend_schema_field(TemplateCategorySerializer(many=True))
    def get_categories(self, template):
        return TemplateCategorySerializer(template.categories[:TEMPLATE_PREVIEW_CATEGORIES], many=True).data
