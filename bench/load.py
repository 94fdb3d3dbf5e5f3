#!/usr/bin/env python
"""Load and soak on loopback: the review queue, job status and the quick classifier under concurrent users.

    python bench/load.py                          # 8 users for 1 minute on the embedded default (SQLite)
    python bench/load.py --users 16 --minutes 10  # the full soak
    DATABASE_URL=postgres://… CELERY_BROKER_URL=redis://… python bench/load.py   # on PostgreSQL + Redis

Starts ModelShip as production runs it (gunicorn with ``--web-workers`` processes, one Celery worker)
on a fresh data directory, seeds it over the API (a user, a sentiment project of ``--items`` texts
imported and auto-labelled by a real job), then runs Locust headless with ``--users`` users for
``--minutes``: each user, in turn, fetches the review queue (``GET /api/review/queue``, 5 items),
polls the job (``GET /api/jobs/{id}``) and classifies a short text (``POST /api/classify/text/quick``).
Throttles are raised for the run, so every request reaches the application.

One user runs alone first (``--baseline-seconds``): the baseline latency of the same run. Prints,
per request kind, p50/p95/p99 latency, requests per second and the error rate under the soak beside
that baseline and the goal, and the resident memory of the web tier and of the worker (each with its
children) at the start, the middle and the end of the soak and its peak, sampled every 5 seconds with
the machine's load average: memory that keeps growing from the middle to the end is a leak.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.error  # noqa: E402
import urllib.request  # noqa: E402
import uuid  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import psutil  # noqa: E402
from locust import HttpUser, constant, task  # noqa: E402
from locust.env import Environment  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "a long bench passphrase 7"
TEXTS = ["I love this, wonderful service", "Terrible, it broke after a day", "It arrived on Tuesday",
         "Best purchase this year", "Awful support, never again", "The manual has twelve pages"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(base: str, method: str, path: str, body=None, token: str = "", content_type="application/json"):
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", content_type)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    sys.exit(f"timed out waiting for {what}")


def start_stack(args, data_dir: Path, port: int) -> tuple[subprocess.Popen, subprocess.Popen, dict]:
    env = dict(os.environ, MODELSHIP_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="modelship.settings",
               THROTTLE_USER="100000000/hour", THROTTLE_QUICK="100000000/minute", THROTTLE_AUTH="100000/minute",
               LOG_LEVEL="WARNING")
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    worker = subprocess.Popen([sys.executable, "celery_worker.py", "--concurrency", "1", "--loglevel", "WARNING"],
                              cwd=ROOT, env=env)
    web = subprocess.Popen([sys.executable, "-m", "gunicorn", "modelship.wsgi:application", "--bind",
                            f"127.0.0.1:{port}", "--workers", str(args.web_workers), "--timeout", "120",
                            "--log-level", "warning"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"

    def up():
        try:
            return _call(base, "GET", "/api/health")[0] == 200
        except OSError:
            return False

    _wait(up, 300, "the web server and the worker")
    return web, worker, env


def seed(base: str, items: int) -> dict:
    status, body = _call(base, "POST", "/api/auth/register", {"email": f"bench-{uuid.uuid4().hex[:8]}@example.com",
                                                                 "password": PASSWORD})
    assert status == 201, body
    token = body["access"]
    status, project = _call(base, "POST", "/api/projects/", {"name": "Bench", "template": "sentiment"}, token)
    assert status == 201, project
    boundary = uuid.uuid4().hex
    csv = "text\n" + "".join(f"{random.choice(TEXTS)} (review {n})\n" for n in range(items))
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"project\"\r\n\r\n{project['id']}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"reviews.csv\"\r\n"
            f"Content-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n").encode()
    status, imported = _call(base, "POST", "/api/upload", body, token, f"multipart/form-data; boundary={boundary}")
    assert status in (201, 202), imported
    _wait(lambda: _call(base, "GET", f"/api/uploads/{imported['id']}", token=token)[1]["status"] == "succeeded",
          600, "the import")
    status, job = _call(base, "POST", f"/api/projects/{project['id']}/classify", {}, token)
    assert status == 202, job
    _wait(lambda: _call(base, "GET", f"/api/jobs/{job['id']}", token=token)[1]["status"] == "succeeded",
          900, "the auto-label job")
    return {"token": token, "project": project["id"], "job": job["id"]}


def make_user(world: dict):
    class Reviewer(HttpUser):
        wait_time = constant(0)

        def on_start(self):
            self.client.headers["Authorization"] = f"Bearer {world['token']}"

        @task
        def review_queue(self):
            self.client.get(f"/api/review/queue?project={world['project']}&limit=5", name="GET /api/review/queue")

        @task
        def job_status(self):
            self.client.get(f"/api/jobs/{world['job']}", name="GET /api/jobs/{id}")

        @task
        def quick_classify(self):
            self.client.post("/api/classify/text/quick", json={"text": random.choice(TEXTS)},
                             name="POST /api/classify/text/quick")

    return Reviewer


def _tree_rss(proc: subprocess.Popen) -> int:
    try:
        root = psutil.Process(proc.pid)
        return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
    except psutil.NoSuchProcess:
        return 0


GOAL_P95_MS = 500  # each request kind, under the soak's concurrency
GOAL_ERRORS = 0.0
GOAL_GROWTH = 0.05  # memory from the middle of the soak to its end, as a share of the middle


def _stats(environment: Environment) -> dict[str, dict]:
    """Per request kind (and "all"): count, p50/p95/p99 in ms and the error rate, from Locust's stats."""
    out = {}
    entries = sorted(environment.stats.entries.values(), key=lambda e: e.name)
    for entry in [*entries, environment.stats.total]:
        name = entry.name if entry is not environment.stats.total else "all"
        out[name] = {"count": entry.num_requests, "p50": entry.get_response_time_percentile(0.5),
                     "p95": entry.get_response_time_percentile(0.95), "p99": entry.get_response_time_percentile(0.99),
                     "errors": entry.num_failures / entry.num_requests if entry.num_requests else 0.0,
                     "failures": [f"{e.method} {e.name}: {e.error} x{e.occurrences}"
                                  for e in environment.stats.errors.values() if e.name == entry.name]}
    return out


def _run_phase(world: dict, base: str, users: int, seconds: float, on_tick=None) -> dict[str, dict]:
    environment = Environment(user_classes=[make_user(world)], host=base)
    runner = environment.create_local_runner()
    runner.start(users, spawn_rate=users)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if on_tick:
            on_tick()
        gevent.sleep(min(5, max(0.0, deadline - time.monotonic())))
    runner.quit()
    return _stats(environment)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=8, help="concurrent Locust users (default 8)")
    parser.add_argument("--minutes", type=float, default=1.0, help="how long the load runs (default 1; soak: 10)")
    parser.add_argument("--baseline-seconds", type=float, default=30,
                        help="one user alone first, the baseline of the same run (default 30)")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn processes (default 2)")
    parser.add_argument("--items", type=int, default=2000, help="items in the seeded project (default 2000)")
    args = parser.parse_args()

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="modelship-load-") as tmp:
        web, worker, _ = start_stack(args, Path(tmp) / "data", port)
        try:
            world = seed(base, args.items)
            baseline = _run_phase(world, base, 1, args.baseline_seconds)
            samples: list[tuple[float, int, int, float]] = []  # seconds into the soak, web, worker, load average
            began = time.monotonic()

            def sample():
                samples.append((time.monotonic() - began, _tree_rss(web), _tree_rss(worker), os.getloadavg()[0]))

            soak = _run_phase(world, base, args.users, args.minutes * 60, on_tick=sample)
            sample()
            report(baseline, soak, samples, args)
        finally:
            for proc in (web, worker):
                proc.terminate()
            for proc in (web, worker):
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()


def report(baseline: dict, soak: dict, samples: list[tuple[float, int, int, float]], args) -> None:
    database = "PostgreSQL + Redis" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "SQLite"
    seconds = args.minutes * 60
    loads = [s[3] for s in samples]
    print(f"\n# {args.users} users for {args.minutes:g} min after 1 user for {args.baseline_seconds:g} s (the "
          f"baseline), {args.web_workers} web processes, 1 worker, {database}, loopback; {os.cpu_count()} CPUs, "
          f"1-min load average {min(loads):.1f}-{max(loads):.1f} during the soak")
    print(f"{'request':34} {'count':>7} {'req/s':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>7}"
          f"  {'1-user p50/p95':>15}  goal")
    for name, row in soak.items():
        alone = baseline.get(name, {})
        print(f"{name:34} {row['count']:>7} {row['count'] / seconds:>6.1f} {row['p50']:>7.0f} {row['p95']:>7.0f} "
              f"{row['p99']:>7.0f} {row['errors']:>7.2%}  {alone.get('p50', 0):>7.0f}/{alone.get('p95', 0):<7.0f}"
              f"  p95 < {GOAL_P95_MS} ms, errors {GOAL_ERRORS:.0%} "
              f"({'met' if row['p95'] < GOAL_P95_MS and row['errors'] <= GOAL_ERRORS else 'NOT MET'})")
        for failure in row["failures"]:
            print(f"  error: {failure}")
    middle = min(samples, key=lambda s: abs(s[0] - samples[-1][0] / 2))
    print(f"\n{'memory (RSS, MiB)':20} {'start':>8} {'middle':>8} {'end':>8} {'peak':>8} {'mid->end':>9}  goal")
    for index, name in ((1, "web (2 processes)" if args.web_workers == 2 else "web"), (2, "worker")):
        start, mid, end = samples[0][index] / 2**20, middle[index] / 2**20, samples[-1][index] / 2**20
        peak = max(s[index] for s in samples) / 2**20
        growth = (end - mid) / mid if mid else 0.0
        print(f"{name:20} {start:>8.0f} {mid:>8.0f} {end:>8.0f} {peak:>8.0f} {growth:>+9.1%}  "
              f"< {GOAL_GROWTH:+.0%} ({'met' if growth < GOAL_GROWTH else 'NOT MET'})")
    print(f"samples every 5 s: start {samples[0][0]:.0f} s, middle {middle[0]:.0f} s, end {samples[-1][0]:.0f} s")
    minutes = [min(samples, key=lambda s, m=m: abs(s[0] - 60 * m)) for m in range(int(samples[-1][0] // 60) + 1)]
    for index, name in ((1, "web"), (2, "worker")):
        print(f"{name} MiB by minute: " + " ".join(f"{s[index] / 2**20:.0f}" for s in minutes))
    print("1-min load average by minute: " + " ".join(f"{s[3]:.1f}" for s in minutes))


if __name__ == "__main__":
    main()
