import pytest

from modelship.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


def test_health_is_503_naming_queues_without_live_workers(api):
    from datetime import timedelta

    from django.utils import timezone

    WorkerHeartbeat.objects.create(hostname="gpu@a", queues=["inference"], last_seen=timezone.now())
    WorkerHeartbeat.objects.create(hostname="old@b", queues=["default", "exports"],
                                   last_seen=timezone.now() - timedelta(minutes=10))
    resp = api.get("/api/health")
    assert resp.status_code == 503
    assert resp.data["down"] == ["workers:default", "workers:exports"]
    assert resp.data["workers"] == {"default": [], "inference": ["gpu@a"], "exports": []}
