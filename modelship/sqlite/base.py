"""Django's SQLite backend, with whole numbers beyond 64 bits matching nothing (as on PostgreSQL).

SQLite stores integers in 64 bits and Python's driver raises OverflowError for a bigger one, so
an id of 2**64 from a request (an ``X-Organization`` header, an ``item_ids`` list) was a 500 on
the embedded default and a plain "not found" on PostgreSQL. Such a parameter is bound as a REAL
instead: it compares numerically, and no stored integer equals it.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db.backends.sqlite3 import base

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _bindable(value):
    if type(value) is int and not INT64_MIN <= value <= INT64_MAX:
        return float(value)
    return value


class SQLiteCursorWrapper(base.SQLiteCursorWrapper):
    def execute(self, query, params=None):
        if params is not None and not isinstance(params, Mapping):
            params = [_bindable(value) for value in params]
        return super().execute(query, params)


class DatabaseWrapper(base.DatabaseWrapper):
    def create_cursor(self, name=None):
        return self.connection.cursor(factory=SQLiteCursorWrapper)
