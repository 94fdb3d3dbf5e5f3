from django.contrib import admin
from django.db import transaction

from projects.models import Category, LabelSchema, Project, ProjectAssignment
from projects.storage import project_storage_prefix, stored_prefix_delete


class ProjectAssignmentInline(admin.TabularInline):
    model = ProjectAssignment
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "project_type", "status", "template", "default_model", "deadline",
                    "created_at"]
    list_filter = ["project_type", "status", "review_policy", "template"]
    search_fields = ["name", "description", "organization__name"]
    list_select_related = ["organization"]
    autocomplete_fields = ["organization", "created_by"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [ProjectAssignmentInline]

    # Deleting here removes the projects' stored files too, once the deletion is committed.
    def delete_model(self, request, obj):
        self.delete_queryset(request, Project.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        prefixes = [project_storage_prefix(pk) for pk in queryset.values_list("pk", flat=True)]
        queryset.delete()
        transaction.on_commit(lambda: [stored_prefix_delete(prefix=prefix) for prefix in prefixes])


class CategoryInline(admin.TabularInline):
    model = Category
    extra = 0
    fields = ["order", "name", "path", "description", "color", "shortcut", "parent"]
    readonly_fields = fields  # a schema version never changes; post a new one instead
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(LabelSchema)
class LabelSchemaAdmin(admin.ModelAdmin):
    list_display = ["project", "version", "multi_label", "min_labels", "max_labels", "created_by", "created_at"]
    list_filter = ["multi_label"]
    search_fields = ["project__name", "project__organization__name"]
    list_select_related = ["project", "created_by"]
    readonly_fields = ["project", "version", "multi_label", "min_labels", "max_labels", "created_by", "created_at"]
    inlines = [CategoryInline]

    def has_add_permission(self, request):
        return False


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["path", "schema", "shortcut", "color", "order"]
    search_fields = ["name", "path", "description", "schema__project__name"]
    list_select_related = ["schema__project"]
    readonly_fields = ["schema", "name", "path", "description", "color", "shortcut", "parent", "order"]

    def has_add_permission(self, request):
        return False


@admin.register(ProjectAssignment)
class ProjectAssignmentAdmin(admin.ModelAdmin):
    list_display = ["user", "project", "role", "daily_target", "updated_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "project__name"]
    list_select_related = ["user", "project"]
    autocomplete_fields = ["user", "project"]
