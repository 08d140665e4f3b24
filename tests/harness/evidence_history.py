"""A generated history for the dossier's end-to-end tests and the README's picture: a target
checked every three hours from 07:00 to 22:00 (Paris) for some weeks, the site saying "no slot"
on a page whose bytes change every day (as a real page's do), refusing now and then with a
403. Dates derive from the clock, never from a fixed day compared with today."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from creneau.alerts.outbox import Routing
from creneau.check.record import record
from creneau.config import Config, load_config
from creneau.page import Page
from creneau.results import CheckResult, GuichetResult, Status
from creneau.store import Store
from creneau.store import pages as archive

PARIS = ZoneInfo("Europe/Paris")
FIXTURES = Path(__file__).parents[2] / "fixtures" / "ezbooking"
URL = "https://www.hauts-de-seine.gouv.fr/booking/create/989/2"
HOURS = (7, 10, 13, 16, 19, 22)  # local hours of the checks
REFUSED_EVERY = 7  # one check in this many is refused with a 403


@dataclass(frozen=True)
class History:
    config_path: Path
    config: Config
    store: Store
    first_day: date  # the Monday the history starts
    days: int
    checks: int


def write_config(folder: Path) -> Path:
    path = folder / "config.toml"
    path.write_text(f"""
[creneau]
contact = "asso@example.org"
database = "sqlite:///{folder / "c.db"}"
data_dir = "{folder / "data"}"
keep_pages = true
[[target]]
name = "nanterre-remise"
system = "ezbooking"
url = "{URL}"
""")
    return path


def generate(folder: Path, weeks: int, now: datetime | None = None) -> History:
    """`weeks` whole ISO weeks of checks, ending with the last full week before `now`."""
    today = (now or datetime.now(UTC)).astimezone(PARIS).date()
    first_day = today - timedelta(days=today.weekday() + 7 * weeks)
    path = write_config(folder)
    config = load_config(path)
    store = Store(config.creneau.database)
    store.upgrade()
    no_slot = (FIXTURES / "no-slot.html").read_bytes()
    refused = (FIXTURES / "forbidden-403.html").read_bytes()
    count = 0
    for offset in range(7 * weeks):
        day = first_day + timedelta(days=offset)
        for hour in HOURS:
            at = datetime.combine(day, time(hour, 2), PARIS).astimezone(UTC)
            if count % REFUSED_EVERY == REFUSED_EVERY - 1:
                page = Page(URL, 403, refused)
                status = Status.BLOCKED
            else:
                # The day in a comment: each day's page has its own bytes, as a real one's.
                page = Page(URL, 200, no_slot + f"<!-- {day.isoformat()} -->\n".encode())
                status = Status.NONE
            archive.keep_by_hash(config.creneau.pages_dir, page)
            result = CheckResult(
                "nanterre-remise",
                "ezbooking",
                URL,
                status,
                at,
                http_status=page.status,
                guichets=(GuichetResult("14007", "Guichet 2", status, ()),),
                page_sha256=page.sha256,
                page=page,
            )
            record(store, result, Routing(PARIS))
            count += 1
    return History(path, config, store, first_day, 7 * weeks, count)
