"""History for the dashboards: one row per project and day, written by a periodic task.

Live figures (items per state now, accuracy, costs) are aggregated from the source tables on each
request; what happened on past days is read from here, so the history chart costs one indexed
range scan whatever the project's size.
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
