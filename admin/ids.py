"""Row ids taken from admin URLs and forms: ASCII digits within the database's integer range."""

import re

from aiohttp import web

MAX_ID = 2**31 - 1  # PostgreSQL's integer: a larger number names no row, and fails to bind
_DIGITS = re.compile(r"[0-9]{1,10}")  # not str.isdigit(): it takes "²" and "٣"


def parse_id(value: object) -> int | None:
    """Returns the row id a text names, or None unless it is 1 to MAX_ID in ASCII digits."""
    if not isinstance(value, str) or not _DIGITS.fullmatch(value):
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


def id_or_404(value: object) -> int:
    """Returns the row id of a URL's path parameter; raises 404 when it cannot name a row."""
    number = parse_id(value)
    if number is None:
        raise web.HTTPNotFound()
    return number
