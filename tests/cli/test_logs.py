"""Log lines: one record per line off a terminal (no Rich Console needed), Rich's on one, in
the configured zone, page text shown."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from rich.console import Console

from creneau import logs


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    logs.setup(logging.INFO, stream)
    yield stream
    _reset()


def _reset() -> None:
    logs.use_zone(UTC)
    logging.basicConfig(force=True, handlers=[logging.NullHandler()])


def test_off_a_terminal_each_record_is_one_line_with_date_and_offset(
    captured: io.StringIO,
) -> None:
    logs.use_zone(ZoneInfo("Europe/Paris"))
    moment = datetime(2031, 7, 14, 10, 0, 5, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        logging.getLogger("creneau").warning("t1: unknown\nsecond line " + "x" * 150)
    (line,) = captured.getvalue().splitlines()
    assert line == (
        "2031-07-14T12:00:05+02:00 WARNING creneau: t1: unknown\\nsecond line " + "x" * 150
    )


def test_control_characters_from_a_page_are_shown_not_obeyed(captured: io.StringIO) -> None:
    logging.getLogger("creneau").info("label \x1b[31mred\x1b]0;title\x07 %s", "\x1b[2J")
    assert "\x1b" not in captured.getvalue()
    assert "␛[31mred␛]0;title␇ ␛[2J" in captured.getvalue()


def test_on_a_terminal_rich_writes_the_time_and_the_message() -> None:
    stream = io.StringIO()
    terminal = Console(file=stream, force_terminal=True, width=100)
    try:
        logs.setup(logging.INFO, io.StringIO(), terminal)
        logs.use_zone(ZoneInfo("Europe/Paris"))
        moment = datetime(2031, 7, 14, 10, 0, 5, tzinfo=UTC)
        with time_machine.travel(moment, tick=False):
            logging.getLogger("creneau").warning("t1: \x07bell")
    finally:
        _reset()
    shown = stream.getvalue()
    assert "12:00:05" in shown
    assert "t1: ␇bell" in shown
    assert "2031-07-14" not in shown  # the one-line format is for files and pipes
