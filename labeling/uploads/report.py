"""The per-file report of an import: what was accepted, skipped as a duplicate, or refused and why."""

from __future__ import annotations

from typing import Any


class ImportReport:
    """Counts everything; keeps at most ``max_rows`` rows per list (``truncated`` says when it cut)."""

    def __init__(self, *, max_rows: int):
        self.max_rows = max_rows
        self.rows: dict[str, list[dict[str, Any]]] = {"accepted": [], "duplicates": [], "rejected": []}
        self.counts = {"accepted": 0, "duplicates": 0, "rejected": 0}
        self.files: dict[str, dict[str, Any]] = {}
        self.truncated = False

    def file_seen(self, *, name: str, kind: str) -> None:
        self.files.setdefault(name, {"file": name, "kind": kind, "accepted": 0, "duplicates": 0, "rejected": 0})

    def _add(self, outcome: str, row: dict[str, Any], top: str) -> None:
        self.counts[outcome] += 1
        if top in self.files:
            self.files[top][outcome] += 1
        if len(self.rows[outcome]) < self.max_rows:
            self.rows[outcome].append(row)
        else:
            self.truncated = True

    def accepted(self, *, file: str, archive: str, line: int | None, item: int) -> None:
        self._add("accepted", {"file": file, "archive": archive, "line": line, "item": item}, archive or file)

    def duplicate(self, *, file: str, archive: str, line: int | None, item: int | None) -> None:
        self._add("duplicates", {"file": file, "archive": archive, "line": line, "item": item}, archive or file)

    def rejected(self, *, file: str, archive: str, line: int | None, reason: str) -> None:
        self._add("rejected", {"file": file, "archive": archive, "line": line, "reason": reason}, archive or file)

    @property
    def processed(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        return {"files": list(self.files.values()), **self.rows, "truncated": self.truncated}
