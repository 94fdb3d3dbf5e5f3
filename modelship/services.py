from django.utils import timezone

from modelship.models import TaskProbe, WorkerHeartbeat


def worker_heartbeat_record(*, hostname: str, queues: list[str], pid: int, processes: int = 1) -> None:
    WorkerHeartbeat.objects.update_or_create(
        hostname=hostname, defaults={"queues": queues, "pid": pid, "processes": max(1, processes),
                                     "last_seen": timezone.now()}
    )


def worker_heartbeat_remove(*, hostname: str) -> None:
    WorkerHeartbeat.objects.filter(hostname=hostname).delete()


def task_probe_record(*, value: str) -> TaskProbe:
    return TaskProbe.objects.create(value=value)
