"""`make run`'s embedded default answers /api/health, and docker-compose names real entry points."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.worker
@pytest.mark.slow
def test_embedded_default_serves_health_with_a_live_worker(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "CACHE_URL", "DJANGO_SETTINGS_MODULE",
                        "MEDIA_ROOT", "STATIC_ROOT"}}
    env.update(PORT=str(port), MODELSHIP_DATA_DIR=str(tmp_path / "data"), MODELSHIP_HEARTBEAT_SECONDS="1",
               WEB_CONCURRENCY="1")
    log = tmp_path / "run.log"
    with open(log, "wb") as out:
        # The same entry point `make run` calls once the virtualenv is installed.
        proc = subprocess.Popen([sys.executable, "-m", "modelship.embedded"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 300  # a cold start on a busy 2-core machine (collectstatic, migrate) can pass 120 s
        status, body = None, b""
        while time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()[-4000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=3) as resp:
                    status, body = resp.status, resp.read()
                    break
            except urllib.error.HTTPError as exc:
                status, body = exc.code, exc.read()
            except OSError:
                pass
            time.sleep(0.5)
        assert status == 200, (status, body, log.read_text()[-4000:])
        assert b'"down":[]' in body
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/docs/", timeout=5) as resp:
            assert resp.status == 200
            assert b"swagger-ui" in resp.read()
        text = log.read_text()
        assert f"ModelShip is running at http://127.0.0.1:{port}/" in text
        assert "manage.py createadmin" in text
        assert (tmp_path / "data" / "modelship.sqlite3").exists()
        assert (tmp_path / "data" / "secret_key").exists()
        assert (tmp_path / "data" / "broker" / "queue").is_dir()
        deadline = time.monotonic() + 30  # beat is up: it writes its schedule file in the data dir
        while not list((tmp_path / "data").glob("celerybeat-schedule*")) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert list((tmp_path / "data").glob("celerybeat-schedule*")), log.read_text()[-4000:]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _entry_point_exists(command: list[str]) -> bool:
    if command[:2] == ["python", "manage.py"]:
        from django.core.management import get_commands

        return command[2] in get_commands()
    if command[0] == "python":
        return (ROOT / command[1]).is_file()
    if command[0] == "gunicorn":
        module, _, attr = command[1].partition(":")
        import importlib

        return hasattr(importlib.import_module(module), attr)
    return False


def test_docker_compose_services_name_real_entry_points():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"migrate", "web", "worker", "beat", "gpu-worker", "postgres", "redis"}
    for name in ("migrate", "web", "worker", "gpu-worker"):
        command = services[name]["command"]
        assert _entry_point_exists(command), (name, command)
    assert services["beat"]["command"][:6] == ["python", "-m", "celery", "-A", "modelship", "beat"]
    for name in ("web", "worker", "gpu-worker", "postgres", "redis"):
        assert "healthcheck" in services[name], name
        check = services[name]["healthcheck"]["test"]
        if check[:3] == ["CMD", "python", "manage.py"]:
            assert _entry_point_exists(check[1:]), (name, check)
    # CPU workers take every queue unless told otherwise, and scale with --scale worker=N (no fixed name
    # or port); GPU workers come with the `gpu` profile and take model work only.
    assert services["worker"]["command"][2:4] == ["--queues", "${WORKER_QUEUES:-default,inference,exports}"]
    assert "container_name" not in services["worker"] and "ports" not in services["worker"]
    assert services["gpu-worker"]["profiles"] == ["gpu"]
    assert services["gpu-worker"]["command"][2:4] == ["--queues", "inference"]
    devices = services["gpu-worker"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["capabilities"] == ["gpu"]
    assert {"pgdata", "redisdata", "media"} <= set(compose["volumes"])


def test_celery_worker_arguments_choose_queues_and_prefetch():
    sys.path.insert(0, str(ROOT))
    import celery_worker

    argv = celery_worker.build_argv(celery_worker.parse(["--queues", "inference", "--concurrency", "3"]))
    assert argv[argv.index("--queues") + 1] == "inference"
    assert argv[argv.index("--concurrency") + 1] == "3"
    assert argv[argv.index("--prefetch-multiplier") + 1] == "1"
    argv = celery_worker.build_argv(celery_worker.parse(["--queues", "default,exports", "--prefetch", "8"]))
    assert argv[argv.index("--prefetch-multiplier") + 1] == "8"
