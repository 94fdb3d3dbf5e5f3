"""A real Celery worker runs tasks and reports itself; /api/health tells what is up and down."""

import pytest

from modelship.celery import QUEUES, ping
from modelship.models import TaskProbe
from tests.conftest import wait_until

pytestmark = [pytest.mark.worker]


def test_worker_runs_a_task_and_health_lists_it(worker, api):
    ping.delay("round-trip")
    wait_until(lambda: TaskProbe.objects.filter(value="round-trip").exists(), message="the ping task to run")

    resp = wait_until(lambda: (r := api.get("/api/health")).status_code == 200 and r, message="/api/health 200")
    assert resp.data["status"] == "ok"
    assert resp.data["down"] == []
    assert resp.data["database"] == {"ok": True, "detail": "ok"}
    assert resp.data["broker"] == {"ok": True, "detail": "ok"}
    for queue in QUEUES:
        assert any(h.startswith("test-worker-") for h in resp.data["workers"][queue]), resp.data


def test_health_is_503_naming_the_broker_when_it_is_unreachable(worker, api, settings):
    wait_until(lambda: api.get("/api/health").status_code == 200, message="a healthy platform first")
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    resp = api.get("/api/health")
    assert resp.status_code == 503
    assert resp.data["down"] == ["broker"]
    assert resp.data["broker"]["ok"] is False
    assert resp.data["database"]["ok"] is True
