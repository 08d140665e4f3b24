"""`creneau history …`: the history queries on the command line. Each command prints rich
tables, or one JSON object per line (`--json`), or CSV (`--csv`); `heatmap --svg FILE` also
draws the heatmap as an SVG file. The definitions (release, observation hour, probability,
censoring, recommendation) are in `creneau.history`. Every text from a page or the store
(guichet labels, what the site said) goes out through `creneau.terminal`: printed literally,
never as markup, an escape sequence or a spreadsheet formula."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, TypeVar, Unpack
from zoneinfo import ZoneInfo

import click
from rich.color import Color
from rich.panel import Panel
from rich.style import Style
from rich.table import Table
from rich.text import Text

from creneau.cli.context import err, open_store, out, read_config
from creneau.cli.options import config_option
from creneau.dates import (
    SHORT_WEEKDAYS,
    OutOfRange,
    local_time,
    moment_from_text,
    table_duration,
)
from creneau.terminal import csv_row, json_line, plain

if TYPE_CHECKING:
    from creneau.config import Config
    from creneau.history import (
        HeatCell,
        Heatmap,
        Lifetime,
        Release,
        Scope,
        TargetReport,
        UptimeDay,
    )
    from creneau.results import ReleaseAnnouncement
    from creneau.store import Store
    from creneau.usecases.releases import NextRelease

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., object])

DEFAULT_ZONE = "Europe/Paris"
DEFAULT_LANGUAGE = "fr"  # the config's, without a config file
# The heatmap's colour scale, from "never" to "every observed hour" (ColorBrewer Greens).


# --- options shared by every query -------------------------------------------------------------


def _query_options(command: F) -> F:
    options = [
        config_option(
            "Configuration file (TOML); without it, the default database and Paris time."
        ),
        click.option(
            "--since",
            help="From this day (YYYY-MM-DD, local) or instant (ISO 8601; local if no offset).",
        ),
        click.option(
            "--until",
            help="Up to this day, included (YYYY-MM-DD, local), or instant, excluded (ISO 8601).",
        ),
        click.option("--target", "target_name", help="Only this target."),
        click.option("--guichet", help="Only this guichet (its id or its label)."),
        click.option("--json", "as_json", is_flag=True, help="One JSON object per line."),
        click.option("--csv", "as_csv", is_flag=True, help="CSV: a header, then one row each."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


class QueryOptions(TypedDict):
    """The options `_query_options` adds, as click passes them."""

    config_path: Path
    since: str | None
    until: str | None
    target_name: str | None
    guichet: str | None
    as_json: bool
    as_csv: bool


@dataclass(frozen=True)
class Query:
    """What a history command was asked: the store, the time zone, the scope, the format."""

    store: Store
    zone: ZoneInfo
    scope: Scope
    output: str  # "table", "json" or "csv"
    config: Config | None = None  # None: no config file (the default database)


def _query(
    config_path: Path,
    since: str | None,
    until: str | None,
    target_name: str | None,
    guichet: str | None,
    as_json: bool,
    as_csv: bool,
) -> Query:
    from creneau.config import default_database_url
    from creneau.history import Scope

    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    config = read_config(config_path) if config_path.exists() else None
    zone = config.creneau.zone if config else ZoneInfo(DEFAULT_ZONE)
    start = parse_when("--since", since, zone, end_of_day=False) if since else None
    end = parse_when("--until", until, zone, end_of_day=True) if until else None
    if start and end and start >= end:
        raise click.UsageError(f"--since {since} is not before --until {until}")
    store = open_store(config.creneau.database if config else default_database_url())
    output = "json" if as_json else "csv" if as_csv else "table"
    return Query(store, zone, Scope(start, end, target_name, guichet), output, config)


def parse_when(option: str, text: str, zone: ZoneInfo, *, end_of_day: bool) -> datetime:
    """A day (local; `end_of_day`: the midnight that ends it) or an ISO 8601 instant (local
    when it has no offset), as a tz-aware datetime."""
    try:
        return moment_from_text(text, zone, end_of_day=end_of_day)
    except OutOfRange as problem:
        raise click.UsageError(f"{option}: {problem}") from None
    except ValueError:
        raise click.UsageError(
            f"{option} {text!r}: expected a day (YYYY-MM-DD) or an ISO 8601 date and time "
            "(e.g. 2026-03-29T08:30)"
        ) from None


def _emit_json(objects: Iterable[dict[str, object]]) -> None:
    for item in objects:
        click.echo(json_line(item))


def _emit_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(csv_row(header))
    writer.writerows(csv_row(row) for row in rows)
    click.echo(buffer.getvalue(), nl=False)


def _answer(
    query: Query,
    items: Sequence[T],
    to_json: Callable[[T], dict[str, object]],
    columns: Sequence[str],
    to_row: Callable[[T], Sequence[object]],
    show: Callable[[], None],
) -> None:
    """Print the items as the command was asked: JSON lines, CSV, or rich (`show`)."""
    if query.output == "json":
        _emit_json(to_json(item) for item in items)
    elif query.output == "csv":
        _emit_csv(columns, (to_row(item) for item in items))
    else:
        show()


def _iso(at: datetime | None) -> str:
    return at.isoformat() if at else ""


def _percent(share: float | None) -> str:
    if share is None:
        return "—"
    return f"{share:.0%}" if share in (0, 1) else f"{share:.1%}"


# --- the group ---------------------------------------------------------------------------------


@click.group()
def history() -> None:
    """Questions answered from what creneau recorded: when slots are released, how long they
    stay, how often the site answered. Times are shown in the configured time zone."""


# --- releases ----------------------------------------------------------------------------------


@history.command("releases")
@_query_options
def releases_command(**options: Unpack[QueryOptions]) -> None:
    """Each release: the slots that appeared in one check at one guichet, with the last check
    before it that got a clear answer (the release happened in between) and the dates they
    offer. Slots already shown at a target's first clear answer are no release."""
    from creneau import history as queries
    from creneau.history.columns import RELEASE_COLUMNS, release_row

    query = _query(**options)
    found = queries.releases(query.store, query.scope)
    show = partial(print_releases, found, query.zone)
    _answer(query, found, _release_json, RELEASE_COLUMNS, release_row, show)


def _release_json(release: Release) -> dict[str, object]:
    return release.to_json()


def _seconds(value: timedelta | None) -> str:
    return f"{value.total_seconds():g}" if value is not None else ""


def print_releases(found: Sequence[Release], zone: ZoneInfo) -> None:
    if not found:
        out.print("No release recorded yet.")
        return
    table = Table(title="Releases", header_style="bold")
    for column in (
        "seen at",
        "after clear check at",
        "target",
        "guichet",
        "slots",
        "dates offered",
        "all gone after",
    ):
        table.add_column(column)
    for release in found:
        table.add_row(
            local_time(release.seen_at, zone),
            _previous_check(release, zone),
            plain(release.target),
            plain(release.guichet),
            str(release.slot_count),
            dates_offered(release.slot_starts, zone),
            _gone_after(release),
        )
    out.print(table)


def _gone_after(release: Release) -> str:
    lasted = release.all_gone_after
    return "still shown" if lasted is None else table_duration(lasted)


def _previous_check(release: Release, zone: ZoneInfo) -> str:
    """The last clear check before a release; its time alone when it is the same day."""
    if release.previous_check_at is None:
        return "—"
    previous = release.previous_check_at.astimezone(zone)
    if previous.date() == release.seen_at.astimezone(zone).date():
        return previous.strftime("%H:%M:%S")
    return local_time(previous, zone)


def dates_offered(starts: Sequence[datetime], zone: ZoneInfo) -> str:
    days = sorted({start.astimezone(zone).date() for start in starts})
    if len(days) <= 3:
        return ", ".join(day.strftime("%a %d/%m") for day in days)
    return f"{days[0].strftime('%a %d/%m')} → {days[-1].strftime('%a %d/%m')} ({len(days)} days)"


# --- heatmap -----------------------------------------------------------------------------------


@history.command("heatmap")
@_query_options
@click.option(
    "--svg",
    "svg_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also draw it into this SVG file.",
)
def heatmap_command(svg_path: Path | None, **options: Unpack[QueryOptions]) -> None:
    """Release probability by weekday × hour (local time): the share of observed hours in
    which a release was seen. An hour is observed when a check got a clear answer
    (available or none); a cell never observed is blank, not "never". A release seen more
    than an hour after the last clear answer (after a blocked run, a night unchecked) is
    counted apart, in no cell."""
    from creneau import history as queries
    from creneau.history.columns import HEATMAP_COLUMNS, cell_row

    query = _query(**options)
    grid = queries.heatmap(query.store, query.zone, query.scope)
    title = _heatmap_title(query)
    if svg_path:
        svg_path.write_text(queries.heatmap_svg(grid, title), encoding="utf-8")
        err.print(plain(f"heatmap drawn in {svg_path}"))
    show = partial(print_heatmap, grid, title)
    _answer(query, grid.cells, _cell_json, HEATMAP_COLUMNS, cell_row, show)


def _cell_json(cell: HeatCell) -> dict[str, object]:
    return cell.to_json()


def _heatmap_title(query: Query) -> str:
    what = query.scope.target or "all targets"
    if query.scope.guichet:
        what += f", guichet {query.scope.guichet}"
    return f"Release probability — {what} ({query.zone.key})"


def print_heatmap(grid: Heatmap, title: str) -> None:
    if not grid.observed_hours:
        out.print("No observed hour in this period: nothing to draw.")
        return
    table = Table(
        title=plain(title),
        header_style="bold",
        padding=(0, 1),
        caption="each cell: probability·observed hours; blank: never observed",
    )
    table.add_column("hour", justify="right")
    for name in SHORT_WEEKDAYS:
        table.add_column(name, justify="right")
    for hour in range(24):
        row: list[str | Text] = [f"{hour:02d}h"]
        for weekday in range(7):
            row.append(_terminal_cell(grid.cell(weekday, hour)))
        table.add_row(*row)
    out.print(table)
    out.print(
        f"{grid.releases} releases over {grid.observed_hours} observed hours.{grid.unplaced_text()}"
    )


def _terminal_cell(cell: HeatCell) -> Text:
    from creneau.history import shade

    if cell.probability is None:
        return Text("")
    style = Style(
        bgcolor=Color.from_rgb(*shade(cell.probability)),
        color="white" if cell.probability >= 0.5 else "black",
    )
    return Text(f"{cell.probability:.0%}·{cell.observed_hours}", style=style)


# --- lifetime ----------------------------------------------------------------------------------


@history.command("lifetime")
@_query_options
def lifetime_command(**options: Unpack[QueryOptions]) -> None:
    """How long slots stay visible, per guichet: median and p90 over the slots that went
    (first seen → gone). Slots still shown when the checks ended are censored: counted apart,
    left out of the median and p90."""
    from creneau import history as queries

    query = _query(**options)
    found = queries.lifetimes(query.store, query.scope)
    show = partial(print_lifetimes, found)
    _answer(query, found, _lifetime_json, LIFETIME_COLUMNS, _lifetime_row, show)


LIFETIME_COLUMNS = (
    "target",
    "guichet_id",
    "guichet",
    "slots",
    "gone",
    "censored",
    "median_s",
    "p90_s",
)


def _lifetime_json(line: Lifetime) -> dict[str, object]:
    return line.to_json()


def _lifetime_row(line: Lifetime) -> tuple[object, ...]:
    return (
        line.target,
        line.guichet_id,
        line.guichet,
        line.gone + line.censored,
        line.gone,
        line.censored,
        _seconds(line.median),
        _seconds(line.p90),
    )


def print_lifetimes(found: Sequence[Lifetime]) -> None:
    if not found:
        out.print("No slot recorded in this period.")
        return
    table = Table(
        title="How long slots stay visible",
        header_style="bold",
        caption="median and p90 over the slots that went; censored: still shown when the "
        "checks ended, not in the median",
    )
    for column in ("target", "guichet", "slots", "gone", "censored", "median", "p90"):
        table.add_column(
            column, justify="right" if column in ("slots", "gone", "censored") else "left"
        )
    for line in found:
        table.add_row(
            plain(line.target),
            plain(line.guichet),
            str(line.gone + line.censored),
            str(line.gone),
            str(line.censored),
            table_duration(line.median),
            table_duration(line.p90),
        )
    out.print(table)


# --- uptime ------------------------------------------------------------------------------------


@history.command("uptime")
@_query_options
def uptime_command(**options: Unpack[QueryOptions]) -> None:
    """Share of checks per status per local day: how often the site even answered. Checks are
    per target: --guichet selects the targets that have that guichet."""
    from creneau import history as queries

    query = _query(**options)
    days = queries.uptime(query.store, query.zone, query.scope)
    columns = ("target", "day", "checks", "clear", *queries.STATUSES)
    show = partial(print_uptime, days, queries.STATUSES)
    _answer(query, days, _uptime_json, columns, partial(_uptime_row, queries.STATUSES), show)


def _uptime_json(day: UptimeDay) -> dict[str, object]:
    return day.to_json()


def _uptime_row(statuses: Sequence[str], day: UptimeDay) -> tuple[object, ...]:
    shares = (f"{day.share(status):.4f}" for status in statuses)
    return (day.target, day.day.isoformat(), day.checks, f"{day.clear:.4f}", *shares)


def print_uptime(days: Sequence[UptimeDay], statuses: Sequence[str]) -> None:
    if not days:
        out.print("No check recorded in this period.")
        return
    for target, mine in itertools.groupby(days, key=lambda day: day.target):
        print_target_uptime(target, list(mine), statuses)


def print_target_uptime(target: str, days: Sequence[UptimeDay], statuses: Sequence[str]) -> None:
    present = [status for status in statuses if any(day.counts.get(status) for day in days)]
    table = Table(
        title=plain(f"{target}: checks per status per day"),
        header_style="bold",
        caption="clear: available or none, the site answered",
    )
    for column in ("day", "checks", "clear", *present):
        table.add_column(column, justify="left" if column == "day" else "right")
    for day in days:
        table.add_row(
            day.day.strftime("%Y-%m-%d %a"),
            str(day.checks),
            _percent(day.clear),
            *(_percent(day.share(status)) for status in present),
        )
    out.print(table)


# --- summary -----------------------------------------------------------------------------------


@history.command("summary")
@_query_options
def summary_command(**options: Unpack[QueryOptions]) -> None:
    """One screen per target: last release, typical release hours, typical lifetime, and when
    to check (the fewest quarter-hours covering 80 % of past releases)."""
    from creneau import history as queries

    query = _query(**options)
    found = queries.reports(query.store, query.zone, query.scope)
    upcoming = _next_releases(query, [report.target for report in found])
    language = query.config.creneau.language if query.config else DEFAULT_LANGUAGE
    show = partial(print_reports, found, query.zone, upcoming, language)
    to_json = partial(_report_json, upcoming)
    to_row = partial(_report_row, upcoming)
    _answer(query, found, to_json, SUMMARY_COLUMNS, to_row, show)


def _next_releases(query: Query, names: Sequence[str]) -> dict[str, NextRelease | None]:
    """The next release of each reported target, now (whatever period the report covers),
    with the cost of its burst when the config gives the host's budget."""
    from creneau.usecases.releases import budgets_of, expected_releases_of

    if not names:
        return {}
    budgets = budgets_of(query.config) if query.config else None
    return expected_releases_of(query.store, names, datetime.now(UTC), query.zone, budgets)


SUMMARY_COLUMNS = (
    "target",
    "releases",
    "last_release_at",
    "observed_hours",
    "observed_days",
    "typical_hours",
    "median_lifetime_s",
    "p90_lifetime_s",
    "censored",
    "recommendation",
    "site_last_release_at",
    "next_release_at",
    "next_release_source",
)


def _report_json(
    upcoming: Mapping[str, NextRelease | None], report: TargetReport
) -> dict[str, object]:
    release = upcoming.get(report.target)
    return {**report.to_json(), "next_release": release.to_json() if release else None}


def _report_row(
    upcoming: Mapping[str, NextRelease | None], report: TargetReport
) -> tuple[object, ...]:
    release = upcoming.get(report.target)
    return (*_report_cells(report), *_release_cells(release))


def _release_cells(release: NextRelease | None) -> tuple[str, str]:
    if release is None:
        return ("", "")
    return (release.expected.at.isoformat(), release.expected.source)


def _report_cells(report: TargetReport) -> tuple[object, ...]:
    last = report.last_release
    return (
        report.target,
        report.releases,
        _iso(last.seen_at if last else None),
        report.observed_hours,
        report.observed_days,
        " ".join(f"{typical.hour:02d}h:{typical.releases}" for typical in report.typical_hours),
        _seconds(report.lifetime.median),
        _seconds(report.lifetime.p90),
        report.lifetime.censored,
        report.recommendation.text(),
        _iso(report.site_says.last_at if report.site_says else None),
    )


def print_reports(
    found: Sequence[TargetReport],
    zone: ZoneInfo,
    upcoming: Mapping[str, NextRelease | None] | None = None,
    language: str = DEFAULT_LANGUAGE,
) -> None:
    if not found:
        out.print("Nothing recorded in this period.")
    for report in found:
        print_report(report, zone, (upcoming or {}).get(report.target), language)


def print_report(
    report: TargetReport,
    zone: ZoneInfo,
    upcoming: NextRelease | None = None,
    language: str = DEFAULT_LANGUAGE,
) -> None:
    from creneau.usecases.release_texts import announced_text, release_and_burst_text

    last = report.last_release
    lines = Table.grid(padding=(0, 2))
    lines.add_column(style="bold", no_wrap=True)
    lines.add_column()
    lines.add_row("Last release", plain(_last_release_text(last, zone) if last else "none yet"))
    lines.add_row(
        "Releases",
        f"{report.releases} in {report.observed_hours} observed hours over "
        f"{report.observed_days} days",
    )
    lines.add_row("Release hours", _typical_hours_text(report))
    lines.add_row("Lifetime", _lifetime_text(report.lifetime))
    lines.add_row("When to check", report.recommendation.text())
    if report.site_says:
        lines.add_row("The site says", plain(_site_says_text(report.site_says, zone)))
    lines.add_row("Next release", plain(release_and_burst_text(upcoming, zone, language)))
    if report.announced is not None and report.announced.announced:
        lines.add_row("Announced", plain(announced_text(report.announced, language)))
    panel = Panel(lines, title=plain(report.target), title_align="left", expand=False)
    out.print(panel, soft_wrap=False)


def _last_release_text(release: Release, zone: ZoneInfo) -> str:
    seen = release.seen_at.astimezone(zone)
    after = (
        f", after a check at {release.previous_check_at.astimezone(zone):%H:%M}"
        if release.previous_check_at
        else ""
    )
    return (
        f"{seen:%a %Y-%m-%d %H:%M}{after}: {release.slot_count} slots at {release.guichet} "
        f"({dates_offered(release.slot_starts, zone)})"
    )


def _site_says_text(said: ReleaseAnnouncement, zone: ZoneInfo) -> str:
    parts = []
    for label, at, week in (
        ("slots last put online", said.last_at, said.last_week),
        ("next", said.next_at, said.next_week),
    ):
        if at is None:
            continue
        for_week = f", for the week of {week.isoformat()}" if week else ""
        parts.append(f"{label} {at.astimezone(zone):%a %Y-%m-%d %H:%M}{for_week}")
    return "; ".join(parts)


def _typical_hours_text(report: TargetReport) -> str:
    unplaced = report.heatmap.unplaced
    at_no_hour = f"; {unplaced} more at no known hour" if unplaced else ""
    if not report.typical_hours:
        return f"none seen{at_no_hour}"
    return (
        ", ".join(
            f"{typical.hour:02d}h ({typical.releases} releases, "
            f"{_percent(typical.probability)} of observed hours)"
            for typical in report.typical_hours
        )
        + at_no_hour
    )


def _lifetime_text(lifetime: Lifetime) -> str:
    if not lifetime.gone:
        return f"no slot went yet ({lifetime.censored} still shown)"
    return (
        f"median {table_duration(lifetime.median)}, p90 {table_duration(lifetime.p90)} "
        f"(over {lifetime.gone} slots that went; {lifetime.censored} still shown, not counted)"
    )


# --- the demo's closing summary ------------------------------------------------------------------


def print_summaries(store: Store, zone: ZoneInfo) -> None:
    from creneau import history as queries

    for summary in queries.summaries(store):
        statuses = ", ".join(
            f"{status} {count}"
            for status, count in sorted(summary.by_status.items(), key=lambda kv: -kv[1])
        )
        out.print(
            Text.assemble(
                plain(summary.target, "bold"),
                plain(
                    f": {summary.checks} checks ({statuses}) from "
                    f"{local_time(summary.first_check, zone)} to "
                    f"{local_time(summary.last_check, zone)}; "
                    f"{summary.releases} releases"
                ),
            )
        )
