from django.contrib import admin

from review.models import ReviewDecision


@admin.register(ReviewDecision)
class ReviewDecisionAdmin(admin.ModelAdmin):
    """Decisions are a record: readable here, changed only through review (submit and undo)."""

    list_display = ("id", "project", "item", "reviewer", "decision", "labels", "is_gold", "undone_at", "created_at")
    list_filter = ("decision", "is_gold", "is_adjudication")
    search_fields = ("reviewer__email",)
    raw_id_fields = ("project", "item", "reviewer", "schema", "prediction", "human_label")
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
