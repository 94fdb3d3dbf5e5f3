from django.contrib import admin

from modelship.models import WorkerHeartbeat


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["hostname", "queues", "pid", "last_seen"]
    search_fields = ["hostname"]
