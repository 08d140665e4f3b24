"""How creneau logs: to stderr, secrets masked, control characters from pages made visible.
On a terminal, Rich's aligned lines; elsewhere (`docker logs`, a file, journald) one record
per line, never wrapped, with the date and the UTC offset. Times are in the configured time
zone, as in every table, once the config is loaded."""

from __future__ import annotations

import logging
import re
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from creneau.redact import RedactingFilter

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

NOISY = ("httpx", "httpcore", "apprise", "alembic")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_zone: tzinfo | None = None  # None: the machine's own, until the config names one


def use_zone(zone: tzinfo) -> None:
    global _zone
    _zone = zone


def _local(created: float) -> datetime:
    return datetime.fromtimestamp(created, _zone).astimezone(_zone)


def _visible(text: str) -> str:
    """Control characters (an escape sequence in a page's text) shown, not obeyed."""
    return _CONTROL.sub(lambda found: f"\\x{ord(found.group(0)):02x}", text)


class _Printable(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _CONTROL.search(message):
            record.msg, record.args = _visible(message), None
        return True


class OneLineFormatter(logging.Formatter):
    """`2026-11-30T15:04:05+01:00 WARNING creneau: message`, newlines written as \\n."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + self.formatException(record.exc_info)
        at = _local(record.created).isoformat(timespec="seconds")
        return f"{at} {record.levelname} {record.name}: {message}".replace("\n", "\\n")


def setup(level: int, console: Console) -> None:
    """Log records at `level` and above to `console` (stderr)."""
    handler: logging.Handler
    if console.is_terminal:
        from rich.logging import RichHandler

        handler = RichHandler(
            console=console,
            show_path=False,
            markup=False,
            rich_tracebacks=False,
            log_time_format=_clock,
        )
    else:
        handler = logging.StreamHandler(console.file)
        handler.setFormatter(OneLineFormatter())
    handler.addFilter(RedactingFilter())
    handler.addFilter(_Printable())
    logging.basicConfig(level=level, format="%(message)s", handlers=[handler], force=True)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # A check still waiting for its host's budget when its next turn comes makes APScheduler
    # warn that it skipped a run: expected on a busy host, and the start-up summary says so.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)


def _clock(at: datetime) -> Text:
    from rich.text import Text

    return Text(at.astimezone(_zone).strftime("%H:%M:%S"))
