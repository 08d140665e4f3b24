"""Dates, times and durations as people read them, in one place: day and month names in
French and English, the long form alerts use ("mardi 1 décembre 2026 à 09:00"), the local
time tables show, and each way a duration is written (in the config, in tables, in
messages)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = {
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
MONTHS = {
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
}  # fmt: skip
FRENCH_DAYS, FRENCH_MONTHS = WEEKDAYS["fr"], MONTHS["fr"]
SHORT_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # tables, JSON, CSV


def long_datetime(at: datetime, zone: ZoneInfo, language: str = "fr") -> str:
    """'mardi 1 décembre 2026 à 09:00' / 'Tuesday 1 December 2026, 09:00', local time."""
    local = at.astimezone(zone)
    day = WEEKDAYS[language][local.weekday()]
    month = MONTHS[language][local.month - 1]
    if language == "fr":
        return f"{day} {local.day} {month} {local.year} à {local:%H:%M}"
    return f"{day} {local.day} {month} {local.year}, {local:%H:%M}"


def day_in_words(
    at: datetime | date, zone: ZoneInfo, language: str = "fr", *, weekday: bool = True
) -> str:
    """'mardi 9 décembre' / 'Tuesday 9 December' (a day soon, without its year); an instant
    is taken in `zone`; `weekday=False`: '15 décembre'."""
    day = at.astimezone(zone).date() if isinstance(at, datetime) else at
    words = f"{day.day} {MONTHS[language][day.month - 1]}"
    return f"{WEEKDAYS[language][day.weekday()]} {words}" if weekday else words


def day_and_time(at: datetime, zone: ZoneInfo, language: str = "fr") -> str:
    """'mardi 9 décembre à 10:00' / 'Tuesday 9 December at 10:00', local time: a moment of
    the coming days, its year understood."""
    at_word = "à" if language == "fr" else "at"
    return f"{day_in_words(at, zone, language)} {at_word} {at.astimezone(zone):%H:%M}"


def local_time(at: datetime | None, zone: ZoneInfo, missing: str = "—") -> str:
    """'2026-12-01 09:00:00' in `zone`, as every table shows a moment."""
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if at else missing


def compact_duration(value: timedelta) -> str:
    """'1h30m', '90ms': how the config writes durations (and what its errors show)."""
    seconds = value.total_seconds()
    if 0 < seconds < 1:
        return f"{round(seconds * 1000)}ms"
    whole = int(seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if whole >= size:
            parts.append(f"{whole // size}{unit}")
            whole %= size
    return "".join(parts) or "0s"


def table_duration(value: timedelta | None) -> str:
    """'45 s', '12 min', '1 h 05', '2 d 3 h', '—': a measured duration in a table."""
    if value is None:
        return "—"
    seconds = round(value.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d}"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def window_length(value: timedelta) -> str:
    """'1 h 30', '2 h': the length of a recommended check window (whole minutes)."""
    minutes = int(value.total_seconds()) // 60
    return f"{minutes // 60} h {minutes % 60:02d}" if minutes % 60 else f"{minutes // 60} h"


def message_duration(seconds: float, language: str = "fr") -> str:
    """'12 min', '1 h 05' / '1 h 5 min': how long a slot lasted, in an alert."""
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d}" if language == "fr" else f"{hours} h {minutes} min"


class OutOfRange(ValueError):
    """A date written correctly that creneau cannot compute with: its message says why."""


# Years a date may have: one year of margin on each side of Python's calendar (years 1 to
# 9999), so that the end of a day, a time zone's offset or a conversion to UTC stays in it.
FIRST_YEAR, LAST_YEAR = 2, 9998


def moment_from_text(text: str, zone: ZoneInfo, *, end_of_day: bool) -> datetime:
    """What `--since`/`--until` say: a day (local midnight; with `end_of_day`, the midnight
    that ends it) or an ISO 8601 moment (local when it has no offset). ValueError otherwise;
    OutOfRange for a year outside FIRST_YEAR..LAST_YEAR."""
    text = text.strip()
    try:
        day = date.fromisoformat(text) if "T" not in text and ":" not in text else None
    except ValueError:
        day = None
    if day is not None:
        _within_years(day.year, text)
        if end_of_day:
            day += timedelta(days=1)
        return datetime.combine(day, time(0), tzinfo=zone)
    moment = datetime.fromisoformat(text)
    _within_years(moment.year, text)
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _within_years(year: int, text: str) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise OutOfRange(
            f"{text} is out of range: the year must be from {FIRST_YEAR:04d} to {LAST_YEAR}"
        )
