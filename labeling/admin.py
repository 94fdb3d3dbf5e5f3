from django.contrib import admin
from django.db import transaction

from labeling.models import HumanLabel, ImportJob, Item
from projects.storage import stored_files_delete


class HumanLabelInline(admin.TabularInline):
    model = HumanLabel
    extra = 0
    fields = ["labels", "schema", "source", "created_by", "created_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "kind", "original_name", "state", "final_labels", "final_source",
                    "in_audit_slice", "uploaded_by", "created_at"]
    list_filter = ["kind", "state", "final_source", "review_outcome", "in_audit_slice", "mime_type"]
    search_fields = ["original_name", "text", "content_hash", "source_archive", "project__name"]
    list_select_related = ["project", "uploaded_by"]
    raw_id_fields = ["project", "import_job", "uploaded_by", "decided_by", "final_schema"]
    readonly_fields = ["content_hash", "size_bytes", "width", "height", "mime_type", "created_at"]
    inlines = [HumanLabelInline]
    show_full_result_count = False  # counting millions of items on every page is slow

    # Deleting here removes the stored files too, once the deletion is committed.
    def delete_model(self, request, obj):
        names = [obj.file.name] if obj.file else []
        super().delete_model(request, obj)
        transaction.on_commit(lambda: stored_files_delete(names=names))

    def delete_queryset(self, request, queryset):
        names = list(queryset.exclude(file="").values_list("file", flat=True))
        super().delete_queryset(request, queryset)
        transaction.on_commit(lambda: stored_files_delete(names=names))


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "status", "is_async", "total", "processed", "accepted", "duplicates", "rejected",
                    "created_by", "created_at", "finished_at"]
    list_filter = ["status", "is_async"]
    search_fields = ["project__name", "created_by__email", "error"]
    list_select_related = ["project", "created_by"]
    raw_id_fields = ["project", "created_by"]
    readonly_fields = ["report", "staged_files", "created_at", "started_at", "finished_at"]


@admin.register(HumanLabel)
class HumanLabelAdmin(admin.ModelAdmin):
    list_display = ["item", "labels", "schema", "source", "created_by", "created_at"]
    list_filter = ["source"]
    search_fields = ["item__original_name", "created_by__email"]
    list_select_related = ["item", "schema__project", "created_by"]
    raw_id_fields = ["item", "schema", "created_by"]
