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

    def _count(self, outcome: str, top: str) -> bool:
        """Count one outcome; True when its row is still to be kept (a row is built only then)."""
        self.counts[outcome] += 1
        if top in self.files:
            self.files[top][outcome] += 1
        if len(self.rows[outcome]) < self.max_rows:
            return True
        self.truncated = True
        return False

    def accepted(self, *, file: str, archive: str, line: int | None, item: int) -> None:
        if self._count("accepted", archive or file):
            self.rows["accepted"].append({"file": file, "archive": archive, "line": line, "item": item})

    def duplicate(self, *, file: str, archive: str, line: int | None, item: int | None) -> None:
        if self._count("duplicates", archive or file):
            self.rows["duplicates"].append({"file": file, "archive": archive, "line": line, "item": item})

    def rejected(self, *, file: str, archive: str, line: int | None, reason: str) -> None:
        if self._count("rejected", archive or file):
            self.rows["rejected"].append({"file": file, "archive": archive, "line": line, "reason": reason})

    @property
    def processed(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        return {"files": list(self.files.values()), **self.rows, "truncated": self.truncated}
