"""The CSV columns of the history answers and each record's row, as `creneau history … --csv`
writes them and the dashboard's public pages serve them (the JSON shapes are each record's
`to_json()`). Values stay data: the writer passes them through `creneau.terminal.csv_row`."""

from __future__ import annotations

from datetime import datetime, timedelta

from creneau.dates import SHORT_WEEKDAYS
from creneau.history.heatmap import HeatCell
from creneau.history.releases import Release

RELEASE_COLUMNS = (
    "target",
    "guichet_id",
    "guichet",
    "seen_at",
    "previous_check_at",
    "slot_count",
    "first_slot",
    "last_slot",
    "all_gone_after_s",
    "slots",
)
HEATMAP_COLUMNS = ("weekday", "hour", "observed_hours", "release_hours", "releases", "probability")


def iso(at: datetime | None) -> str:
    return at.isoformat() if at else ""


def seconds(value: timedelta | None) -> str:
    return f"{value.total_seconds():g}" if value is not None else ""


def release_row(release: Release) -> tuple[object, ...]:
    return (
        release.target,
        release.guichet_id,
        release.guichet,
        iso(release.seen_at),
        iso(release.previous_check_at),
        release.slot_count,
        iso(min(release.slot_starts)),
        iso(max(release.slot_starts)),
        seconds(release.all_gone_after),
        " ".join(start.isoformat() for start in release.slot_starts),
    )


def cell_row(cell: HeatCell) -> tuple[object, ...]:
    probability = "" if cell.probability is None else f"{cell.probability:.4f}"
    return (
        SHORT_WEEKDAYS[cell.weekday],
        cell.hour,
        cell.observed_hours,
        cell.release_hours,
        cell.releases,
        probability,
    )
