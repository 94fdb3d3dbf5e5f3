"""The learning loop's trigger: count new human labels and start learning every ``learn_every``."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from projects.models import Project


def labels_added(*, project_id: int, count: int = 1) -> bool:
    """Record ``count`` new human labels (review decisions, imports). When the project has gathered
    ``learn_every`` of them since it last learned, reset the counter and enqueue the learning task
    after commit. Returns whether learning was enqueued."""
    if count <= 0:
        return False
    with transaction.atomic():
        Project.objects.filter(pk=project_id).update(labels_since_learning=F("labels_since_learning") + count)
        project = Project.objects.select_for_update().only("labels_since_learning", "learn_every").get(pk=project_id)
        if project.learn_every == 0 or project.labels_since_learning < project.learn_every:
            return False
        Project.objects.filter(pk=project_id).update(labels_since_learning=0)

    def enqueue():
        from labeling.tasks import inference_learn

        inference_learn.delay(project_id)

    transaction.on_commit(enqueue)
    return True
