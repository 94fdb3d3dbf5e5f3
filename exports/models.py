"""Exports: one request for a dataset file, its progress on a worker, and the ZIP it produced."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


def new_public_id() -> str:
    return uuid.uuid4().hex


class Export(models.Model):
    """A dataset export of a project (or of the items one auto-labeling job predicted), in one format.

    ``public_id`` is the only name clients see (poll and download); the stored file's path never
    leaves the server. ``request_hash`` identifies the request *and* the data it read, so an
    identical request on unchanged data is answered with this export while it is valid.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.EXPIRED)
    IN_PROGRESS = (Status.QUEUED, Status.RUNNING)

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="exports")
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="exports")
    job = models.ForeignKey("labeling.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="exports")
    schema = models.ForeignKey("projects.LabelSchema", on_delete=models.RESTRICT, related_name="+")
    format = models.CharField(max_length=32)
    # Normalised filters: include_auto_accepted, min_confidence, labels, split ratios, seed, include_predictions.
    options = models.JSONField(default=dict, blank=True)
    request_hash = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    # Progress: items selected, read so far, written, and left out (by the format or an unknown label).
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    written = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    # Each delivery of the task that starts a run takes the next attempt; only that run may finish it.
    attempts = models.PositiveIntegerField(default=0)
    file = models.FileField(max_length=300, blank=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["project", "request_hash"]),
            models.Index(fields=["status", "expires_at"]),
            models.Index(fields=["project", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"export {self.public_id} ({self.format}, {self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def download_name(self) -> str:
        """The name to download it by: the opaque id and the archive's extension."""
        return f"{self.public_id}.zip"


class ExportTemplate(models.Model):
    """A project's named choice of export fields (with new names) and filters, reused by its id.

    ``fields`` is null for the formats' own layout; ``rename`` maps a field to its column name;
    ``filters`` is the canonical filter object (see ``exports.fields``).
    """

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="export_templates")
    name = models.CharField(max_length=200)
    fields = models.JSONField(null=True, blank=True)
    rename = models.JSONField(default=dict, blank=True)
    filters = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="export_template_unique_name")]

    def __str__(self) -> str:
        return f"export template {self.name!r} of project {self.project_id}"
