"""Secrets (tokens in notification URLs, values from ${ENV} references) never reach a log,
a terminal or the database: everything printed or stored as free text passes through here."""

from __future__ import annotations

import logging

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
