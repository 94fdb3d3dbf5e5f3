"""Many rows in one round trip, without the ORM's per-value work: COPY on PostgreSQL, one
``executemany`` on SQLite.

Django's ``bulk_create`` prepares every value of every row through its field (a few dozen
function calls each); for imports of 100,000 rows that cost more than the database itself.
Here the values arrive as plain Python (JSON fields as Python objects, datetimes aware) and each
column is converted once by a function chosen up front. Callers keep their transaction: these
run on the current connection, inside whatever atomic block is open.
"""

from __future__ import annotations

import functools
import io
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db import connection, models
from django.utils import timezone

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _converter(field: models.Field) -> Callable[[Any], Any] | None:
    """What turns a Python value of ``field`` into the database's (None: taken as it is)."""
    if isinstance(field, models.JSONField):
        return lambda v: None if v is None else json.dumps(v)
    if isinstance(field, models.DateTimeField) and connection.vendor != "postgresql":
        return functools.lru_cache(maxsize=16)(connection.ops.adapt_datetimefield_value)  # rows share a "now"
    return None


def _constant(field: models.Field) -> Any:
    """The value a column left out of the rows gets: its default, or now for an ``auto_now(_add)`` field."""
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return timezone.now()
    return field.get_default()


def _layout(model: type[models.Model], columns: Sequence[str]):
    """The fields written (``columns`` first, then every other non-key column) and the function that turns
    one row of ``columns`` values into the database's values for all of them."""
    given = [model._meta.get_field(name) for name in columns]
    rest = [f for f in model._meta.concrete_fields if f not in given and not f.primary_key]
    tail = tuple(_constant(f) for f in rest)
    fields = given + rest
    converters = [_converter(f) for f in fields]
    convert = [(i, c) for i, c in enumerate(converters) if c is not None]

    def prepare(row: Sequence[Any]) -> list[Any]:
        values = [*row, *tail]
        for i, c in convert:
            values[i] = c(values[i])
        return values

    return fields, prepare


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    return str(value)


def rows_insert(*, model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert ``rows`` (one value per name in ``columns``: field names, or ``*_id`` for foreign keys)
    into ``model``'s table in one statement, every other column at its default; returns how many.
    A constraint error surfaces as Django's ``IntegrityError``, as from the ORM."""
    fields, prepared = _layout(model, columns)
    table = connection.ops.quote_name(model._meta.db_table)
    quoted = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            buffer = io.StringIO()
            for row in rows:
                buffer.write("\t".join(map(_copy_text, prepared(row))))
                buffer.write("\n")
                count += 1
            if count:
                buffer.seek(0)
                with connection.wrap_database_errors:
                    cursor.cursor.copy_expert(f"COPY {table} ({quoted}) FROM STDIN", buffer)
        else:
            batch = [prepared(row) for row in rows]
            count = len(batch)
            if count:
                placeholders = ", ".join(["%s"] * len(fields))
                cursor.executemany(f"INSERT INTO {table} ({quoted}) VALUES ({placeholders})", batch)
    return count


MAX_PARAMETERS = 30000  # below SQLite's 32,766 bound parameters per statement


def rows_upsert(*, model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]],
                unique: Sequence[str], update: Sequence[str], returning: Sequence[str] = ()) -> list[tuple]:
    """Insert ``rows`` or, where ``unique`` already matches a row, update its ``update`` columns: one
    ``INSERT … ON CONFLICT … DO UPDATE`` statement (per 30,000 values), every other column at its default.
    Returns the ``returning`` columns of each written row (in no promised order)."""
    if not rows:
        return []
    fields, prepare = _layout(model, columns)
    quote = connection.ops.quote_name
    column = {f.name: f.column for f in model._meta.concrete_fields} | {
        f.attname: f.column for f in model._meta.concrete_fields}
    table = quote(model._meta.db_table)
    head = (f"INSERT INTO {table} ({', '.join(quote(f.column) for f in fields)}) VALUES ")
    conflict = (f" ON CONFLICT ({', '.join(quote(column[c]) for c in unique)}) DO UPDATE SET "
                + ", ".join(f"{quote(column[c])} = EXCLUDED.{quote(column[c])}" for c in update))
    if returning:
        conflict += " RETURNING " + ", ".join(quote(column[c]) for c in returning)
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    per_statement = max(1, MAX_PARAMETERS // len(fields))
    out: list[tuple] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            batch = rows[start:start + per_statement]
            params: list[Any] = []
            for row in batch:
                params.extend(prepare(row))
            cursor.execute(head + ", ".join([placeholder] * len(batch)) + conflict, params)
            if returning:
                out.extend(tuple(r) for r in cursor.fetchall())
    return out
