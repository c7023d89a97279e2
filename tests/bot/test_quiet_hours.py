"""Bot-initiated messages go out Monday–Saturday 08:00–20:00 Paris time, never on holidays."""

from dataclasses import FrozenInstanceError
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot import quiet_hours
from bot.quiet_hours import DEFAULT_QUIET_HOURS, QuietHours

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# (instant, allowed); each id names the mistake the case is there to catch.
ALLOWED = [
    (paris(2026, 1, 10, 19, 59), True, "saturday-19h59-open"),
    (paris(2026, 1, 10, 20, 0), False, "saturday-20h00-end-is-exclusive"),
    (paris(2026, 1, 12, 8, 0), True, "monday-08h00-start-is-inclusive"),
    (paris(2026, 1, 11, 12, 0), False, "sunday-closed"),
    (paris(2026, 4, 6, 10, 0), False, "easter-monday"),
    (paris(2026, 5, 1, 10, 0), False, "may-day"),
    (paris(2026, 5, 8, 10, 0), False, "victory-day"),
    (paris(2026, 5, 25, 10, 0), False, "whit-monday"),
    (paris(2026, 7, 14, 10, 0), False, "bastille-day"),
    (paris(2026, 12, 25, 10, 0), False, "christmas"),
    (paris(2026, 4, 3, 10, 0), True, "good-friday-is-alsace-moselle-only"),
    (paris(2026, 12, 26, 10, 0), True, "saint-stephen-is-alsace-moselle-only"),
    (utc(2026, 1, 13, 7, 30), True, "utc-07h30-winter-is-08h30-paris"),
    (utc(2026, 7, 15, 18, 30), False, "utc-18h30-summer-is-20h30-paris"),
    (utc(2026, 3, 30, 6, 30), True, "utc-06h30-after-spring-change-is-08h30-paris"),
    (datetime(2026, 1, 10, 14, 0, tzinfo=NEW_YORK), False, "new-york-14h00-is-20h00-paris"),
]


@pytest.mark.parametrize(("at", "allowed"), [case[:2] for case in ALLOWED],
                         ids=[case[2] for case in ALLOWED])
def test_is_allowed(at, allowed):
    assert quiet_hours.is_allowed(at) is allowed
    assert DEFAULT_QUIET_HOURS.is_allowed(at) is allowed


# (instant, start of the next window); 08:00 Paris is 07:00 UTC in winter and 06:00 UTC in summer.
NEXT = [
    (paris(2026, 1, 11, 10, 0), utc(2026, 1, 12, 7), "sunday-to-monday"),
    (paris(2026, 1, 10, 20, 0), utc(2026, 1, 12, 7), "saturday-20h00-to-monday"),
    (paris(2026, 1, 10, 23, 30), utc(2026, 1, 12, 7), "saturday-23h30-to-monday"),
    (paris(2026, 1, 12, 7, 59), utc(2026, 1, 12, 7), "monday-07h59-to-same-morning"),
    (paris(2026, 4, 4, 20, 0), utc(2026, 4, 7, 6), "saturday-before-easter-monday-to-tuesday"),
    (paris(2026, 7, 14, 10, 0), utc(2026, 7, 15, 6), "bastille-tuesday-to-wednesday"),
    (paris(2026, 5, 1, 10, 0), utc(2026, 5, 2, 6), "may-day-friday-to-saturday"),
    (paris(2026, 5, 8, 10, 0), utc(2026, 5, 9, 6), "victory-day-friday-to-saturday"),
    (paris(2026, 5, 13, 21, 0), utc(2026, 5, 15, 6), "eve-of-ascension-to-friday"),
    (paris(2026, 12, 25, 10, 0), utc(2026, 12, 26, 7), "christmas-friday-to-saturday"),
    (paris(2026, 3, 29, 12, 0), utc(2026, 3, 30, 6), "spring-change-sunday-to-monday-cest"),
    (paris(2026, 10, 25, 12, 0), utc(2026, 10, 26, 7), "autumn-change-sunday-to-monday-cet"),
    (paris(2026, 3, 28, 21, 0), utc(2026, 3, 30, 6), "saturday-across-spring-change-to-monday"),
    (paris(2026, 10, 24, 21, 0), utc(2026, 10, 26, 7), "saturday-across-autumn-change-to-monday"),
    (utc(2026, 1, 13, 6, 30), utc(2026, 1, 13, 7), "utc-06h30-winter-to-08h00-paris"),
    (utc(2026, 7, 18, 19, 30), utc(2026, 7, 20, 6), "utc-saturday-19h30-summer-to-monday"),
    (datetime(2026, 1, 10, 14, 0, tzinfo=NEW_YORK), utc(2026, 1, 12, 7),
     "new-york-saturday-14h00-to-monday"),
]


@pytest.mark.parametrize(("at", "expected"), [case[:2] for case in NEXT],
                         ids=[case[2] for case in NEXT])
def test_next_allowed_is_the_next_window_start_in_utc(at, expected):
    for found in (quiet_hours.next_allowed(at), DEFAULT_QUIET_HOURS.next_allowed(at)):
        assert found == expected
        assert found.utcoffset() == timedelta(0)
        assert found.astimezone(PARIS).time() == time(8)
        assert quiet_hours.is_allowed(found)


@pytest.mark.parametrize("at", [case[0] for case in ALLOWED if case[1]],
                         ids=[case[2] for case in ALLOWED if case[1]])
def test_next_allowed_returns_an_allowed_instant_itself(at):
    assert quiet_hours.next_allowed(at) is at


@pytest.mark.parametrize("call", [quiet_hours.is_allowed, quiet_hours.next_allowed,
                                  QuietHours().is_allowed, QuietHours().next_allowed],
                         ids=["is_allowed", "next_allowed", "method-is_allowed",
                              "method-next_allowed"])
def test_naive_datetimes_are_refused(call):
    with pytest.raises(ValueError, match="timezone-aware"):
        call(datetime(2026, 1, 12, 10, 0))


def test_a_custom_window_uses_its_own_hours_days_and_zone():
    weekdays = QuietHours(start=time(9), end=time(17, 30), days=frozenset(range(5)),
                          zone="America/New_York")
    friday_evening = datetime(2026, 1, 9, 17, 30, tzinfo=NEW_YORK)
    assert weekdays.is_allowed(friday_evening - timedelta(seconds=1))
    assert not weekdays.is_allowed(friday_evening)
    assert weekdays.next_allowed(friday_evening) == datetime(2026, 1, 12, 9, tzinfo=NEW_YORK)


def test_the_default_window_is_monday_to_saturday_8_to_20_in_paris():
    expected = QuietHours(time(8), time(20), frozenset(range(6)), "Europe/Paris")
    assert expected == DEFAULT_QUIET_HOURS
    with pytest.raises(FrozenInstanceError):
        DEFAULT_QUIET_HOURS.start = time(7)  # type: ignore[misc]


@pytest.mark.parametrize("settings", [
    {"start": time(20), "end": time(8)},
    {"start": time(8), "end": time(8)},
    {"start": time(8, tzinfo=UTC)},
    {"days": frozenset()},
    {"days": frozenset({7})},
    {"zone": "Europe/Atlantis"},
], ids=["start-after-end", "empty-window", "aware-start", "no-day", "day-7", "unknown-zone"])
def test_an_impossible_window_is_refused(settings):
    with pytest.raises(ValueError):
        QuietHours(**settings)
