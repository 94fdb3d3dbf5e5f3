"""Item counts per project kept by PostgreSQL itself, so a dashboard reads tens of rows, not millions.

Statement-level triggers on the items table append one delta row per changed group (project, state,
final source, final labels, and the model's labels for items settled in review) to
``analytics.ItemCount``, computed from the statement's transition tables: an UPDATE that changes
none of these (a lease, a new confidence) appends nothing. Appending never contends with other
writers; readers sum the deltas, and ``counts_compact`` (run by the periodic task) folds them into
one row per group. The database keeps the counts exact whoever writes the items (services, bulk SQL,
deletes); TRUNCATE clears them.

PostgreSQL only: elsewhere (the embedded SQLite default) the selectors aggregate the items table.
The triggers are installed after every ``migrate`` (``install``, idempotent; test databases built
without migrations get them too), and the counts are rebuilt from the items when first installed.
"""

from __future__ import annotations

from django.db import connections, transaction

from analytics.models import ItemCount
from labeling.models import Item

TRIGGER_PREFIX = "analytics_item_counts"
COUNTS = ItemCount._meta.db_table
ITEMS = Item._meta.db_table
COLUMNS = "project_id, state, final_source, final_labels, predicted_labels"
KEY = ("project_id, state, final_source, final_labels, "
       "CASE WHEN state = 'reviewed' AND final_source = 'review' THEN predicted_labels END")

_FUNCTIONS = {
    "insert": f"""
        INSERT INTO {COUNTS} ({COLUMNS}, n) SELECT {KEY}, COUNT(*) FROM new_rows GROUP BY 1, 2, 3, 4, 5;
    """,
    "delete": f"""
        INSERT INTO {COUNTS} ({COLUMNS}, n) SELECT {KEY}, -COUNT(*) FROM old_rows GROUP BY 1, 2, 3, 4, 5;
    """,
    "update": f"""
        INSERT INTO {COUNTS} ({COLUMNS}, n)
        SELECT p, s, f, l, m, SUM(d) FROM (
            SELECT {KEY}, -1 FROM old_rows UNION ALL SELECT {KEY}, 1 FROM new_rows
        ) AS changes (p, s, f, l, m, d) GROUP BY 1, 2, 3, 4, 5 HAVING SUM(d) <> 0;
    """,
    "truncate": f"DELETE FROM {COUNTS};",
}
_TRIGGERS = {
    "insert": "AFTER INSERT ON {items} REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT",
    "delete": "AFTER DELETE ON {items} REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT",
    "update": "AFTER UPDATE ON {items} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT",
    "truncate": "AFTER TRUNCATE ON {items} FOR EACH STATEMENT",
}


def enabled(using: str = "default") -> bool:
    return connections[using].vendor == "postgresql"


def _installed(cursor) -> bool:
    cursor.execute("SELECT COUNT(*) FROM pg_trigger WHERE tgname LIKE %s AND tgrelid = %s::regclass",
                   [f"{TRIGGER_PREFIX}_%", ITEMS])
    return cursor.fetchone()[0] == len(_TRIGGERS)


def install(*, using: str = "default") -> bool:
    """Create (or replace) the trigger functions and triggers; on first install, rebuild the counts from
    the items. Returns whether the counts were rebuilt."""
    if not enabled(using):
        return False
    connection = connections[using]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        first = not _installed(cursor)
        for event, body in _FUNCTIONS.items():
            cursor.execute(f"CREATE OR REPLACE FUNCTION {TRIGGER_PREFIX}_{event}() RETURNS trigger "
                           f"LANGUAGE plpgsql AS $$ BEGIN {body} RETURN NULL; END $$")
            cursor.execute(f"CREATE OR REPLACE TRIGGER {TRIGGER_PREFIX}_{event} "
                           f"{_TRIGGERS[event].format(items=ITEMS)} "
                           f"EXECUTE FUNCTION {TRIGGER_PREFIX}_{event}()")
        if first:
            _rebuild(cursor)
    return first


def _rebuild(cursor) -> None:
    cursor.execute(f"LOCK TABLE {ITEMS} IN SHARE MODE")  # writers wait; the counts start exact
    cursor.execute(f"DELETE FROM {COUNTS}")
    cursor.execute(f"INSERT INTO {COUNTS} ({COLUMNS}, n) SELECT {KEY}, COUNT(*) FROM {ITEMS} GROUP BY 1, 2, 3, 4, 5")


def counts_rebuild(*, using: str = "default") -> None:
    """Recount every project's items from the items table (after a restore, or to check the triggers)."""
    if not enabled(using):
        return
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        _rebuild(cursor)


def counts_compact(*, using: str = "default") -> int:
    """Fold the appended deltas into one row per group (zero groups disappear); returns the rows left."""
    if not enabled(using):
        return 0
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute(f"""
            WITH gone AS (DELETE FROM {COUNTS} RETURNING {COLUMNS}, n)
            INSERT INTO {COUNTS} ({COLUMNS}, n)
            SELECT {COLUMNS}, SUM(n) FROM gone GROUP BY 1, 2, 3, 4, 5 HAVING SUM(n) <> 0
        """)
        return cursor.rowcount
