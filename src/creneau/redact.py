"""Secrets (tokens in notification URLs, values from ${ENV} references) never reach a log,
a terminal or the database: everything printed or stored as free text passes through here."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit, urlunsplit

MASK = "***"
_secrets: set[str] = set()


def register(secret: str) -> None:
    # Very short values (a port, "1") would mask ordinary text and protect nothing.
    if len(secret) >= 4:
        _secrets.add(secret)


def redact(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def redact_url(url: str) -> str:
    """The URL without user name and password, secrets masked: fit to show or store."""
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = f"{host}:{parts.port}" if parts.port else host
        url = urlunsplit(parts._replace(netloc=netloc))
    return redact(url)


class RedactingFilter(logging.Filter):
    """Masks secrets in every record that reaches a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.exc_info:
            record.msg, record.args = cleaned, None
            if record.exc_info:
                import traceback

                record.msg += "\n" + redact("".join(traceback.format_exception(*record.exc_info)))
                record.exc_info = None
                record.exc_text = None
        return True
