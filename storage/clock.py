"""The one clock of Relais: the current time in UTC, timezone-aware."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Returns the current time, timezone-aware."""
    return datetime.now(UTC)
