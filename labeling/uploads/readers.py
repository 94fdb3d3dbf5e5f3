"""Text formats (TXT, CSV, JSON, JSONL) read as a stream of rows.

Each format has a *check* that reads the whole file once, before anything is written, and
raises DomainError (400) when the file as a whole is unusable (not UTF-8, not CSV, no usable
column, not JSON); and a *rows* generator that yields one ``Row`` per item, with the reason when
that row alone is refused. Neither holds more than one row in memory (JSON, parsed whole, is
capped by ``UPLOAD_MAX_JSON_BYTES``).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from labeling.uploads import messages
from modelship.exceptions import DomainError

TEXT_FIELDS = ("text",)
FILE_FIELDS = ("file", "filename", "file_name", "image", "path")
LABEL_SEPARATOR = "|"
CHUNK = 1024 * 1024
MAX_EXTRA_CHARS = 1000

TEXT_MODES = ("line", "whole")


@dataclass(slots=True)
class Row:
    """One item read from a text file: a text (text projects) or a file name (image projects)."""

    line: int | None
    text: str | None = None
    file: str | None = None
    labels: list[str] | None = None  # None: the row gave no labels
    extras: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def _fail(message: str, **values) -> DomainError:
    return DomainError(message.format(**values), field="files")


def utf8_check(stream: BinaryIO, *, file: str) -> int:
    """Read the whole stream in chunks; raise naming the first line that is not UTF-8; return the line count."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = 0
    last = b""
    first = True
    while chunk := stream.read(CHUNK):
        if first and chunk.startswith(codecs.BOM_UTF8):
            chunk = chunk[len(codecs.BOM_UTF8):]
        first = False
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            # Bytes the decoder held back from the last chunk never include a newline.
            raise _fail(messages.TEXT_NOT_UTF8, file=file, line=lines + exc.object[:exc.start].count(b"\n") + 1) \
                from None
        lines += chunk.count(b"\n")
        last = chunk[-1:]
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise _fail(messages.TEXT_NOT_UTF8, file=file, line=lines + 1) from None
    return lines + (1 if last not in (b"", b"\n") else 0)


def _text(stream: BinaryIO) -> io.TextIOWrapper:
    return io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")


def _release(wrapper: io.TextIOWrapper) -> None:
    """Hand the binary stream back to its owner, who closes it."""
    try:
        wrapper.detach()
    except ValueError:
        pass


def _bounded_lines(wrapper: io.TextIOWrapper, limit: int) -> Iterator[tuple[int, str | None]]:
    """(line number, line) for each line; None for a line longer than ``limit``, which is never held whole."""
    number = 0
    while raw := wrapper.readline(limit + 2):
        number += 1
        if len(raw) > limit and not raw.endswith(("\n", "\r")):
            while (rest := wrapper.readline(CHUNK)) and not rest.endswith(("\n", "\r")):
                pass
            yield number, None
        else:
            yield number, raw


def _labels(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
        if value.startswith("["):
            try:
                parsed = json.loads(value)
            except ValueError:
                parsed = None
            if isinstance(parsed, list):
                return [str(v) for v in parsed]
        return [part.strip() for part in value.split(LABEL_SEPARATOR) if part.strip()]
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def _scalar(value: Any) -> Any:
    if isinstance(value, str):
        return value[:MAX_EXTRA_CHARS]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return None


def row_from_fields(fields: dict[str, Any], *, line: int | None, item_kind: str, max_text_chars: int) -> Row:
    """A row from named fields (a CSV row or a JSON object): text or file name, labels, other fields."""
    fields = {str(k).strip().lower(): v for k, v in fields.items()}
    labels = _labels(fields.get("labels"))
    if labels is None:
        labels = _labels(fields.get("label"))
    used = {"label", "labels", *TEXT_FIELDS, *FILE_FIELDS}
    extras = {k: _scalar(v) for k, v in fields.items() if k not in used and _scalar(v) is not None}
    row = Row(line=line, labels=labels, extras=extras)
    if item_kind == "text":
        value = next((fields[k] for k in TEXT_FIELDS if fields.get(k) not in (None, "")), None)
        text = str(value).strip() if value is not None and not isinstance(value, (dict, list)) else ""
        if not text:
            row.error = messages.TEXT_EMPTY
        elif len(text) > max_text_chars:
            row.error = messages.TEXT_TOO_LONG.format(limit=max_text_chars)
        row.text = text
    else:
        value = next((fields[k] for k in FILE_FIELDS if fields.get(k) not in (None, "")), None)
        row.file = str(value).strip() if isinstance(value, str) else None
        if not row.file:
            row.error = messages.ROW_NO_FILE
    return row


# --- CSV -------------------------------------------------------------------------------------

def _csv_reader(wrapper: io.TextIOWrapper, max_text_chars: int):
    csv.field_size_limit(max(131072, max_text_chars * 4 + 1024))
    return csv.reader(wrapper)


def _header_columns(header: list[str]) -> list[str]:
    return [h.strip().lower() for h in header]


def csv_check(stream: BinaryIO, *, file: str, item_kind: str, max_text_chars: int) -> int:
    """Check encoding, CSV syntax and the needed column; return the number of data rows."""
    utf8_check(stream, file=file)
    stream.seek(0)
    wrapper = _text(stream)
    try:
        reader = _csv_reader(wrapper, max_text_chars)
        try:
            header = next(reader, None)
            if header is None:
                raise _fail(messages.CSV_EMPTY, file=file)
            columns = _header_columns(header)
            found = ", ".join(repr(c) for c in columns if c) or "no columns"
            if item_kind == "text" and not set(TEXT_FIELDS) & set(columns):
                raise _fail(messages.CSV_NO_TEXT_COLUMN, file=file, columns=found)
            if item_kind == "image" and not set(FILE_FIELDS) & set(columns):
                raise _fail(messages.CSV_NO_FILE_COLUMN, file=file, columns=found,
                            names=", ".join(repr(n) for n in FILE_FIELDS))
            rows = sum(1 for row in reader if "".join(row).strip())  # a row with a cell not blank
        except csv.Error as exc:
            raise _fail(messages.CSV_MALFORMED, file=file, line=reader.line_num, error=exc) from None
    finally:
        _release(wrapper)
    return rows


_UNSEEN: Any = object()
MAX_CACHED_LABEL_CELLS = 10_000


class _CsvLayout:
    """Where a CSV's named fields sit, worked out once from its header, so each row is read by position
    with what ``row_from_fields`` would give it: a repeated column counts its last value, a short row
    lacks the columns past its end."""

    def __init__(self, columns: list[str]):
        last = {name: i for i, name in enumerate(columns)}  # dict order: first appearance; value: last one
        self.text = last.get("text")
        self.labels = last.get("labels")
        self.label = last.get("label")
        used = {"label", "labels", *TEXT_FIELDS, *FILE_FIELDS}
        self.extras = [(name, i) for name, i in last.items() if name not in used]
        self._labels: dict[str, list[str] | None] = {}  # a label cell's text -> its labels (rows repeat a few)

    def labels_of(self, value: str) -> list[str] | None:
        labels = self._labels.get(value, _UNSEEN)
        if labels is _UNSEEN:
            labels = _labels(value)
            if len(self._labels) < MAX_CACHED_LABEL_CELLS:
                self._labels[value] = labels
        return list(labels) if labels is not None else None

    def text_row(self, values: list[str], *, line: int, max_text_chars: int) -> Row:
        """A text project's row (``row_from_fields`` for ``item_kind="text"``, without its per-row dicts)."""
        count = len(values)
        labels = self.labels_of(values[self.labels]) if self.labels is not None and self.labels < count else None
        if labels is None and self.label is not None and self.label < count:
            labels = self.labels_of(values[self.label])
        extras = {name: values[i][:MAX_EXTRA_CHARS] for name, i in self.extras if i < count}
        text = values[self.text].strip() if self.text is not None and self.text < count else ""
        row = Row(line=line, text=text, labels=labels, extras=extras)
        if not text:
            row.error = messages.TEXT_EMPTY
        elif len(text) > max_text_chars:
            row.error = messages.TEXT_TOO_LONG.format(limit=max_text_chars)
        return row


def csv_rows(stream: BinaryIO, *, item_kind: str, max_text_chars: int) -> Iterator[Row]:
    """The data rows of a CSV that passed ``csv_check``; ``line`` is where the row starts."""
    wrapper = _text(stream)
    try:
        reader = _csv_reader(wrapper, max_text_chars)
        columns = _header_columns(next(reader))
        layout = _CsvLayout(columns)
        end = reader.line_num
        for values in reader:
            line, end = end + 1, reader.line_num
            if not "".join(values).strip():  # every cell blank
                continue
            if len(values) > len(columns):
                yield Row(line=line, error=messages.ROW_TOO_MANY_VALUES.format(count=len(values), columns=len(columns)))
                continue
            if item_kind == "text":
                yield layout.text_row(values, line=line, max_text_chars=max_text_chars)
                continue
            fields = dict(zip(columns, values, strict=False))
            yield row_from_fields(fields, line=line, item_kind=item_kind, max_text_chars=max_text_chars)
    finally:
        _release(wrapper)


# --- JSON and JSONL --------------------------------------------------------------------------

def _json_items(stream: BinaryIO, *, file: str) -> list:
    wrapper = _text(stream)
    try:
        data = json.load(wrapper)
    except json.JSONDecodeError as exc:
        raise _fail(messages.JSON_INVALID, file=file, line=exc.lineno, column=exc.colno, error=exc.msg) from None
    finally:
        _release(wrapper)
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        data = data["items"]
    if not isinstance(data, list):
        raise _fail(messages.JSON_SHAPE, file=file)
    return data


def _row_from_value(value: Any, *, line: int, item_kind: str, max_text_chars: int) -> Row:
    if isinstance(value, str):
        key = "text" if item_kind == "text" else "file"
        return row_from_fields({key: value}, line=line, item_kind=item_kind, max_text_chars=max_text_chars)
    if isinstance(value, dict):
        return row_from_fields(value, line=line, item_kind=item_kind, max_text_chars=max_text_chars)
    return Row(line=line, error=messages.ROW_NOT_AN_ITEM)


def json_check(stream: BinaryIO, *, file: str) -> int:
    utf8_check(stream, file=file)
    stream.seek(0)
    return len(_json_items(stream, file=file))


def json_rows(stream: BinaryIO, *, file: str, item_kind: str, max_text_chars: int) -> Iterator[Row]:
    """The elements of a JSON list; ``line`` is the element's position (from 1)."""
    for position, value in enumerate(_json_items(stream, file=file), start=1):
        yield _row_from_value(value, line=position, item_kind=item_kind, max_text_chars=max_text_chars)


def jsonl_rows(stream: BinaryIO, *, item_kind: str, max_text_chars: int) -> Iterator[Row]:
    wrapper = _text(stream)
    try:
        for line, raw in _bounded_lines(wrapper, max_text_chars * 4 + 1024):
            if raw is None:
                yield Row(line=line, error=messages.TEXT_TOO_LONG.format(limit=max_text_chars))
                continue
            raw = raw.strip()
            if not raw:
                continue
            try:
                value = json.loads(raw)
            except json.JSONDecodeError as exc:
                yield Row(line=line, error=messages.ROW_JSON_INVALID.format(error=exc.msg))
                continue
            yield _row_from_value(value, line=line, item_kind=item_kind, max_text_chars=max_text_chars)
    finally:
        _release(wrapper)


# --- TXT -------------------------------------------------------------------------------------

def txt_rows(stream: BinaryIO, *, mode: str, max_text_chars: int) -> Iterator[Row]:
    """A TXT file: one item per non-empty line (``line``), or the whole file as one item (``whole``)."""
    wrapper = _text(stream)
    try:
        if mode == "whole":
            text = wrapper.read(max_text_chars + 1).strip()
            if len(text) > max_text_chars:
                yield Row(line=None, error=messages.TEXT_TOO_LONG.format(limit=max_text_chars))
            elif not text:
                yield Row(line=None, error=messages.TEXT_EMPTY)
            else:
                yield Row(line=None, text=text)
            return
        for line, raw in _bounded_lines(wrapper, max_text_chars):
            text = raw.strip() if raw is not None else None
            if text == "":
                continue
            if text is None or len(text) > max_text_chars:
                yield Row(line=line, error=messages.TEXT_TOO_LONG.format(limit=max_text_chars))
            else:
                yield Row(line=line, text=text)
    finally:
        _release(wrapper)
