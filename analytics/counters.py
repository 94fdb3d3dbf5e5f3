"""Counts kept by PostgreSQL itself, so a dashboard reads tens of rows, not millions.

Statement-level triggers append one delta row per changed group to a counts table, computed from the
statement's transition tables; an UPDATE that changes nothing counted appends nothing. Appending never
contends with other writers; readers sum the deltas, and ``counts_compact`` (run by the periodic task)
folds them into one row per group. The database keeps the counts exact whoever writes the rows
(services, bulk SQL, deletes, cascades), in the writer's own transaction; TRUNCATE clears them.

- ``ItemCount``: a project's items per (state, final source, final labels, and the model's labels for
  items settled in review), from ``labeling_item``.
- ``ReviewCount``: a project's live review decisions (not undone) per (reviewer, day, decision, gold,
  gold correct, adjudication, agrees with the model), with the seconds they took, from
  ``review_reviewdecision``: undo (setting ``undone_at``) takes a decision out.
- ``ReviewSeconds``: how many live review decisions (gold checks apart) took exactly so many seconds,
  per project and reviewer: the medians, exact, from a histogram (the review page sends tenths of a
  second, so a reviewer has a few hundred values, not one per decision).
- ``ReviewAgreement``: per pair of reviewers of the same item, their answers and the item's number of
  raters: Cohen's kappa and Krippendorff's alpha without reading the decisions.

PostgreSQL only: elsewhere (the embedded SQLite default) the selectors aggregate the source tables.
The triggers are installed after every ``migrate`` (``install``, idempotent; test databases built
without migrations get them too), and each table is rebuilt from its source when first installed.
A decision's day is its ``created_at`` in ``TIME_ZONE`` as it was at install time.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import connections, transaction

from analytics.models import ItemCount, ReviewAgreement, ReviewCount, ReviewSeconds
from labeling.models import Item
from review.models import ReviewDecision


@dataclass(frozen=True)
class Counted:
    """A counts table kept from a source table: ``key`` (expressions of a source row) fills ``columns``;
    ``values`` are (column, per-row expression) summed per group; only rows matching ``where`` count."""

    name: str
    source: str
    counts: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    values: tuple[tuple[str, str], ...]
    where: str = "TRUE"

    @property
    def prefix(self) -> str:
        return f"analytics_{self.name}"

    def _select(self, rows: str, sign: str) -> str:
        sums = ", ".join(f"{sign}SUM({expr})" for _, expr in self.values)
        groups = ", ".join(str(n) for n in range(1, len(self.key) + 1))
        return f"SELECT {', '.join(self.key)}, {sums} FROM {rows} WHERE {self.where} GROUP BY {groups}"

    def _insert(self) -> str:
        return f"INSERT INTO {self.counts} ({', '.join(self.columns)}, {', '.join(c for c, _ in self.values)})"

    def functions(self) -> dict[str, str]:
        keys = [f"k{n}" for n in range(len(self.key))]
        values = [f"v{n}" for n in range(len(self.values))]
        groups = ", ".join(str(n) for n in range(1, len(keys) + 1))
        changed = " OR ".join(f"SUM({v}) <> 0" for v in values)
        minus = ", ".join(f"-({expr})" for _, expr in self.values)
        plus = ", ".join(expr for _, expr in self.values)
        key = ", ".join(self.key)
        return {
            "insert": f"{self._insert()} {self._select('new_rows', '')};",
            "delete": f"{self._insert()} {self._select('old_rows', '-')};",
            "update": f"""{self._insert()}
                SELECT {', '.join(keys)}, {', '.join(f'SUM({v})' for v in values)} FROM (
                    SELECT {key}, {minus} FROM old_rows WHERE {self.where}
                    UNION ALL SELECT {key}, {plus} FROM new_rows WHERE {self.where}
                ) AS changes ({', '.join(keys + values)}) GROUP BY {groups} HAVING {changed};""",
            "truncate": f"DELETE FROM {self.counts};",
        }

    def rebuild_sql(self) -> str:
        return f"{self._insert()} {self._select(self.source, '')}"

    def compact_sql(self) -> str:
        columns = ", ".join(self.columns)
        values = ", ".join(c for c, _ in self.values)
        groups = ", ".join(str(n) for n in range(1, len(self.columns) + 1))
        changed = " OR ".join(f"SUM({c}) <> 0" for c, _ in self.values)
        return f"""
            WITH gone AS (DELETE FROM {self.counts} RETURNING {columns}, {values})
            INSERT INTO {self.counts} ({columns}, {values})
            SELECT {columns}, {', '.join(f'SUM({c})' for c, _ in self.values)} FROM gone
            GROUP BY {groups} HAVING {changed}
        """


_TRIGGERS = {
    "insert": "AFTER INSERT ON {source} REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT",
    "delete": "AFTER DELETE ON {source} REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT",
    "update": "AFTER UPDATE ON {source} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT",
    "truncate": "AFTER TRUNCATE ON {source} FOR EACH STATEMENT",
}


def _day(column: str) -> str:
    zone = settings.TIME_ZONE.replace("'", "''")
    return f"({column} AT TIME ZONE '{zone}')::date"


ITEMS = Item._meta.db_table
DECISIONS = ReviewDecision._meta.db_table
ITEM_COUNTS = Counted(
    name="item_counts", source=ITEMS, counts=ItemCount._meta.db_table,
    columns=("project_id", "state", "final_source", "final_labels", "predicted_labels"),
    key=("project_id", "state", "final_source", "final_labels",
         "CASE WHEN state = 'reviewed' AND final_source = 'review' THEN predicted_labels END"),
    values=(("n", "1"),),
)


def _review_counts() -> Counted:
    return Counted(
        name="review_counts", source=DECISIONS, counts=ReviewCount._meta.db_table,
        columns=("project_id", "reviewer_id", "day", "decision", "is_gold", "gold_correct", "is_adjudication",
                 "agrees_with_model"),
        key=("project_id", "reviewer_id", _day("created_at"), "decision", "is_gold", "gold_correct",
             "is_adjudication", "agrees_with_model"),
        values=(("n", "1"), ("seconds", "seconds_spent::numeric(24, 6)")),
        where="undone_at IS NULL",
    )


REVIEW_SECONDS = Counted(
    name="review_seconds", source=DECISIONS, counts=ReviewSeconds._meta.db_table,
    columns=("project_id", "reviewer_id", "seconds"), key=("project_id", "reviewer_id", "seconds_spent"),
    values=(("n", "1"),), where="undone_at IS NULL AND NOT is_gold",
)


RATED = "undone_at IS NULL AND NOT is_gold AND NOT is_adjudication"  # the decisions agreement compares
ANSWER = ("CASE WHEN decision = 'reject' THEN NULL ELSE (SELECT COALESCE(jsonb_agg(x ORDER BY x COLLATE \"C\"), "
          "'[]'::jsonb) FROM jsonb_array_elements_text(labels) AS e (x))::text END")


@dataclass(frozen=True)
class Agreement:
    """``ReviewAgreement``: for each item with two or more rated decisions, one row per pair of its
    reviewers with their answers and the item's number of raters. A statement changes the rows of the
    items it touched by (their pairs after it) − (their pairs before it): the decisions after are read
    from the table, those before are them less ``new_rows`` plus ``old_rows``. Exact for writers that
    lock the item while deciding (review's services do), so two decisions on one item never interleave."""

    name: str = "review_agreement"
    source: str = DECISIONS
    counts: str = ReviewAgreement._meta.db_table
    columns: tuple[str, ...] = ("project_id", "reviewer_a", "reviewer_b", "answer_a", "answer_b", "raters")

    @property
    def prefix(self) -> str:
        return f"analytics_{self.name}"

    def _delta(self, touched: str, before: str) -> str:
        rated = f"SELECT id, project_id, item_id, reviewer_id, {ANSWER} AS answer"
        return f"""
            WITH touched AS ({touched}),
            after AS ({rated} FROM {self.source} WHERE item_id IN (SELECT item_id FROM touched) AND {RATED}),
            before AS ({before}),
            sides AS (SELECT 1 AS sign, * FROM after UNION ALL SELECT -1, * FROM before),
            {self._pairs()}
            SELECT project_id, ra, rb, xa, xb, m, SUM(sign) FROM pairs GROUP BY 1, 2, 3, 4, 5, 6 HAVING SUM(sign) <> 0
        """

    @staticmethod
    def _pairs() -> str:
        return """units AS (SELECT sign, item_id, COUNT(*) AS m FROM sides GROUP BY 1, 2 HAVING COUNT(*) >= 2),
            pairs AS (
                SELECT a.sign, a.project_id, a.reviewer_id AS ra, b.reviewer_id AS rb, a.answer AS xa,
                       b.answer AS xb, u.m
                FROM sides a JOIN sides b ON a.sign = b.sign AND a.item_id = b.item_id
                     AND a.reviewer_id::text COLLATE "C" < b.reviewer_id::text COLLATE "C"
                JOIN units u ON u.sign = a.sign AND u.item_id = a.item_id)"""

    def _insert(self) -> str:
        return f"INSERT INTO {self.counts} ({', '.join(self.columns)}, n)"

    def functions(self) -> dict[str, str]:
        rated = f"SELECT id, project_id, item_id, reviewer_id, {ANSWER} AS answer"
        kept = "SELECT * FROM after WHERE id NOT IN (SELECT id FROM new_rows)"
        removed = f"{rated} FROM old_rows WHERE {RATED}"
        deltas = {
            "insert": self._delta("SELECT DISTINCT item_id FROM new_rows", kept),
            "delete": self._delta("SELECT DISTINCT item_id FROM old_rows", f"SELECT * FROM after UNION ALL {removed}"),
            "update": self._delta("SELECT item_id FROM new_rows UNION SELECT item_id FROM old_rows",
                                  f"{kept} UNION ALL {removed}"),
        }
        return {**{event: f"{self._insert()} {delta};" for event, delta in deltas.items()},
                "truncate": f"DELETE FROM {self.counts};"}

    def rebuild_sql(self) -> str:
        return f"""{self._insert()}
            WITH sides AS (SELECT 1 AS sign, project_id, item_id, reviewer_id, {ANSWER} AS answer
                           FROM {self.source} WHERE {RATED}),
            {self._pairs()}
            SELECT project_id, ra, rb, xa, xb, m, SUM(sign) FROM pairs GROUP BY 1, 2, 3, 4, 5, 6"""

    def compact_sql(self) -> str:
        columns = ", ".join(self.columns)
        return f"""
            WITH gone AS (DELETE FROM {self.counts} RETURNING {columns}, n)
            INSERT INTO {self.counts} ({columns}, n)
            SELECT {columns}, SUM(n) FROM gone GROUP BY 1, 2, 3, 4, 5, 6 HAVING SUM(n) <> 0
        """


def counted() -> tuple[Counted | Agreement, ...]:
    return (ITEM_COUNTS, _review_counts(), REVIEW_SECONDS, Agreement())


def enabled(using: str = "default") -> bool:
    return connections[using].vendor == "postgresql"


def _installed(cursor, spec: Counted | Agreement) -> bool:
    cursor.execute("SELECT COUNT(*) FROM pg_trigger WHERE tgname LIKE %s AND tgrelid = %s::regclass",
                   [f"{spec.prefix}_%", spec.source])
    return cursor.fetchone()[0] == len(_TRIGGERS)


def install(*, using: str = "default") -> list[str]:
    """Create (or replace) the trigger functions and triggers; a counts table whose triggers were not all
    there yet is rebuilt from its source. Returns the names of the tables rebuilt."""
    if not enabled(using):
        return []
    rebuilt = []
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        for spec in counted():
            first = not _installed(cursor, spec)
            for event, body in spec.functions().items():
                cursor.execute(f"CREATE OR REPLACE FUNCTION {spec.prefix}_{event}() RETURNS trigger "
                               f"LANGUAGE plpgsql AS $$ BEGIN {body} RETURN NULL; END $$")
                cursor.execute(f"CREATE OR REPLACE TRIGGER {spec.prefix}_{event} "
                               f"{_TRIGGERS[event].format(source=spec.source)} "
                               f"EXECUTE FUNCTION {spec.prefix}_{event}()")
            if first:
                _rebuild(cursor, spec)
                rebuilt.append(spec.name)
    return rebuilt


def _rebuild(cursor, spec: Counted | Agreement) -> None:
    cursor.execute(f"LOCK TABLE {spec.source} IN SHARE MODE")  # writers wait; the counts start exact
    cursor.execute(f"DELETE FROM {spec.counts}")
    cursor.execute(spec.rebuild_sql())


def counts_rebuild(*, using: str = "default") -> None:
    """Recount every table from its source (after a restore, a change of TIME_ZONE, or to check the triggers)."""
    if not enabled(using):
        return
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        for spec in counted():
            _rebuild(cursor, spec)


def counts_compact(*, using: str = "default") -> int:
    """Fold the appended deltas into one row per group (zero groups disappear); returns the rows left."""
    if not enabled(using):
        return 0
    left = 0
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        for spec in counted():
            cursor.execute(spec.compact_sql())
            left += cursor.rowcount
    return left
