"""Items (the unit everything works on), the human labels they receive, and import jobs."""

from __future__ import annotations

from django.conf import settings
from django.db import models


def item_file_name(*, project_id: int, content_hash: str, extension: str) -> str:
    """Where an item's file lives in storage: under its project's prefix, named by its content hash."""
    return f"projects/{project_id}/items/{content_hash[:2]}/{content_hash}{extension}"


def item_file_path(item: Item, filename: str) -> str:
    extension = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return item_file_name(project_id=item.project_id, content_hash=item.content_hash, extension=extension)


class ImportJob(models.Model):
    """One upload: its progress (polled by the client) and its per-file report."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="import_jobs")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    is_async = models.BooleanField(default=False)
    text_mode = models.CharField(max_length=8, default="line")
    # Files staged in storage for a worker: [{"path", "name", "size"}]; emptied when done.
    staged_files = models.JSONField(default=list, blank=True)
    total = models.PositiveIntegerField(default=0)
    total_bytes = models.PositiveBigIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["project", "-created_at"]),
            models.Index(fields=["status"]),
        ]

    def __str__(self) -> str:
        return f"import {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)



class Item(models.Model):
    """One image or text of a project, stored once (content-hash dedupe), and its final label."""

    class Kind(models.TextChoices):
        IMAGE = "image", "Image"
        TEXT = "text", "Text"

    class State(models.TextChoices):
        UNLABELLED = "unlabelled", "Unlabelled"
        PREDICTED = "predicted", "Predicted"
        AUTO_ACCEPTED = "auto_accepted", "Auto-accepted"
        NEEDS_REVIEW = "needs_review", "Needs review"
        REVIEWED = "reviewed", "Reviewed"

    class FinalSource(models.TextChoices):
        NONE = "", "None"
        IMPORT = "import", "Imported"
        AUTO = "auto", "Auto-accepted"
        REVIEW = "review", "Reviewed"

    class ReviewOutcome(models.TextChoices):
        NONE = "", "None"
        APPROVED = "approved", "Approved"
        MODIFIED = "modified", "Modified"
        REJECTED = "rejected", "Rejected"

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    text = models.TextField(blank=True)
    file = models.FileField(upload_to=item_file_path, max_length=300, blank=True)
    content_hash = models.CharField(max_length=64)  # sha256 hex of the file bytes or the UTF-8 text
    original_name = models.CharField(max_length=500, blank=True)
    mime_type = models.CharField(max_length=100, blank=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    source_archive = models.CharField(max_length=500, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    import_job = models.ForeignKey(
        ImportJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="items"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="uploaded_items"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    state = models.CharField(max_length=16, choices=State.choices, default=State.UNLABELLED)
    in_audit_slice = models.BooleanField(default=False)
    # The decided label, apart from any model prediction: what, under which schema, by whom.
    final_labels = models.JSONField(null=True, blank=True)
    final_schema = models.ForeignKey(
        "projects.LabelSchema", null=True, blank=True, on_delete=models.RESTRICT, related_name="+"
    )
    final_source = models.CharField(max_length=8, choices=FinalSource.choices, blank=True, default="")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    review_outcome = models.CharField(max_length=8, choices=ReviewOutcome.choices, blank=True, default="")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "content_hash"], name="item_unique_content_in_project"),
        ]
        indexes = [
            models.Index(fields=["project", "state"]),
            models.Index(fields=["project", "in_audit_slice"]),
            models.Index(fields=["uploaded_by", "project", "-id"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} item {self.pk} of project {self.project_id}"


class HumanLabel(models.Model):
    """A label a person gave an item (imported with the data or decided in review), in history order."""

    class Source(models.TextChoices):
        IMPORT = "import", "Imported"
        REVIEW = "review", "Review"

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="human_labels")
    labels = models.JSONField(default=list)
    schema = models.ForeignKey("projects.LabelSchema", on_delete=models.RESTRICT, related_name="+")
    source = models.CharField(max_length=8, choices=Source.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["item", "created_at", "id"]
        indexes = [models.Index(fields=["item", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.labels} on item {self.item_id}"
