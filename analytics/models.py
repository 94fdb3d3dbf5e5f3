"""What the dashboards read instead of the items and decisions themselves.

``ProjectDailyStats``: history, one row per project and day, written by a periodic task, so the history
chart costs one indexed range scan whatever the project's size. ``ItemCount``, ``ReviewCount`` and
``ReviewSeconds``: counts kept up to date by PostgreSQL triggers in each writer's transaction (see
``analytics.counters``), so the figures of now (items per state, model accuracy, reviewer figures,
costs) read tens of rows, not millions.
"""

from __future__ import annotations

from django.db import models


class ProjectDailyStats(models.Model):
    """A project's items per state at the end of ``day``, and what was decided on that day."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="daily_stats")
    day = models.DateField()
    # Items per state at the end of the day (a snapshot, as the task saw it).
    total = models.PositiveIntegerField(default=0)
    unlabelled = models.PositiveIntegerField(default=0)
    predicted = models.PositiveIntegerField(default=0)
    auto_accepted = models.PositiveIntegerField(default=0)
    needs_review = models.PositiveIntegerField(default=0)
    reviewed = models.PositiveIntegerField(default=0)
    # Items whose final label was decided that day (by ``decided_at``): by the model, by a person.
    decided_auto = models.PositiveIntegerField(default=0)
    decided_human = models.PositiveIntegerField(default=0)
    # Review decisions made that day (live ones, gold checks excluded) and the seconds they took.
    reviews = models.PositiveIntegerField(default=0)
    review_seconds = models.FloatField(default=0.0)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project", "day"]
        constraints = [models.UniqueConstraint(fields=["project", "day"], name="project_daily_stats_unique")]
        verbose_name_plural = "project daily stats"

    def __str__(self) -> str:
        return f"project {self.project_id} on {self.day}"

    @property
    def decided(self) -> int:
        return self.decided_auto + self.decided_human


class ItemCount(models.Model):
    """How many of a project's items have this (state, final source, final labels, model labels): deltas
    appended by PostgreSQL statement triggers on ``labeling_item`` (see ``analytics.counters``), summed
    when read and compacted by the periodic task. ``predicted_labels`` is kept only for items settled in
    review (the confusion matrix), so the groups stay few. No foreign key: rows may outlive a project
    for the moment between its items' deletion and the next compaction."""

    project_id = models.BigIntegerField()
    state = models.CharField(max_length=16)
    final_source = models.CharField(max_length=8, blank=True, default="")
    final_labels = models.JSONField(null=True, blank=True)
    predicted_labels = models.JSONField(null=True, blank=True)
    n = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["project_id"], name="item_count_project")]

    def __str__(self) -> str:
        return f"{self.n:+d} {self.state} items in project {self.project_id}"


class ReviewCount(models.Model):
    """A project's live review decisions (not undone) by one reviewer on one day with these answers, and
    the seconds they took: deltas appended by PostgreSQL statement triggers on ``review_reviewdecision``
    (see ``analytics.counters``), summed when read. ``day`` is the decision's ``created_at`` date in
    ``TIME_ZONE``. Plain ids: rows may outlive a project or a person until the next compaction."""

    project_id = models.BigIntegerField()
    reviewer_id = models.BigIntegerField()
    day = models.DateField()
    decision = models.CharField(max_length=8)
    is_gold = models.BooleanField()
    gold_correct = models.BooleanField(null=True)
    is_adjudication = models.BooleanField()
    agrees_with_model = models.BooleanField(null=True)
    n = models.BigIntegerField()
    seconds = models.DecimalField(max_digits=24, decimal_places=6)  # exact sums: an undo cancels to zero

    class Meta:
        indexes = [models.Index(fields=["project_id", "day"], name="review_count_project_day"),
                   models.Index(fields=["reviewer_id", "day"], name="review_count_reviewer_day")]

    def __str__(self) -> str:
        return f"{self.n:+d} {self.decision} decisions by {self.reviewer_id} in project {self.project_id} on {self.day}"


class ReviewSeconds(models.Model):
    """How many of a reviewer's live review decisions in a project (gold checks apart) took exactly
    ``seconds``: the histogram behind the exact medians, kept like ``ReviewCount``."""

    project_id = models.BigIntegerField()
    reviewer_id = models.BigIntegerField()
    seconds = models.FloatField()
    n = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["project_id", "reviewer_id", "seconds"], name="review_seconds_project")]

    def __str__(self) -> str:
        return f"{self.n:+d} decisions of {self.seconds:g} s by {self.reviewer_id} in project {self.project_id}"


class ReviewAgreement(models.Model):
    """Pairs of reviewers' answers on the same item, for agreement: how many items with ``raters`` live
    reviews (gold checks and adjudications apart) had reviewer ``reviewer_a`` answer ``answer_a`` and
    ``reviewer_b`` answer ``answer_b`` (the pair in text order of their ids; an answer is the sorted labels
    as JSON text, or null for a rejection). Kept by triggers like ``ReviewCount``: Cohen's kappa per pair
    and Krippendorff's alpha are computed from these rows, not from the decisions."""

    project_id = models.BigIntegerField()
    reviewer_a = models.BigIntegerField()
    reviewer_b = models.BigIntegerField()
    answer_a = models.TextField(null=True)
    answer_b = models.TextField(null=True)
    raters = models.PositiveIntegerField()
    n = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["project_id"], name="review_agreement_project")]

    def __str__(self) -> str:
        return f"{self.n:+d} items of {self.reviewer_a} and {self.reviewer_b} in project {self.project_id}"
