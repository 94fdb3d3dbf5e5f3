"""The names of labeling's Celery tasks: the contract between a service that enqueues a task (by name,
with ``current_app.send_task``, so no service imports a task module and no import cycle hides in a
function body) and the task module that registers it. The names are stable: workers route on them
(``labeling.tasks.inference_*`` goes to the ``inference`` queue, see modelship/celery.py)."""

IMPORT_RUN = "labeling.tasks.import_run"
INFERENCE_CHUNK = "labeling.tasks.inference_chunk"
INFERENCE_LEARN = "labeling.tasks.inference_learn"
INFERENCE_LABEL_ISSUES = "labeling.tasks.inference_label_issues"
