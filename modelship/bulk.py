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
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import connection, models
from django.utils import timezone


class EncodedJson(str):
    """A JSON field's value already encoded: a caller writing the same value on many rows encodes it once."""


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    if type(value) is EncodedJson:
        return value
    return json.dumps(value)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _converter(field: models.Field) -> Callable[[Any], Any] | None:
    """What turns a Python value of ``field`` into the database's (None: taken as it is)."""
    if isinstance(field, models.JSONField):
        return _json_text
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


def _columns(model: type[models.Model]) -> dict[str, str]:
    """Field name or attname (``project`` and ``project_id``) -> database column."""
    fields = model._meta.concrete_fields
    return {f.name: f.column for f in fields} | {f.attname: f.column for f in fields}


def rows_matching(*, model: type[models.Model], columns: Sequence[str], equal: Mapping[str, Any], key: str,
                  values: Sequence[Any]) -> list[tuple]:
    """The ``columns`` of ``model``'s rows whose ``equal`` columns hold those values and whose ``key`` is one of
    ``values``: one query (per 30,000 values on SQLite), without the ORM's per-value work on long lists."""
    if not values:
        return []
    quote, column = connection.ops.quote_name, _columns(model)
    select = (f"SELECT {', '.join(quote(column[c]) for c in columns)} FROM {quote(model._meta.db_table)} WHERE "
              + "".join(f"{quote(column[c])} = %s AND " for c in equal))
    fixed = list(equal.values())
    out: list[tuple] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"{select}{quote(column[key])} = ANY(%s)", [*fixed, list(values)])
            return [tuple(r) for r in cursor.fetchall()]
        per_statement = MAX_PARAMETERS - len(fixed)
        for start in range(0, len(values), per_statement):
            part = values[start:start + per_statement]
            cursor.execute(f"{select}{quote(column[key])} IN ({', '.join(['%s'] * len(part))})", [*fixed, *part])
            out.extend(tuple(r) for r in cursor.fetchall())
    return out


def rows_insert_ids(*, model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]], key: str,
                    equal: Mapping[str, Any]) -> dict[Any, int]:
    """``rows_insert``, then the id of each row written by its ``key`` value (``key`` with the ``equal``
    columns, whose values every row shares, is unique in the table)."""
    count = rows_insert(model=model, columns=columns, rows=rows)
    if not count:
        return {}
    keys = [row[columns.index(key)] for row in rows]
    if connection.vendor == "sqlite":
        # One statement under SQLite's single write lock: the rows took consecutive ids up to the
        # connection's last one. Read back by that range (a primary-key scan, not a lookup per key),
        # and trusted only when it holds exactly these keys.
        quote, column = connection.ops.quote_name, _columns(model)
        pk = quote(model._meta.pk.column)
        with connection.cursor() as cursor:
            cursor.execute("SELECT last_insert_rowid()")
            last = cursor.fetchone()[0]
            cursor.execute(
                f"SELECT {quote(column[key])}, {pk} FROM {quote(model._meta.db_table)} WHERE {pk} BETWEEN %s AND %s"
                + "".join(f" AND {quote(column[c])} = %s" for c in equal),
                [last - count + 1, last, *equal.values()])
            found = dict(cursor.fetchall())
        if len(found) == count and found.keys() == set(keys):
            return found
    pk_name = model._meta.pk.attname
    return dict(rows_matching(model=model, columns=(key, pk_name), equal=equal, key=key, values=keys))


def rows_upsert(*, model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]],
                unique: Sequence[str], update: Sequence[str], returning: Sequence[str] = ()) -> list[tuple]:
    """Insert ``rows`` or, where ``unique`` already matches a row, update its ``update`` columns: one
    ``INSERT … ON CONFLICT … DO UPDATE`` statement (per 30,000 values), every other column at its default.
    Returns the ``returning`` columns of each written row (in no promised order)."""
    if not rows:
        return []
    fields, prepare = _layout(model, columns)
    quote = connection.ops.quote_name
    column = _columns(model)
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
