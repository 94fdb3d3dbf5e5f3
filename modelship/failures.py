"""The one failure rule for Celery tasks.

An *expected* error is a refusal the work itself earned (the data cannot be imported or exported in
this form, the model's labels do not fit the schema): the work fails at once with its message.
Anything else (the database went away, out of memory, a bug) is *unexpected*: the task is retried
with exponential backoff until the work has had ``TASK_MAX_ATTEMPTS`` attempts, then the work fails
with the reason. Either way the job, import or export ends failed, never left running; the worker's
log keeps the traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from celery import Task
from django.conf import settings

logger = logging.getLogger(__name__)


def retry_delay(attempt: int) -> float:
    """Seconds before the retry that follows attempt number ``attempt`` (1, 2, …): doubling, capped."""
    return min(settings.TASK_RETRY_BACKOFF_MAX_SECONDS, settings.TASK_RETRY_BACKOFF_SECONDS * 2 ** (attempt - 1))


def run_or_fail(task: Task, *, run: Callable[[], object], fail: Callable[[BaseException, int], None],
                expected: tuple[type[BaseException], ...] = (), attempts: Callable[[], int] | None = None) -> None:
    """Run ``run()`` for ``task`` under the rule above. ``fail(error, attempts)`` records the failure on
    the work; ``attempts()`` says how many attempts the work has had, counted where it is stored (so a
    redelivery after a lost worker counts too); without it, this delivery's retries are counted."""
    try:
        run()
    except expected as exc:
        fail(exc, attempts() if attempts is not None else task.request.retries + 1)
    except Exception as exc:
        attempt = attempts() if attempts is not None else task.request.retries + 1
        if attempt < settings.TASK_MAX_ATTEMPTS and not task.request.called_directly:
            delay = retry_delay(attempt)
            logger.warning("%s%s: attempt %s failed (%r); retrying in %.1fs", task.name, task.request.args, attempt,
                           exc, delay)
            raise task.retry(exc=exc, countdown=delay, max_retries=None) from exc
        logger.error("%s%s: attempt %s failed; giving up", task.name, task.request.args, attempt, exc_info=exc)
        fail(exc, attempt)
