"""Learning settings and rounds over the API: change the precision target, delta, strict mode, the
learning cadence, the audit slice's size and the queue's strategy (validated, audited, and the items
re-decided at once); list the rounds; start one now."""

from __future__ import annotations

from celery import current_app
from django.db import transaction
from django.db.models import QuerySet

from accounts.models import AuditEvent, User
from accounts.services import audit_record
from labeling import task_names
from labeling.engine.active_learning import STRATEGIES
from labeling.inference.jobs import audit_slice_ensure
from labeling.learning.rounds import project_round
from labeling.models import LearningRound
from modelship.exceptions import DomainError
from projects.models import Project

LEARNING_SETTINGS = ("target_precision", "precision_delta", "strict_precision", "learn_first", "learn_every",
                     "audit_slice_size", "queue_strategy")
# Settings that change what the threshold must guarantee or which items are audited: re-decide at once.
REDECIDE_ON = {"target_precision", "precision_delta", "strict_precision", "audit_slice_size"}
UNKNOWN_QUEUE_STRATEGY = "Unknown queue strategy {name!r}; available: {available}."
NO_MODEL = "The project has no model yet: set its default_model first."
LEARNING_STARTED = "A learning round was queued."


def learning_settings_update(*, project: Project, actor: User, **changes) -> tuple[Project, LearningRound | None]:
    """Change the learning settings given (only those); the change is audited, and when it moves the
    threshold's target or the audit slice, every item no person decided is re-decided before this
    returns (the round that did it is returned too)."""
    unknown = set(changes) - set(LEARNING_SETTINGS)
    if unknown:
        raise ValueError(f"not learning settings: {sorted(unknown)}")
    if "queue_strategy" in changes and changes["queue_strategy"] not in STRATEGIES:
        raise DomainError(UNKNOWN_QUEUE_STRATEGY.format(name=changes["queue_strategy"],
                                                        available=", ".join(sorted(STRATEGIES))),
                          field="queue_strategy")
    changed = {name: value for name, value in changes.items() if getattr(project, name) != value}
    if not changed:
        return project, None
    with transaction.atomic():
        for name, value in changed.items():
            setattr(project, name, value)
        if "learn_first" in changed or "learn_every" in changed:
            # the next round on the new cadence, counted from the labels the project already has
            from labeling.lifecycle import next_round_at

            at = project.learn_first or project.learn_every or 0
            while at and at <= project.labels_counted:
                at = next_round_at(at, first=project.learn_first, every=project.learn_every)
            project.learn_next_at = at
            changed["learn_next_at"] = at
        project.save(update_fields=[*changed, "updated_at"])
        if "audit_slice_size" in changed:
            audit_slice_ensure(project=project)
        audit_record(actor=actor, organization=project.organization, action=AuditEvent.Action.PROJECT_LEARNING_SETTINGS_UPDATED,
                     target=project, metadata=dict(changed))
    record = None
    if REDECIDE_ON & set(changed) and project.default_model:
        summary = project_round(project_id=project.pk, trigger=LearningRound.Trigger.SETTINGS, learn=False)
        record = LearningRound.objects.filter(pk=summary.get("round")).first()
    return project, record


def learning_start(*, project: Project, actor: User) -> None:
    """Enqueue a learning round now (after commit), whatever the cadence; audited."""
    if not project.default_model:
        raise DomainError(NO_MODEL)
    audit_record(actor=actor, organization=project.organization, action=AuditEvent.Action.PROJECT_LEARNING_STARTED, target=project)
    project_id = project.pk
    transaction.on_commit(lambda: current_app.send_task(task_names.INFERENCE_LEARN, args=[project_id],
                                                        kwargs={"trigger": LearningRound.Trigger.MANUAL}))


def learning_rounds(*, project: Project) -> QuerySet[LearningRound]:
    """The project's learning rounds, newest first."""
    return LearningRound.objects.filter(project=project).order_by("-started_at", "-id")
