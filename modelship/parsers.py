"""The API's JSON parser: DRF's, with a limit on the body's size and on how deeply it nests.

Python's decoder recurses once per nesting level, so a body of a few thousand ``[`` would end in
a RecursionError (a 500); bodies beyond ``JSON_MAX_BYTES`` would be read whole into memory.
Both are refused here with a 400 that names the limit.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.settings import api_settings
from rest_framework.utils import json

JSON_TOO_LARGE = "The JSON body is larger than the limit of {limit} bytes."
JSON_TOO_DEEP = "The JSON body nests deeper than the limit of {limit} levels."


def json_depth_exceeds(value, limit: int) -> bool:
    """Whether ``value`` nests lists/objects more than ``limit`` levels deep (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class JSONParser(parsers.JSONParser):
    """``application/json`` bodies up to ``JSON_MAX_BYTES``, nested at most ``JSON_MAX_DEPTH`` levels."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parsers.get_encoding(parser_context)
        size_limit = settings.JSON_MAX_BYTES
        depth_limit = settings.JSON_MAX_DEPTH
        raw = stream.read(size_limit + 1) if stream is not None else b""
        if len(raw) > size_limit:
            raise ParseError(JSON_TOO_LARGE.format(limit=size_limit))
        try:
            text = raw.decode(encoding)
            parse_constant = json.strict_constant if api_settings.STRICT_JSON else None
            data = json.loads(text, parse_constant=parse_constant)
        except RecursionError:
            raise ParseError(JSON_TOO_DEEP.format(limit=depth_limit)) from None
        except ValueError as exc:  # UnicodeDecodeError is a ValueError too
            raise ParseError(f"JSON parse error - {exc}") from None
        if json_depth_exceeds(data, depth_limit):
            raise ParseError(JSON_TOO_DEEP.format(limit=depth_limit))
        return data
