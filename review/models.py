"""Review decisions: what a person decided about an item, and what the item looked like before.

The item's final label lives on ``labeling.Item`` (apart from its prediction); a decision is the
record of one reviewer's answer, kept even when undone, so agreement and accuracy can be measured.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ReviewDecision(models.Model):
    """One reviewer's answer on one item.

    ``labels`` is the label set the reviewer settled on: the prediction's labels for *approve*,
    the reviewer's own for *modify*, and none for *reject*. Reject means "the model's label is
    wrong and I give no replacement": once final, the item is reviewed with outcome *rejected*,
    no final labels and no human label, so it stays out of exports of labelled data.
    """

    class Decision(models.TextChoices):
        APPROVE = "approve", "Approve"
        REJECT = "reject", "Reject"
        MODIFY = "modify", "Modify"

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="review_decisions")
    item = models.ForeignKey("labeling.Item", on_delete=models.CASCADE, related_name="review_decisions")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_decisions")
    decision = models.CharField(max_length=8, choices=Decision.choices)
    labels = models.JSONField(default=list)
    schema = models.ForeignKey("projects.LabelSchema", on_delete=models.RESTRICT, related_name="+")
    seconds_spent = models.FloatField(default=0.0)
    prediction = models.ForeignKey(
        "labeling.Prediction", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Gold checks score the reviewer and never touch the item; an adjudication settles a tie.
    is_gold = models.BooleanField(default=False)
    gold_correct = models.BooleanField(null=True, blank=True)
    is_adjudication = models.BooleanField(default=False)
    # Whether the reviewer's labels equal the model's (None when no prediction was shown).
    agrees_with_model = models.BooleanField(null=True, blank=True)
    # The human label this decision wrote (a final decision that kept a label); undo deletes it.
    human_label = models.ForeignKey(
        "labeling.HumanLabel", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The item's review fields just before this decision, restored by undo.
    item_before = models.JSONField(default=dict, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(seconds_spent__gte=0), name="review_seconds_not_negative"),
        ]
        indexes = [
            # The queue's "not already decided by me" and gold's "once per reviewer" (item_id alone has
            # the foreign key's index).
            models.Index(fields=["reviewer", "item"], condition=models.Q(undone_at__isnull=True),
                         name="review_live_by_reviewer_item"),
            # Undo (a reviewer's latest in a project), and the reviewer figures (analytics) as an index-only
            # scan: every column they count is included.
            models.Index(fields=["project", "reviewer", "-created_at"], name="review_by_reviewer_latest",
                         include=["undone_at", "decision", "is_gold", "gold_correct", "is_adjudication",
                                  "agrees_with_model", "seconds_spent"]),
            # Agreement (items with 2+ live decisions, index-only), gold and model accuracy per project.
            models.Index(fields=["project", "item"], condition=models.Q(undone_at__isnull=True),
                         include=["is_gold", "is_adjudication"], name="review_live_by_project_item"),
        ]

    def __str__(self) -> str:
        return f"{self.decision} {self.labels} on item {self.item_id} by {self.reviewer_id}"
