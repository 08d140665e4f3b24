"""Dates as people read them: day and month names in French and English, and the long form
alerts use ("mardi 1 décembre 2026 à 09:00")."""

from __future__ import annotations

from datetime import datetime
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


def long_datetime(at: datetime, zone: ZoneInfo, language: str = "fr") -> str:
    """'mardi 1 décembre 2026 à 09:00' / 'Tuesday 1 December 2026, 09:00', local time."""
    local = at.astimezone(zone)
    day = WEEKDAYS[language][local.weekday()]
    month = MONTHS[language][local.month - 1]
    if language == "fr":
        return f"{day} {local.day} {month} {local.year} à {local:%H:%M}"
    return f"{day} {local.day} {month} {local.year}, {local:%H:%M}"
