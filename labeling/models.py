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

    # Where a person, not a model, decided the final label.
    HUMAN_SOURCES = (FinalSource.IMPORT, FinalSource.REVIEW)

    class QueueReason(models.TextChoices):
        """Why an item waits for a person."""

        NONE = "", "None"
        AUDIT = "audit", "Audit slice"  # a uniform random sample: what calibration is fitted on
        POLICY = "policy", "Review policy"  # the project reviews every item
        UNCERTAIN = "uncertain", "Below the threshold"
        QA = "qa", "Quality sample"  # a random share of auto-accepted items, checked
        ADJUDICATION = "adjudication", "Adjudication"  # its reviewers tied: a manager decides

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

    # The latest model prediction, denormalised for the review queue's ordering.
    prediction = models.ForeignKey(
        "labeling.Prediction", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    predicted_labels = models.JSONField(null=True, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    # Why the item waits for a person. State, queue reason, final label and lease change only through
    # labeling.lifecycle.
    queue_reason = models.CharField(max_length=16, choices=QueueReason.choices, blank=True, default="")
    # Review: an exclusive lease while one reviewer holds it; how many reviews it needs (overlap).
    lease_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    required_reviews = models.PositiveSmallIntegerField(default=1)
    review_count = models.PositiveSmallIntegerField(default=0)
    gold_labels = models.JSONField(null=True, blank=True)  # a known answer: reviewers are scored on it

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "content_hash"], name="item_unique_content_in_project"),
        ]
        indexes = [
            models.Index(fields=["project", "state"]),
            models.Index(fields=["project", "in_audit_slice"]),
            models.Index(fields=["uploaded_by", "project", "-id"]),
            # Items decided per day (analytics: today's throughput), index-only with the state and source.
            models.Index(fields=["project", "decided_at"], include=["state", "final_source"],
                         name="item_decided_cover"),
            models.Index(fields=["project", "state", "confidence", "id"], name="item_queue_order"),
            # The data browser's filters and sorts (labeling.items.selectors.items_browse); its label
            # filter uses GIN indexes on final_labels and predicted_labels, PostgreSQL only (migration 0006).
            models.Index(fields=["project", "confidence", "id"], name="item_browse_confidence"),
            models.Index(fields=["project", "final_source", "id"], name="item_browse_source"),
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


class Job(models.Model):
    """A batch of items classified by one model, split into chunks on the ``inference`` queue."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    class Kind(models.TextChoices):
        CLASSIFY = "classify", "Classify items"
        RESCORE = "rescore", "Re-score waiting items after learning"

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.CLASSIFY)
    model_name = models.CharField(max_length=200)
    schema = models.ForeignKey("projects.LabelSchema", on_delete=models.RESTRICT, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    chunk_size = models.PositiveIntegerField(default=128)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["project", "-created_at"]), models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"job {self.pk} ({self.model_name}, {self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED


class JobChunk(models.Model):
    """A slice of a job's items; ``done`` flips once, so a chunk delivered twice counts once."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    item_ids = models.JSONField(default=list)
    done = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "index"], name="job_chunk_unique")]

    def __str__(self) -> str:
        return f"chunk {self.index} of job {self.job_id}"


class Prediction(models.Model):
    """A model's labels for an item: calibrated probabilities over the schema's categories."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="predictions")
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.CASCADE, related_name="predictions")
    model_name = models.CharField(max_length=200)
    schema = models.ForeignKey("projects.LabelSchema", on_delete=models.RESTRICT, related_name="+")
    labels = models.JSONField(default=list)
    confidence = models.FloatField()
    probabilities = models.JSONField(default=list)  # calibrated, in the schema's category order
    logits = models.JSONField(default=list)  # before the temperature, for refitting calibration
    temperature = models.FloatField(default=1.0)
    calibrated = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "item"], name="prediction_unique_per_job_item")]
        indexes = [models.Index(fields=["item", "-created_at"]), models.Index(fields=["job", "confidence"])]

    def __str__(self) -> str:
        return f"{self.labels} ({self.confidence:.2f}) for item {self.item_id}"


class JobItemError(models.Model):
    """An item a job could not classify, and why (it fails alone)."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="item_errors")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")
    reason = models.TextField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "item"], name="job_item_error_unique")]


class ItemEmbedding(models.Model):
    """An item's embedding from a model (float16 bytes), kept for few-shot heads and active learning."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="embeddings")
    model_name = models.CharField(max_length=200)
    vector = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "model_name"], name="item_embedding_unique")]


class ModelCalibration(models.Model):
    """Per project and model: the temperature and auto-accept threshold fitted on the audit slice."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="calibrations")
    model_name = models.CharField(max_length=200)
    temperature = models.FloatField(default=1.0)
    fitted_on = models.PositiveIntegerField(default=0)
    ece_before = models.FloatField(null=True, blank=True)
    ece_after = models.FloatField(null=True, blank=True)
    nll_before = models.FloatField(null=True, blank=True)
    nll_after = models.FloatField(null=True, blank=True)
    threshold = models.FloatField(null=True, blank=True)  # fitted for the project's target precision
    precision = models.JSONField(default=dict, blank=True)  # the estimate, its interval, counts
    fitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "model_name"], name="calibration_unique")]

    def __str__(self) -> str:
        return f"T={self.temperature:.3f} for {self.model_name} on project {self.project_id}"


class HeadVersion(models.Model):
    """A few-shot head trained on a project's human labels; promoted only if it beats the active model."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="head_versions")
    base_model = models.CharField(max_length=200)
    version = models.PositiveIntegerField()
    schema = models.ForeignKey("projects.LabelSchema", on_delete=models.RESTRICT, related_name="+")
    head = models.BinaryField()
    classes = models.JSONField(default=list)
    trained_on = models.PositiveIntegerField(default=0)
    evaluated_on = models.PositiveIntegerField(default=0)
    heldout_accuracy = models.FloatField(null=True, blank=True)
    baseline_accuracy = models.FloatField(null=True, blank=True)  # the model it had to beat, same items
    is_active = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["project", "version"], name="head_version_unique")]
        indexes = [models.Index(fields=["project", "is_active"])]

    def __str__(self) -> str:
        return f"head v{self.version} of project {self.project_id}"


class LabelIssue(models.Model):
    """A person's label that the model confidently contradicts (confident learning), queued for a second look."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        KEPT = "kept", "Label kept"
        RELABELLED = "relabelled", "Relabelled"

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="label_issues")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="label_issues")
    given_labels = models.JSONField(default=list)
    suggested_label = models.CharField(max_length=1000)
    self_confidence = models.FloatField()
    suggested_confidence = models.FloatField()
    reason = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["self_confidence", "id"]
        constraints = [
            models.UniqueConstraint(fields=["item"], condition=models.Q(status="open"), name="label_issue_one_open"),
        ]
        indexes = [models.Index(fields=["project", "status", "self_confidence"])]

    def __str__(self) -> str:
        return f"item {self.item_id}: {self.given_labels} -> {self.suggested_label}"
