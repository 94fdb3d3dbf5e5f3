"""Platform-level records: which workers are alive, and a probe table for task round trips."""

from django.db import models


class WorkerHeartbeat(models.Model):
    hostname = models.CharField(max_length=255, unique=True)
    queues = models.JSONField(default=list)
    pid = models.IntegerField(default=0)
    started_at = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.hostname} {self.queues}"


class TaskProbe(models.Model):
    """Written by the ``ping`` task: proof that a worker picked a task up and ran it."""

    value = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
