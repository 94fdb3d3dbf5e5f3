"""``make run``: ModelShip on one machine with no external service.

Migrates the SQLite database under ``MODELSHIP_DATA_DIR``, then runs the web server
(gunicorn), a real Celery worker on the filesystem broker and Celery beat (the sweeper that sends
again the tasks of a worker that stopped), side by side, until interrupted. If one process dies,
the others are stopped too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _banner(port: int, data_dir: Path) -> str:
    url = f"http://127.0.0.1:{port}"
    return f"""
  ModelShip is running at {url}/
    API docs (Swagger UI):  {url}/api/docs/
    OpenAPI schema:         {url}/api/schema/
    Health:                 {url}/api/health
    Review pages:           {url}/
    Django admin:           {url}/admin/
  Data (database, media, broker, secret key): {data_dir}

  Create the first admin in another terminal:
    MODELSHIP_DATA_DIR={data_dir} {sys.executable} manage.py createadmin --email you@example.com
  or without prompts:
    MODELSHIP_DATA_DIR={data_dir} MODELSHIP_ADMIN_EMAIL=you@example.com MODELSHIP_ADMIN_PASSWORD=... \\
      {sys.executable} manage.py createadmin --no-input
"""


def _step(message: str) -> None:
    print(f"==> {message}", flush=True)


def _health(port: int) -> str | None:
    """None when /api/health answers 200 (web, database, broker and a live worker), else what is down."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as resp:
            resp.read()
        return None
    except urllib.error.HTTPError as exc:
        return exc.read().decode("utf-8", "replace")[:300]
    except OSError:
        return "the web server is not listening yet"


def main() -> int:
    port = int(os.environ.get("PORT", "8000"))
    data_dir = Path(os.environ.get("MODELSHIP_DATA_DIR", ROOT / "data")).resolve()
    env = dict(os.environ)
    env["MODELSHIP_DATA_DIR"] = str(data_dir)
    env.setdefault("DJANGO_SETTINGS_MODULE", "modelship.settings")
    for var in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "CACHE_URL"):
        # The embedded default uses none of the external services, whatever the shell has set.
        if os.environ.get("MODELSHIP_EMBEDDED_KEEP_ENV") != "1":
            env.pop(var, None)
    manage = [sys.executable, str(ROOT / "manage.py")]
    _step(f"Migrating the database in {data_dir}")
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, cwd=ROOT, check=True)
    _step("Collecting static files")
    subprocess.run([*manage, "collectstatic", "--noinput", "-v", "0"], env=env, cwd=ROOT, check=True)
    _step("Starting a worker and the web server")

    worker = subprocess.Popen(
        [sys.executable, str(ROOT / "celery_worker.py"),
         "--concurrency", os.environ.get("CELERY_CONCURRENCY", "1"), "--loglevel", "WARNING"],
        env=env, cwd=ROOT,
    )
    beat = subprocess.Popen(  # sends again the tasks of a worker that stopped (modelship/leases.py)
        [sys.executable, "-m", "celery", "-A", "modelship", "beat", "--loglevel", "WARNING",
         "--schedule", str(data_dir / "celerybeat-schedule")],
        env=env, cwd=ROOT,
    )
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "modelship.wsgi:application",
         "--bind", f"127.0.0.1:{port}", "--workers", os.environ.get("WEB_CONCURRENCY", "2"),
         "--timeout", "300", "--access-logfile", "-", "--log-level", "warning"],
        env=env, cwd=ROOT,
    )
    print(_banner(port, data_dir), flush=True)
    started, next_note, healthy = time.monotonic(), time.monotonic() + 10, False

    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = 0
    while not stopping:
        for proc, name in ((worker, "worker"), (beat, "beat"), (web, "web server")):
            if proc.poll() is not None:
                print(f"The {name} exited with code {proc.returncode}; stopping.", file=sys.stderr)
                code = proc.returncode or 1
                stopping = True
        if not healthy and not stopping:  # say when it is ready, and until then what it waits for
            down = _health(port)
            healthy = down is None
            if healthy:
                _step(f"Ready after {time.monotonic() - started:.0f} s: /api/health answers 200")
            elif time.monotonic() >= next_note:
                _step(f"Still starting ({time.monotonic() - started:.0f} s): {down}")
                next_note += 10
        time.sleep(0.5)
    for proc in (web, beat, worker):
        if proc.poll() is None:
            proc.terminate()
    for proc in (web, beat, worker):
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    return code


if __name__ == "__main__":
    sys.exit(main())
