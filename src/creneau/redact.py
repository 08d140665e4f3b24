"""Secrets (tokens in notification URLs, values from ${ENV} references) never reach a log,
a terminal or the database: everything printed or stored as free text passes through here."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import unquote, unquote_plus, urlsplit, urlunsplit

MASK = "***"
MAX_LINK = 2000  # longer is not a link a person follows
_secrets: set[str] = set()


def register(secret: str) -> None:
    # Very short values (a port, "1") would mask ordinary text and protect nothing.
    if len(secret) >= 4:
        _secrets.add(secret)


def register_link(url: str) -> None:
    """The credentials a URL carries (`user:password@`): its password, and the user with
    it, so that a message quoting the URL (an HTTP error) shows neither."""
    for secret in link_secrets(url):
        register(secret)


def link_secrets(url: str) -> list[str]:
    """What `register_link` registers for a URL: nothing when it carries no password."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return []
    userinfo, at, _ = parts.netloc.rpartition("@")
    _, colon, password = userinfo.partition(":")
    if not at or not colon or not password:
        return []
    return [form for secret in (userinfo, password) for form in (secret, unquote(secret))]


def redact(text: str) -> str:
    return masked(text, _secrets)


def masked(text: str, secrets: Iterable[str]) -> str:
    """`text` with each of these secrets masked (the longest first), those too short to
    register aside: for a text made before its secrets are registered (the config's mistakes)."""
    for secret in sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def public_link(url: str) -> str:
    """The page as a person may open it and as it may be stored: without credentials
    (user:password@) and without a query parameter that carries a secret from the config;
    any other secret in it masked."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port is not None else host
    query = "&".join(
        field for field in parts.query.split("&") if field and not _holds_secret(field)
    )
    return redact(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))


def _holds_secret(field: str) -> bool:
    decoded = unquote_plus(field)
    return redact(decoded) != decoded or redact(field) != field


def booking_link(url: str) -> str:
    """A link fit to put in an alert: http(s) to a host, no credentials, no secret, no
    whitespace or control character; "" for anything else (a page's `javascript:` link)."""
    if len(url) > MAX_LINK or any(char.isspace() or ord(char) < 32 for char in url.strip()):
        return ""
    link = public_link(url)
    parts = urlsplit(link)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return ""
    return link


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
