"""Shared fixtures: API clients per role, and real services (Redis, a Celery worker)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

ROOT = Path(__file__).resolve().parent.parent
REQUIRE_SERVICES = os.environ.get("MODELSHIP_REQUIRE_SERVICES") == "1"


def service_missing(message: str):
    """Skip on a bare machine; fail where the services are required (CI)."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {message}")
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def org(db):
    return OrganizationFactory()


@pytest.fixture
def other_org(db):
    return OrganizationFactory()


@pytest.fixture
def make_member(db):
    def make(role: str = "admin", organization=None, **user_fields):
        membership = MembershipFactory(
            role=role,
            organization=organization or OrganizationFactory(),
            user=UserFactory(**user_fields),
        )
        return membership.user

    return make


@pytest.fixture
def client_for():
    """An API client authenticated as ``user``, working in ``organization`` (if given)."""

    def make(user=None, organization=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        if organization is not None:
            client.credentials(HTTP_X_ORGANIZATION=str(organization.pk))
        return client

    return make


@pytest.fixture
def api():
    return APIClient()


def _database_url() -> str:
    from django.db import connection

    cfg = connection.settings_dict
    if cfg["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{cfg['NAME']}"
    host = cfg.get("HOST") or "127.0.0.1"
    port = cfg.get("PORT") or 5432
    password = f":{cfg['PASSWORD']}" if cfg.get("PASSWORD") else ""
    return f"postgres://{cfg['USER']}{password}@{host}:{port}/{cfg['NAME']}"


def _check_broker() -> None:
    url = settings.CELERY_BROKER_URL
    if url.startswith("redis"):
        import redis

        try:
            client = redis.Redis.from_url(url, socket_connect_timeout=2)
            client.ping()
            client.flushdb()  # the suite owns this database index: drop stale messages
        except Exception as exc:
            service_missing(f"Redis at {url}: {exc}")


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real worker process on every queue, on the suite's broker and test database."""
    _check_broker()
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="modelship.settings",
        DATABASE_URL=_database_url(),
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        MODELSHIP_HEARTBEAT_SECONDS="1",
        TASK_RETRY_BACKOFF_SECONDS="0.2",  # the failure rule's retries, without the production wait
    )
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "celery_worker.py"), "--concurrency", "2", "--loglevel", "INFO",
             "--hostname", f"test-worker-{os.getpid()}@localhost"],
            env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while b" ready." not in log.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the Celery worker did not start:\n{log.read_text()[-4000:]}")
        time.sleep(0.2)
    proc.log_path = log
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def worker(celery_worker_process, transactional_db):
    """Use in tests whose tasks run on the real worker: data must be committed to be seen."""
    return celery_worker_process


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.2, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


@pytest.fixture
def postgres_only(db):
    from django.db import connection

    if connection.vendor != "postgresql":
        service_missing("this test needs PostgreSQL (set DATABASE_URL)")


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(os.environ.get("MODELSHIP_TEST_ARTIFACTS", ROOT / "test-artifacts"))


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium driven by Playwright (never a browser download)."""
    if not Path(CHROMIUM).exists():
        service_missing(f"{CHROMIUM} is not installed (apt-get install chromium)")
    # Playwright's sync API keeps an event loop in this thread; the ORM calls made by the test
    # itself are still synchronous and safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def media_root(settings, tmp_path):
    """A fresh MEDIA_ROOT for one test, so it can assert exactly which files are stored."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = root
    return root


def stored_files(root) -> list[str]:
    """Every file under a media root, as sorted relative paths."""
    return sorted(str(p.relative_to(root)) for p in Path(root).rglob("*") if p.is_file())
