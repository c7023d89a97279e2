"""Quiet hours: when the bot may send messages nobody asked for (reminders, feedback requests)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

# Metropolitan France's national public holidays: without a subdivision the package leaves out
# Good Friday and 26 December, which are public holidays only in Alsace-Moselle.
_PUBLIC_HOLIDAYS = holidays.country_holidays("FR")

_MONDAY_TO_SATURDAY = frozenset(range(6))


@dataclass(frozen=True)
class QuietHours:
    """A daily window [start, end) on given weekdays (Monday is 0), closed on French holidays."""

    start: time = time(8)
    end: time = time(20)
    days: frozenset[int] = _MONDAY_TO_SATURDAY
    zone: str = "Europe/Paris"

    def __post_init__(self) -> None:
        """Refuses a window that is empty, never open, or tied to an unknown zone."""
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("start and end are wall-clock times in `zone`, without tzinfo")
        if not self.start < self.end:
            raise ValueError(f"start {self.start} must come before end {self.end}")
        # A window open on no day would make next_allowed search forever.
        if not self.days or not self.days <= frozenset(range(7)):
            raise ValueError(f"days must be a non-empty set of weekdays 0-6, not {self.days!r}")
        try:
            ZoneInfo(self.zone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {self.zone!r}") from error

    @property
    def _tz(self) -> ZoneInfo:
        """Returns the zone whose wall clock the window is read on."""
        return ZoneInfo(self.zone)  # ZoneInfo caches instances, so this costs a dict lookup

    def _is_open_day(self, day: date) -> bool:
        """Tells whether the window opens at all on this local date."""
        return day.weekday() in self.days and day not in _PUBLIC_HOLIDAYS

    def is_allowed(self, at: datetime) -> bool:
        """Tells whether a bot-initiated message may go out at the aware instant `at`."""
        local = _require_aware(at).astimezone(self._tz)
        return self._is_open_day(local.date()) and self.start <= local.time() < self.end

    def next_allowed(self, at: datetime) -> datetime:
        """Returns `at` itself if allowed, else the next opening of the window, aware in UTC."""
        if self.is_allowed(at):
            return at
        local = at.astimezone(self._tz)
        day = local.date()
        if not (self._is_open_day(day) and local.time() < self.start):
            day += timedelta(days=1)
            # Ends within days: at least one weekday is open and holidays are a few a year.
            while not self._is_open_day(day):
                day += timedelta(days=1)
        # Combining the local date with the local start time, rather than adding 24 h to an
        # instant, keeps 08:00 at 08:00 across daylight-saving changes.
        return datetime.combine(day, self.start, tzinfo=self._tz).astimezone(UTC)


def _require_aware(at: datetime) -> datetime:
    """Returns `at` unchanged, or raises ValueError if it carries no UTC offset."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"a timezone-aware datetime is required, not {at!r}")
    return at


DEFAULT_QUIET_HOURS = QuietHours()


def is_allowed(at: datetime) -> bool:
    """Tells whether a bot-initiated message may go out at `at` under the default quiet hours."""
    return DEFAULT_QUIET_HOURS.is_allowed(at)


def next_allowed(at: datetime) -> datetime:
    """Returns `at` if allowed, else the next opening of the default window, in UTC."""
    return DEFAULT_QUIET_HOURS.next_allowed(at)
