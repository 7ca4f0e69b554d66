"""The API reads JSON only, and only JSON that the database can store.

DRF's parser accepts text PostgreSQL refuses (a NUL character, a lone surrogate),
numbers too large for a float (``1e400`` reads as infinity) and nesting deep enough
to exhaust the stack; each would fail later as a server error. Here each is a 400
naming where it is.
"""

import codecs
import json
import math
import re

from rest_framework import parsers
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.settings import api_settings
from rest_framework.utils.json import strict_constant

# Far more than any document the API takes; well within Python's recursion limit.
MAX_JSON_DEPTH = 64


def _printable(text: str) -> str:
    """``text`` with control and surrogate characters written as escapes."""
    return "".join(
        f"\\u{ord(ch):04x}" if ord(ch) < 0x20 or 0xD800 <= ord(ch) <= 0xDFFF else ch
        for ch in text
    )


def _location(path: tuple) -> str:
    parts = []
    for step in path:
        if isinstance(step, int):
            parts.append(f"[{step}]")
        else:
            parts.append(("." if parts else "") + _printable(step))
    return "".join(parts) or "the body"


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _text_problem(text: str) -> str | None:
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "contains a NUL character (\\u0000), which cannot be stored"
    return (
        f"contains a lone surrogate (\\u{ord(found.group()):04x}), which is not "
        "valid Unicode"
    )


def unstorable(data) -> tuple[tuple, str] | None:
    """The first place in ``data`` the database could not store, and why.

    A plain walk first (depth and numbers, every string and key gathered and
    searched once, joined): a 10,000-line log batch is mostly valid, and building
    each value's path spent a seventh of its CPU. Only a problem found pays for the
    walk that names where it is.
    """
    strings: list[str] = []
    stack = [(0, data)]
    while stack:
        depth, value = stack.pop()
        kind = type(value)
        if depth > MAX_JSON_DEPTH:
            return _locate(data)
        if kind is str:
            strings.append(value)
        elif kind is dict:
            strings.extend(value)
            depth += 1
            stack.extend([(depth, item) for item in value.values()])
        elif kind is list:
            depth += 1
            stack.extend([(depth, item) for item in value])
        elif kind is float and not math.isfinite(value):
            return _locate(data)
    if _UNSTORABLE.search("".join(strings)):
        return _locate(data)
    return None


def _locate(data) -> tuple[tuple, str] | None:
    stack = [((), data)]
    while stack:
        path, value = stack.pop()
        if len(path) > MAX_JSON_DEPTH:
            return path, f"is nested deeper than {MAX_JSON_DEPTH} levels"
        if isinstance(value, str):
            problem = _text_problem(value)
            if problem:
                return path, problem
        elif isinstance(value, float) and not math.isfinite(value):
            return path, "is a number out of range"
        elif isinstance(value, dict):
            for key, item in value.items():
                problem = _text_problem(key)
                if problem:
                    return path, f"has a key that {problem}"
                stack.append(((*path, key), item))
        elif isinstance(value, list):
            stack.extend(((*path, i), item) for i, item in enumerate(value))
    return None


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing what the database cannot store (400)."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", "utf-8")
        try:
            data = json.load(
                codecs.getreader(encoding)(stream),
                parse_constant=strict_constant if api_settings.STRICT_JSON else None,
            )
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        except RecursionError:
            raise ParseError(
                f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels"
            ) from None
        found = unstorable(data)
        if found:
            path, problem = found
            message = f"{_location(path)} {problem}"
            if path and isinstance(path[0], str):
                raise ValidationError({_printable(path[0]): [message]})
            raise ValidationError({"detail": message})
        return data
