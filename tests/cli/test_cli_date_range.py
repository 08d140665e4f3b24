"""`--since`/`--until` out of the calendar's range (`--until 9999-12-31`, `--since 0001-01-01`)
are one line and exit 2 in every command that reads them, never a traceback (issue 24 item
10)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from creneau.cli import cli
from creneau.dates import OutOfRange, moment_from_text

PARIS = ZoneInfo("Europe/Paris")
OUT_OF_RANGE = "is out of range: the year must be from 0002 to 9998"


def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[creneau]\ncontact = "t@example.org"\ndatabase = "sqlite:///{tmp_path / "c.db"}"\n'
        f'data_dir = "{tmp_path / "data"}"\ntimezone = "Europe/Paris"\n'
        '[[target]]\nname = "t"\nsystem = "ezbooking"\n'
        'url = "https://pref.example/booking/create/1"\n'
    )
    return path


COMMANDS = [
    ["history", "releases"],
    ["history", "heatmap"],
    ["history", "lifetime"],
    ["history", "uptime"],
    ["evidence", "t", "--out", "{out}"],
]
DATES = [
    (["--since", "2026-01-01", "--until", "9999-12-31"], "--until", "9999-12-31"),
    (["--since", "2026-01-01", "--until", "9999-12-31T23:59"], "--until", "9999-12-31T23:59"),
    (["--since", "0001-01-01"], "--since", "0001-01-01"),
    (["--since", "0001-01-01T00:30+01:00"], "--since", "0001-01-01T00:30+01:00"),
]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(("dates", "option", "given"), DATES)
def test_a_date_out_of_range_is_one_line_exit_2(
    tmp_path: Path, command: list[str], dates: list[str], option: str, given: str
) -> None:
    args = [part.format(out=tmp_path / "export") for part in command]
    done = CliRunner().invoke(cli, [*args, "--config", str(config(tmp_path)), *dates])
    assert done.exit_code == 2, done.output
    assert done.stderr.splitlines()[-1] == f"Error: {option}: {given} {OUT_OF_RANGE}"
    assert "Traceback" not in done.output
    assert not (tmp_path / "export").exists()


def test_the_range_has_a_year_of_margin_each_side() -> None:
    first = moment_from_text("0002-01-01", PARIS, end_of_day=False)
    last = moment_from_text("9998-12-31", PARIS, end_of_day=True)
    assert (first, last) == (datetime(2, 1, 1, tzinfo=PARIS), datetime(9999, 1, 1, tzinfo=PARIS))
    assert first.astimezone(UTC).year == 1  # still a date: a query can use it
    for text in ("0001-12-31", "9999-01-01", "9999-12-31T23:59:59-12:00"):
        with pytest.raises(OutOfRange, match=OUT_OF_RANGE):
            moment_from_text(text, PARIS, end_of_day=True)
