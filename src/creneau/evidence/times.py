"""How the export writes a moment or a duration: ISO 8601 in the files (UTC, and local with
its offset), and in the summary the long French date, the short one and the UTC clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from creneau.dates import FRENCH_DAYS, FRENCH_MONTHS


def iso_utc(at: datetime) -> str:
    """'2026-11-02T08:00:00Z'."""
    return at.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def iso_local(at: datetime, zone: ZoneInfo) -> str:
    """'2026-11-02T09:00:00+01:00'."""
    return at.astimezone(zone).replace(microsecond=0).isoformat()


def utc_clock(at: datetime) -> str:
    """'2026-11-02 08:00:00' (UTC)."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def hour_minute(at: datetime, zone: ZoneInfo) -> str:
    """'09:05' (local)."""
    return at.astimezone(zone).strftime("%H:%M")


def short_fr(at: datetime, zone: ZoneInfo) -> str:
    """'02/11/2026 09:00:00' (local)."""
    return at.astimezone(zone).strftime("%d/%m/%Y %H:%M:%S")


def long_fr(at: datetime, zone: ZoneInfo) -> str:
    """'lundi 2 novembre 2026 à 09:00:00' (local)."""
    local = at.astimezone(zone)
    day, month = FRENCH_DAYS[local.weekday()], FRENCH_MONTHS[local.month - 1]
    return f"{day} {local.day} {month} {local.year} à {local:%H:%M:%S}"


def days_fr(value: timedelta) -> str:
    """'90 jours'; below a day, the duration as Python writes it."""
    days = value.total_seconds() / 86400
    return plural(round(days), "jour", "jours") if days >= 1 else f"{value}"


def hour_spans(runs: list[tuple[int, int]], language: str) -> str:
    """Runs of hours of the day, each first to last included, as spans of time: [(7, 22)]
    is 'de 7 h à 23 h' / 'from 07:00 to 23:00'; [(7, 8), (23, 23)] is 'de 7 h à 9 h et de
    23 h à minuit' / '07:00 to 09:00 and 23:00 to midnight'."""

    def clock(hour: int) -> str:
        if language == "fr":
            return "minuit" if hour == 24 else f"{hour} h"
        return "midnight" if hour == 24 else f"{hour:02d}:00"

    if language == "fr":
        spans = [f"de {clock(first)} à {clock(last + 1)}" for first, last in runs]
        return " et ".join(filter(None, [", ".join(spans[:-1]), *spans[-1:]]))
    spans = [f"{clock(first)} to {clock(last + 1)}" for first, last in runs]
    return " and ".join(filter(None, [", ".join(spans[:-1]), *spans[-1:]]))


def hours_compact(runs: list[tuple[int, int]]) -> str:
    """The same runs for a CSV cell: '7-9;14-22', a lone hour '23'."""
    return ";".join(str(first) if first == last else f"{first}-{last}" for first, last in runs)


def plural(count: int, one: str, many: str) -> str:
    """'1 vérification', '2 vérifications'."""
    return f"{count} {one if count == 1 else many}"
