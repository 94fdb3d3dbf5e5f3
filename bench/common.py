"""What the bench scripts share: throw-away PostgreSQL databases, Django set-up, sample texts, statistics
and the machine's load (on a shared machine only figures measured side by side, in the same run, compare).

Import it from a script in bench/ as ``import common`` (a script's own folder is on ``sys.path``).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

WORDS = ("the product arrived quickly and works well but the battery drains fast support was helpful refund "
         "delivery late quality price screen would recommend never again great terrible match team election "
         "market software doctor").split()


def _admin_connection(url: str):
    """A connection to the ``postgres`` database of ``url``'s server, in autocommit."""
    import environ
    import psycopg2

    cfg = environ.Env.db_url_config(url)
    connection = psycopg2.connect(host=cfg.get("HOST") or "127.0.0.1", port=cfg.get("PORT") or 5432,
                                  user=cfg.get("USER") or "postgres", password=cfg.get("PASSWORD") or None,
                                  dbname="postgres")
    connection.autocommit = True
    return connection


def _admin(url: str, *statements: str) -> None:
    connection = _admin_connection(url)
    try:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
    finally:
        connection.close()


def fresh_postgres(url: str, *, prefix: str = "modelship_bench") -> tuple[str, Callable[[], None]]:
    """A new, empty database on ``url``'s PostgreSQL server: its URL, and how to drop it."""
    name = f"{prefix}_{os.getpid()}_{int(time.time() * 1000) % 10**6}"
    _admin(url, f'CREATE DATABASE "{name}"')
    return f"{url.rsplit('/', 1)[0]}/{name}", lambda: _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare_database(url: str, *, keep: bool = False) -> None:
    """Make the database ``url`` names exist: dropped and created again unless ``keep``."""
    name = url.rsplit("/", 1)[-1].split("?", 1)[0]
    connection = _admin_connection(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            exists = cursor.fetchone() is not None
            if exists and not keep:
                cursor.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
                exists = False
            if not exists:
                cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        connection.close()


def setup_django(url: str | None = None, **environment: str) -> None:
    """Django on ``url`` (None: whatever DATABASE_URL says, else the embedded SQLite), quiet and unthrottled;
    ``environment`` sets further variables first."""
    if url is not None:
        os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "modelship.settings"
    os.environ.setdefault("CACHE_URL", "locmemcache://")  # the throttle's counter: Redis in production
    os.environ.setdefault("THROTTLE_USER", "1000000/hour")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.update(environment)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def make_texts(count: int, *, seed: int = 4) -> list[str]:
    """Review-like sentences of 8 to 60 words."""
    rng = random.Random(seed)
    return [" ".join(rng.choices(WORDS, k=rng.randint(8, 60))).capitalize() + "." for _ in range(count)]


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def load_average() -> str:
    """The machine's 1-, 5- and 15-minute load and its core count, as ``uptime`` says them."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} cores"


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
