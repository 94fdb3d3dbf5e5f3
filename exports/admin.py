from django.contrib import admin

from exports.models import Export, ExportTemplate


@admin.register(Export)
class ExportAdmin(admin.ModelAdmin):
    list_display = ["public_id", "project", "job", "format", "status", "total", "written", "skipped", "size_bytes",
                    "created_by", "created_at", "finished_at", "expires_at"]
    list_filter = ["status", "format"]
    search_fields = ["public_id", "project__name", "created_by__email", "error"]
    list_select_related = ["project", "job", "created_by"]
    raw_id_fields = ["organization", "project", "job", "schema", "created_by"]
    readonly_fields = ["public_id", "request_hash", "options", "total", "processed", "written", "skipped", "attempts",
                       "file", "size_bytes", "error", "created_at", "started_at", "finished_at", "expires_at"]


@admin.register(ExportTemplate)
class ExportTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "created_by", "created_at", "updated_at"]
    search_fields = ["name", "project__name"]
    list_select_related = ["project", "created_by"]
    raw_id_fields = ["organization", "project", "created_by"]
