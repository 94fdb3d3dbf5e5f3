"""The Celery application: three queues, JSON only, late acknowledgement.

``default`` takes imports and housekeeping, ``inference`` takes model work (GPU hosts run
``python celery_worker.py --queues inference``), ``exports`` takes dataset exports.
"""

import logging
import os

from celery import Celery, bootsteps, signals
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "modelship.settings")

logger = logging.getLogger(__name__)

app = Celery("modelship")
app.config_from_object("django.conf:settings", namespace="CELERY")

QUEUES = ("default", "inference", "exports")

app.conf.update(
    task_queues=[Queue(name, Exchange(name, type="direct"), routing_key=name) for name in QUEUES],
    task_default_queue="default",
    task_default_exchange="default",
    task_default_routing_key="default",
    task_routes={
        "labeling.tasks.inference_*": {"queue": "inference"},
        "review.tasks.*": {"queue": "inference"},
        "exports.tasks.*": {"queue": "exports"},
    },
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    worker_send_task_events=False,
    broker_connection_retry_on_startup=True,
    timezone="UTC",
)
app.autodiscover_tasks()
# labeling keeps a tasks module per package; their names stay ``labeling.tasks.*`` (labeling/task_names.py).
app.autodiscover_tasks(["labeling.items", "labeling.inference", "labeling.learning", "labeling.active_learning"])


class Heartbeat(bootsteps.StartStopStep):
    """Records this worker and its queues in the database every few seconds (see /api/health)."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        self.tref = None

    def start(self, worker):
        from django.conf import settings

        from modelship.services import worker_heartbeat_record

        queues = sorted(q.name for q in worker.app.amqp.queues.consume_from.values()) if (
            worker.app.amqp.queues.consume_from
        ) else list(QUEUES)

        processes = worker.concurrency if isinstance(worker.concurrency, int) else 1

        def beat():
            try:
                worker_heartbeat_record(hostname=worker.hostname, queues=queues, pid=os.getpid(), processes=processes)
            except Exception:  # the database may be briefly away; the next beat retries
                pass

        beat()
        self.tref = worker.timer.call_repeatedly(settings.MODELSHIP_HEARTBEAT_SECONDS, beat)

    def stop(self, worker):
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None
        try:
            from modelship.services import worker_heartbeat_remove

            worker_heartbeat_remove(hostname=worker.hostname)
        except Exception:
            pass


app.steps["worker"].add(Heartbeat)


THREADS_VARIABLE = "MODELSHIP_CPU_THREADS"


@signals.worker_init.connect
def threads_share_out(sender, **kwargs):
    """Before the pool starts: each pool process will use the cores divided by the worker's concurrency
    (``MODELSHIP_CPU_THREADS`` overrides), so N processes never oversubscribe the machine."""
    from labeling.engine.runtime import threads_per_process

    concurrency = sender.concurrency if isinstance(sender.concurrency, int) else None
    os.environ.setdefault(THREADS_VARIABLE, str(threads_per_process(concurrency or 1)))


@signals.worker_process_init.connect
def threads_configure(**kwargs):
    """In each pool process, before any model loads: its share of the cores, and (image models) ONNX Runtime
    threads that sleep rather than spin while the next batch is decoded beside them."""
    from labeling.engine.runtime import configure_spinning, configure_threads

    configure_threads(int(os.environ.get(THREADS_VARIABLE) or 1))
    configure_spinning(False)


# Task leases (modelship/leases.py): what each worker holds, so that a killed worker's work is sent again.
@signals.task_received.connect
def _lease_take(sender=None, request=None, **kwargs):
    from modelship.leases import lease_take

    try:
        lease_take(task_id=request.id, name=request.name, args=request.args, kwargs=request.kwargs,
                   worker=request.hostname, worker_pid=os.getpid())
    except Exception:  # never lose the message over its bookkeeping; the broker's own redelivery remains
        logger.exception("could not record the lease of %s", request.id)


@signals.task_prerun.connect
def _lease_start(sender=None, task_id=None, **kwargs):
    from modelship.leases import lease_start

    try:
        lease_start(task_id=task_id)
    except Exception:
        logger.exception("could not stamp the lease of %s", task_id)


@signals.task_postrun.connect
def _lease_release(sender=None, task_id=None, task=None, **kwargs):
    from modelship.leases import lease_release

    try:
        lease_release(task_id=task_id, worker=getattr(task.request, "hostname", "") if task else "")
    except Exception:
        logger.exception("could not release the lease of %s", task_id)


@app.task(name="modelship.tasks.sweep")
def sweep() -> int:
    """Send again the tasks of workers that stopped (run by Celery beat every MODELSHIP_SWEEP_SECONDS)."""
    from modelship.leases import leases_recover

    return leases_recover()


@app.task(name="modelship.tasks.ping")
def ping(value: str = "pong") -> str:
    """A trivial task used by the health checks and tests to prove a worker runs tasks."""
    from modelship.services import task_probe_record

    task_probe_record(value=value)
    return value
