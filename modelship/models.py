"""Platform-level records: which workers are alive, and a probe table for task round trips."""

from django.db import models


class WorkerHeartbeat(models.Model):
    hostname = models.CharField(max_length=255, unique=True)
    queues = models.JSONField(default=list)
    pid = models.IntegerField(default=0)
    processes = models.PositiveIntegerField(default=1)  # its pool's size: tasks it runs at once
    started_at = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.hostname} {self.queues}"


class TaskProbe(models.Model):
    """Written by the ``ping`` task: proof that a worker picked a task up and ran it."""

    value = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)


class TaskLease(models.Model):
    """A task message a worker has taken off the broker and not finished yet.

    Written when the worker receives the message, stamped with a deadline when it starts running, and
    deleted when it ends (however it ends). One left behind by a worker that stopped beating (killed)
    or whose deadline passed is sent again by the sweeper (``modelship.leases.leases_recover``); the
    tasks are idempotent, so a late second delivery of the original message is harmless.
    """

    task_id = models.CharField(max_length=255, unique=True)
    name = models.CharField(max_length=255)
    key = models.CharField(max_length=512, db_index=True)  # name and arguments, to find one task's lease
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    worker = models.CharField(max_length=255)  # the receiving worker's hostname ...
    worker_pid = models.IntegerField(default=0)  # ... and main process, as its heartbeat records them
    received_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)  # set when it starts: the time limit ran out

    def __str__(self) -> str:
        return f"{self.name}{self.args} on {self.worker}"
