"""The plan `creneau run` prints at start: Rich tables on a terminal; elsewhere (docker,
systemd, a pipe) a heading and one plain line per target and per host, page-safe, without
Rich. Whether stderr is a terminal is set here through TTY_COMPATIBLE, which Rich obeys."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime

import pytest

from creneau.cli import context
from creneau.cli.run import print_plan
from creneau.config import Config
from creneau.expected import ExpectedRelease, burst_cost
from creneau.host_budget import HostBudget
from creneau.usecases.releases import NextRelease

ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Fixed moments: the plan shows what it is given, whatever today is.
FIRST_CHECKS = {
    "nanterre": datetime(2031, 7, 14, 8, 0, 5, tzinfo=UTC),
    "cergy": datetime(2031, 7, 14, 8, 1, 0, tzinfo=UTC),
}


def plan_config() -> Config:
    return Config.model_validate(
        {
            "creneau": {"contact": "tests@example.org", "timezone": "Europe/Paris"},
            "target": [
                {
                    "name": "nanterre",
                    "system": "ezbooking",
                    "url": "https://www.hauts-de-seine.gouv.fr/booking/create/1001",
                    "every": "5m",
                    "jitter": "30s",
                    "burst": {"windows": ["Mon-Fri 08:50-09:10"], "every": "60s"},
                },
                {
                    "name": "cergy",
                    "system": "ezbooking",
                    "url": "https://www.val-doise.gouv.fr/booking/create/2002",
                    "every": "10m",
                    "windows": ["Mon-Fri 07:30-18:30"],
                },
            ],
            "hosts": {"www.val-doise.gouv.fr": {"per_minute": 2, "burst": 3}},
        }
    )


def stderr_terminal(monkeypatch: pytest.MonkeyPatch, compatible: str) -> None:
    """Stderr a terminal (TTY_COMPATIBLE=1) or not (0), and a fresh `err` console, made at its
    first use with these settings (the test's end restores the one before)."""
    monkeypatch.setenv("TTY_COMPATIBLE", compatible)
    for name in ("FORCE_COLOR", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")  # a dumb terminal gets no styles
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delattr(context, "err", raising=False)


def test_off_a_terminal_the_plan_is_one_plain_line_per_target_and_host(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stderr_terminal(monkeypatch, "0")
    print_plan(plan_config(), FIRST_CHECKS)
    assert capsys.readouterr().err.splitlines() == [
        "Targets: target | system | host | every | burst | windows | first check",
        "  nanterre | ezbooking | www.hauts-de-seine.gouv.fr | 5m ± 15s "
        "| 1m in Mon-Fri 08:50-09:10 | always | 2031-07-14 10:00:05",
        "  cergy | ezbooking | www.val-doise.gouv.fr | 10m ± 15s | — "
        "| Mon-Fri 07:30-18:30 | 2031-07-14 10:01:00",
        "Hosts: host | budget | targets | requests per hour needed",
        "  www.hauts-de-seine.gouv.fr | 6/min, bursts of 10 | 1 | ~84 (of 360 allowed)",
        "  www.val-doise.gouv.fr | 2/min, bursts of 3 | 1 | ~42 (of 120 allowed)",
    ]


def test_on_a_terminal_the_plan_is_still_rich_tables(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stderr_terminal(monkeypatch, "1")
    print_plan(plan_config(), FIRST_CHECKS)
    shown = capsys.readouterr().err
    assert "\x1b[" in shown  # styled, as for a terminal
    lines = [ANSI.sub("", line).rstrip() for line in shown.splitlines()]
    titles = [line.strip() for line in lines if line.strip() in ("Targets", "Hosts")]
    assert titles == ["Targets", "Hosts"]
    assert sum(line.startswith("┏") for line in lines) == 2  # two tables
    header = next(line for line in lines if line.startswith("┃ target"))
    assert re.split(r"\s*┃\s*", header.strip("┃ ")) == [
        "target", "system", "host", "every", "burst", "windows", "first check"
    ]  # fmt: skip
    row = next(line for line in lines if line.startswith("│ cergy"))
    assert re.split(r"\s*│\s*", row.strip("│ ")) == [
        "cergy", "ezbooking", "www.val-doise.gouv.fr", "10m ± 15s", "—",
        "Mon-Fri 07:30-18:30", "2031-07-14 10:01:00",
    ]  # fmt: skip
    assert not any(" | " in line for line in lines)


def announced_release() -> Mapping[str, NextRelease | None]:
    """cergy's site announced a release on Tuesday 15 July 2031 at 10:00 (Paris), for the
    week of the 21st; nanterre's said nothing."""
    at = datetime(2031, 7, 15, 8, 0, tzinfo=UTC)
    expected = ExpectedRelease("cergy", at, "announced", week=date(2031, 7, 21))
    cost = burst_cost(at, 1, HostBudget(2, 3))
    return {"nanterre": None, "cergy": NextRelease(expected, cost)}


def test_the_plan_says_each_announced_release_and_what_its_burst_costs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stderr_terminal(monkeypatch, "0")
    print_plan(plan_config(), FIRST_CHECKS, upcoming=announced_release())
    assert capsys.readouterr().err.splitlines()[-1] == (
        "cergy — prochaine mise en ligne : le site annonce mardi 15 juillet à 10:00 "
        "(semaine du 21 juillet) ; prochaine rafale : 9 vérifications, 9 requêtes à 10:00 ; "
        "budget 2/min, rafales de 3 : ne tient pas : 6 à l'heure, les autres retardées"
    )


def test_on_a_terminal_the_announced_release_is_one_line_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stderr_terminal(monkeypatch, "1")
    print_plan(plan_config(), FIRST_CHECKS, upcoming=announced_release())
    shown = [ANSI.sub("", line).rstrip() for line in capsys.readouterr().err.splitlines()]
    assert [line for line in shown if "—" in line and "prochaine" in line] == [
        "cergy — prochaine mise en ligne : le site annonce mardi 15 juillet à 10:00 "
        "(semaine du 21 juillet) ; prochaine rafale : 9 vérifications, 9 requêtes à 10:00 ; "
        "budget 2/min, rafales de 3 : ne tient pas : 6 à l'heure, les autres retardées"
    ]
