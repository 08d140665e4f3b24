"""The child process that holds Apprise (see creneau.alerts.channels): reads JSON requests,
one per line on stdin, and answers each with one JSON line on stdout, until stdin ends.

    {"op": "read", "url": …}                                  → a UrlReading
    {"op": "send", "url": …, "title": …, "body": …, "format": …} → {"ok": …, "error": …}

Apprise logs what it cannot parse with the URL in it: its logger is silent while it reads
URLs; what it says while sending is the reason a send failed, with the secrets taken out."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from typing import Any

import apprise

from creneau import redact
from creneau.alerts.channels import (
    DEFAULT_BODY_MAXLEN,
    FORMATS,
    SEND_TIMEOUT_SECONDS,
    Channel,
    UrlReading,
    reading_as_json,
)


def read(url: str, services: Any) -> UrlReading:
    scheme = url.partition("://")[0].strip().lower()
    try:
        plugin = apprise.Apprise.instantiate(url)
    except Exception:  # third-party parsers reading user text: "cannot read"
        plugin = None
    if plugin is None:
        known = scheme in services
        return UrlReading(False, scheme, known, known and bool(services[scheme].enabled))
    return UrlReading(True, scheme, True, True, bool(plugin.verify_certificate), shown_by(plugin))


def shown_by(plugin: Any) -> Channel:
    """The format a channel shows and the lengths it takes, as Apprise's plugin declares
    them: Markdown where the plugin takes it, else the plugin's own format (HTML for
    e-mail, text for SMS, ntfy, Signal)."""
    try:
        resolve = getattr(plugin, "resolve_format", None)  # Apprise 2: plugins of many formats
        chosen = resolve(apprise.NotifyFormat.MARKDOWN) if resolve else plugin.notify_format
        format = str(getattr(chosen, "value", chosen))
        body_maxlen = int(plugin.body_maxlen or 0)
        title_maxlen = int(plugin.title_maxlen or 0)
    except Exception:  # a plugin that cannot say must not lose the alert
        return Channel()
    if format not in FORMATS:
        format = "text"
    return Channel(
        format,
        body_maxlen if body_maxlen > 0 else DEFAULT_BODY_MAXLEN,
        title_maxlen,
        # Markdown channels put the title in the message (Discord, Telegram); e-mail's is
        # a plain subject unless the plugin has no title.
        title_markup=format == "markdown" or (format == "html" and title_maxlen <= 0),
    )


async def send(url: str, title: str, body: str, body_format: str) -> tuple[bool, str]:
    sender = apprise.Apprise()
    if not sender.add(url):
        return False, "Apprise does not understand this URL (check its scheme and fields)"
    try:
        result = await sender.async_notify(
            body=body,
            title=title,
            body_format=apprise.NotifyFormat(body_format),
            timeout=SEND_TIMEOUT_SECONDS,
        )
    except Exception as failure:  # a plugin bug must not stop the others
        return False, f"{type(failure).__name__}: {failure}"
    if result:
        return True, ""
    reasons = [entry.message for entry in result.logs() if entry.level in ("ERROR", "WARNING")]
    return False, "; ".join(reasons[-3:]) or f"delivery failed ({result.status.name})"


def answer(request: dict[str, Any], services: Any) -> str:
    url = str(request["url"])
    redact.register(url)
    if request["op"] == "read":
        logger = logging.getLogger("apprise")
        logger.disabled = True
        try:
            return reading_as_json(read(url, services))
        finally:
            logger.disabled = False
    ok, error = asyncio.run(send(url, request["title"], request["body"], request["format"]))
    return json.dumps({"ok": ok, "error": redact.redact(error)})


def main() -> None:
    services = apprise.NotificationManager()  # type: ignore[no-untyped-call]  # (untyped)
    for line in sys.stdin:
        if line.strip():
            sys.stdout.write(answer(json.loads(line), services) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
