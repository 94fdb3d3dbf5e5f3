"""The embedded default (`make run`: SQLite shared by the web server and the worker) under an import,
an auto-label job, an export and review decisions all at once: none of them fails for a lock.

The whole stack runs as `make run` starts it, on a data directory of its own, driven over HTTP, so
this runs on SQLite whatever database the rest of the suite uses."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.platform.test_embedded_and_compose import _free_port

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.worker, pytest.mark.slow]


class Api:
    def __init__(self, base: str):
        self.base = base
        self.token = ""

    def call(self, method: str, path: str, body=None, *, content_type="application/json") -> tuple[int, dict]:
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", content_type)
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else {}
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                return exc.code, json.loads(raw)
            except ValueError:
                return exc.code, {"raw": raw[:500].decode(errors="replace")}

    def upload(self, project: int, name: str, content: bytes) -> tuple[int, dict]:
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"project\"\r\n\r\n{project}\r\n"
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
                f"Content-Type: text/csv\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
        return self.call("POST", "/api/upload", body, content_type=f"multipart/form-data; boundary={boundary}")

    def wait(self, path: str, done, timeout: float = 300) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, body = self.call("GET", path)
            assert status == 200, (path, status, body)
            if done(body):
                return body
            time.sleep(0.5)
        raise AssertionError(f"timed out waiting for {path}: {body}")


def _csv(prefix: str, count: int, *, labelled: bool = False) -> bytes:
    labels = ("positive", "negative", "neutral")
    if labelled:
        rows = [f"{prefix} review {n}: {'great' if n % 3 == 0 else 'awful' if n % 3 == 1 else 'fine'},{labels[n % 3]}"
                for n in range(count)]
        return ("text,label\n" + "\n".join(rows) + "\n").encode()
    return ("text\n" + "".join(f"{prefix} review {n}: {'love it' if n % 2 else 'hate it'}\n"
                               for n in range(count))).encode()


@pytest.fixture
def embedded(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "CACHE_URL", "DJANGO_SETTINGS_MODULE",
                        "MEDIA_ROOT", "STATIC_ROOT"}}
    env.update(PORT=str(port), MODELSHIP_DATA_DIR=str(tmp_path / "data"), MODELSHIP_HEARTBEAT_SECONDS="2",
               WEB_CONCURRENCY="3", CELERY_CONCURRENCY="3", THROTTLE_USER="100000/hour",
               EXPORT_PROGRESS_EVERY="200", EXPORT_CHUNK_SIZE="200", IMPORT_BATCH_SIZE="200")
    log = tmp_path / "run.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "modelship.embedded"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    api = Api(f"http://127.0.0.1:{port}")
    api.log = log
    try:
        deadline = time.monotonic() + 600  # migrate, collectstatic, three processes: slow on a busy machine
        while time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()[-4000:]
            status, body = api.call("GET", "/api/health") if _listening(port) else (0, {})
            if status == 200:
                break
            time.sleep(0.5)
        assert status == 200, (status, body, log.read_text()[-4000:])
        yield api
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_import_job_export_and_reviews_at_once_on_sqlite_lose_nothing(embedded):
    api = embedded
    status, body = api.call("POST", "/api/auth/register", {"email": "ada@example.com", "password": "a long passphrase 7"})
    assert status == 201, body
    api.token = body["access"]
    status, project = api.call("POST", "/api/projects/", {"name": "Reviews", "template": "sentiment",
                                                         "audit_slice_size": 60})
    assert status == 201, project
    pid = project["id"]

    # Before: labelled items (for the export) and unlabelled ones, classified once so the queue has work.
    status, body = api.upload(pid, "labelled.csv", _csv("old", 1500, labelled=True))
    assert status == 202, body
    api.wait(f"/api/uploads/{body['id']}", lambda b: b["status"] == "succeeded")
    status, body = api.upload(pid, "first.csv", _csv("first", 600))
    assert status == 202, body
    api.wait(f"/api/uploads/{body['id']}", lambda b: b["status"] == "succeeded")
    status, job = api.call("POST", f"/api/projects/{pid}/classify", {})
    assert status == 202, job
    api.wait(f"/api/jobs/{job['id']}", lambda b: b["status"] == "succeeded")

    # At once: a new import, a job over it as it lands, an export, and reviewers deciding.
    results: dict[str, object] = {}

    def reviews():
        decided, answers = 0, []
        while decided < 40:
            status, queue = api.call("GET", f"/api/review/queue?project={pid}&limit=5")
            answers.append(status)
            if status != 200 or not queue["items"]:
                break
            for item in queue["items"]:
                status, _ = api.call("POST", "/api/review/submit", {"item": item["id"], "decision": "approve"})
                answers.append(status)
                decided += status == 201
        results["reviews"] = (decided, answers)

    reviewer = threading.Thread(target=reviews)
    status, imported = api.upload(pid, "second.csv", _csv("second", 3000))
    assert status == 202, imported
    reviewer.start()
    status, export = api.call("POST", f"/api/projects/{pid}/export", {"format": "jsonl"})
    assert status == 202, export
    # The items of the import so far: ask again until the import (on the worker) has written its first rows.
    deadline = time.monotonic() + 120
    while True:
        status, job = api.call("POST", f"/api/projects/{pid}/classify", {})
        if status != 400 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert status == 202, job
    reviewer.join(timeout=300)

    imported = api.wait(f"/api/uploads/{imported['id']}", lambda b: b["status"] in ("succeeded", "failed"))
    job = api.wait(f"/api/jobs/{job['id']}", lambda b: b["status"] in ("succeeded", "failed"))
    export = api.wait(f"/api/exports/{export['id']}", lambda b: b["status"] in ("succeeded", "failed"))
    decided, answers = results["reviews"]
    log = api.log.read_text()
    assert (imported["status"], imported["accepted"], imported["rejected"], imported["error"]) == (
        "succeeded", 3000, 0, "")
    assert (job["status"], job["done"] + job["failed"], job["error"]) == ("succeeded", job["total"], "")
    assert (export["status"], export["error"]) == ("succeeded", "")
    assert export["written"] == export["total"] >= 1500
    assert decided == 40 and set(answers) == {200, 201}, answers
    assert "database is locked" not in log, log[-4000:]
