"""Projects, their versioned label schemas and team assignments."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

# A category's label value is its path: the names from the root down, joined by this.
HIERARCHY_SEPARATOR = " > "


class Project(models.Model):
    """A labeling project: the items of one organization under one label schema."""

    class Type(models.TextChoices):
        IMAGE_CLASSIFICATION = "image_classification", "Image classification"
        TEXT_CLASSIFICATION = "text_classification", "Text classification"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived"

    class ReviewPolicy(models.TextChoices):
        ALL = "all", "Review every item"
        BELOW_THRESHOLD = "below_threshold", "Review items below the auto-accept threshold"
        BELOW_THRESHOLD_PLUS_QA = "below_threshold_plus_qa", "Below the threshold, plus a QA sample of the rest"

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="projects"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    project_type = models.CharField(max_length=32, choices=Type.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    deadline = models.DateField(null=True, blank=True)
    template = models.SlugField(max_length=64, blank=True)
    default_model = models.CharField(max_length=200, blank=True)
    # None: nothing is auto-accepted until the audit slice calibrates a threshold.
    auto_accept_threshold = models.FloatField(null=True, blank=True)
    review_policy = models.CharField(
        max_length=32, choices=ReviewPolicy.choices, default=ReviewPolicy.BELOW_THRESHOLD
    )
    qa_sample_rate = models.FloatField(default=0.0)
    audit_slice_size = models.PositiveIntegerField(default=300)
    audit_pool_size = models.PositiveIntegerField(default=0)  # items in the project when the slice was last drawn
    # Precision you can state: the auto-accept threshold is chosen on the audit slice by Learn-then-Test
    # so that auto-accepted labels reach this target with probability at least 1 - precision_delta;
    # strict mode uses exact binomial tests only (no prediction-powered ones).
    target_precision = models.FloatField(default=0.97)
    precision_delta = models.FloatField(default=0.05)
    strict_precision = models.BooleanField(default=False)
    # Learning, on an adaptive cadence: the first round after ``learn_first`` human labels, then at
    # twice as many each time (10, 20, 40, 80 ...) until the gap reaches ``learn_every``, then every
    # ``learn_every``. ``labels_counted`` counts every human label; a round is due once it reaches
    # ``learn_next_at`` (absolute counts: an import's overshoot is never lost).
    learn_first = models.PositiveIntegerField(default=10)
    learn_every = models.PositiveIntegerField(default=50)
    labels_counted = models.PositiveIntegerField(default=0)
    learn_next_at = models.PositiveIntegerField(default=10)
    labels_since_learning = models.PositiveIntegerField(default=0)
    # Review: the queue's default strategy, lease length, and overlap (k reviewers for a fraction).
    queue_strategy = models.CharField(max_length=32, default="uncertainty")
    lease_seconds = models.PositiveIntegerField(default=600)
    overlap_reviewers = models.PositiveSmallIntegerField(default=2)
    overlap_fraction = models.FloatField(default=0.0)
    # The share of queue slots given to gold checks; None: the deployment's REVIEW_GOLD_RATE.
    gold_rate = models.FloatField(null=True, blank=True)
    # Cost rates for the savings estimate: what a person costs per item, what the model costs per item.
    seconds_per_item = models.FloatField(default=30.0)
    hourly_rate = models.DecimalField(max_digits=10, decimal_places=2, default=25)
    compute_cost_per_item = models.DecimalField(max_digits=10, decimal_places=5, default=0.001)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(Lower("name"), "organization", name="project_name_unique_in_org"),
            models.CheckConstraint(
                condition=models.Q(auto_accept_threshold__isnull=True)
                | models.Q(auto_accept_threshold__gte=0, auto_accept_threshold__lte=1),
                name="project_threshold_0_1",
            ),
            models.CheckConstraint(
                condition=models.Q(qa_sample_rate__gte=0, qa_sample_rate__lte=1), name="project_qa_rate_0_1"
            ),
            models.CheckConstraint(
                condition=models.Q(gold_rate__isnull=True) | models.Q(gold_rate__gte=0, gold_rate__lte=1),
                name="project_gold_rate_0_1",
            ),
            models.CheckConstraint(
                condition=models.Q(target_precision__gt=0, target_precision__lt=1, precision_delta__gt=0,
                                   precision_delta__lt=1),
                name="project_precision_target_delta_0_1",
            ),
            models.CheckConstraint(
                condition=models.Q(seconds_per_item__gte=0, hourly_rate__gte=0, compute_cost_per_item__gte=0),
                name="project_cost_rates_not_negative",
            ),
        ]
        indexes = [models.Index(fields=["organization", "status", "-created_at"])]

    def __str__(self) -> str:
        return self.name

    @property
    def item_kind(self) -> str:
        """The kind of item this project takes (``image`` or ``text``)."""
        return "image" if self.project_type == self.Type.IMAGE_CLASSIFICATION else "text"


class LabelSchema(models.Model):
    """One version of a project's label set. Versions are immutable; a change makes the next one."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="schemas")
    version = models.PositiveIntegerField()
    multi_label = models.BooleanField(default=False)
    min_labels = models.PositiveSmallIntegerField(default=1)
    max_labels = models.PositiveSmallIntegerField(null=True, blank=True)  # None: no maximum
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["project", "version"], name="label_schema_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.project} v{self.version}"


class Category(models.Model):
    """A label in one schema version; ``path`` (names from the root, joined) is the label value."""

    schema = models.ForeignKey(LabelSchema, on_delete=models.CASCADE, related_name="categories")
    name = models.CharField(max_length=200)
    path = models.CharField(max_length=1000)
    description = models.TextField(blank=True)
    color = models.CharField(max_length=7, blank=True)
    shortcut = models.CharField(max_length=1, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["schema", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["schema", "path"], name="category_path_unique_in_schema"),
        ]
        indexes = [models.Index(fields=["schema", "order"])]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.path


class ProjectRole(models.TextChoices):
    MANAGER = "manager", "Manager"
    LABELER = "labeler", "Labeler"
    REVIEWER = "reviewer", "Reviewer"
    VIEWER = "viewer", "Viewer"


class ProjectAssignment(models.Model):
    """A member's role in one project (overrides their organization role there; admins manage all)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="assignments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="project_assignments")
    role = models.CharField(max_length=16, choices=ProjectRole.choices)
    daily_target = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="project_assignment_unique"),
        ]
        indexes = [models.Index(fields=["user", "project"])]

    def __str__(self) -> str:
        return f"{self.user} in {self.project} as {self.role}"
