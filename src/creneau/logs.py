"""How creneau logs: to stderr, secrets masked, control characters from pages made visible.
On a terminal, Rich's aligned lines; elsewhere (`docker logs`, a file, journald) one record
per line, never wrapped, with the date and the UTC offset, and without importing Rich. Times
are in the configured time zone, as in every table, once the config is loaded."""

from __future__ import annotations

import logging
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, TextIO

from creneau.redact import RedactingFilter
from creneau.terminal import clean

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

NOISY = ("httpx", "httpcore", "apprise", "alembic")
_zone: tzinfo | None = None  # None: the machine's own, until the config names one


def use_zone(zone: tzinfo) -> None:
    global _zone
    _zone = zone


def _local(created: float) -> datetime:
    return datetime.fromtimestamp(created, _zone).astimezone(_zone)


class _Printable(logging.Filter):
    """Control characters (an escape sequence in a page's text) shown, not obeyed."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        shown = clean(message, keep_newlines=True)
        if shown != message:
            record.msg, record.args = shown, None
        return True


class OneLineFormatter(logging.Formatter):
    """`2026-11-30T15:04:05+01:00 WARNING creneau: message`, newlines written as \\n."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + self.formatException(record.exc_info)
        at = _local(record.created).isoformat(timespec="seconds")
        return f"{at} {record.levelname} {record.name}: {message}".replace("\n", "\\n")


def setup(level: int, stream: TextIO, terminal: Console | None = None) -> None:
    """Log records at `level` and above: through `terminal`, the Rich Console of a terminal,
    when there is one; else to `stream` (stderr), one line each."""
    handler = _rich_handler(terminal) if terminal is not None else _line_handler(stream)
    handler.addFilter(RedactingFilter())
    handler.addFilter(_Printable())
    logging.basicConfig(level=level, format="%(message)s", handlers=[handler], force=True)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # A check still waiting for its host's budget when its next turn comes makes APScheduler
    # warn that it skipped a run: expected on a busy host, and the start-up summary says so.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)


def _rich_handler(console: Console) -> logging.Handler:
    from rich.logging import RichHandler

    return RichHandler(
        console=console,
        show_path=False,
        markup=False,
        rich_tracebacks=False,
        log_time_format=_clock,
    )


def _line_handler(stream: TextIO) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(OneLineFormatter())
    return handler


def _clock(at: datetime) -> Text:
    from rich.text import Text

    return Text(at.astimezone(_zone).strftime("%H:%M:%S"))
