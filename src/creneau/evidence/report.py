"""`creneau report NAME`: when a site changed, what the person fixing creneau needs, in one
folder a user can look through and send: the last pages kept for the target with anything
secret or personal removed, the parser's reading of each, creneau's version, the target's
settings with secrets masked, and its last checks. Pure functions but for `write_report`."""

from __future__ import annotations

import json
import platform
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from creneau import __version__, sources
from creneau.page import Page
from creneau.redact import redact
from creneau.sources.common import NotJson, load_json
from creneau.targets import TargetBase

REMOVED = "removed"
# Names of form fields, JSON keys and URL parameters whose values identify a session or a
# person: never in a report. Matched anywhere in the name, case-insensitively.
SENSITIVE_NAME = re.compile(
    r"token|csrf|xsrf|session|sessid|jsession|^sid$|captcha|^ctx$|auth|secret|passw|apikey"
    r"|api_key|signature|email|courriel|phone|telephone|mobile|^nom$|prenom|firstname"
    r"|lastname|birth|naissance|address|adresse",
    re.IGNORECASE,
)
_HIDDEN_INPUT = re.compile(r"<input\b[^>]*\btype\s*=\s*[\"']?hidden[^>]*>", re.IGNORECASE)
_NAMED_INPUT = re.compile(r"<input\b[^>]*\bname\s*=\s*[\"']?([^\"'\s>]+)[^>]*>", re.IGNORECASE)
_VALUE = re.compile(r"(\bvalue\s*=\s*)(\"[^\"]*\"|'[^']*'|[^\s>]+)", re.IGNORECASE)
_META_CONTENT = re.compile(
    r"(<meta\b[^>]*\bname\s*=\s*[\"']?[^\"'>]*(?:csrf|token)[^>]*\bcontent\s*=\s*)"
    r"(\"[^\"]*\"|'[^']*')",
    re.IGNORECASE,
)
_URL_PARAMETER = re.compile(r"([?&;]|&amp;)([A-Za-z_][\w.-]*)=([^&\"'\s<>#;]*)")
_PATH_SESSION = re.compile(r";jsessionid=[^?\"'\s<>#]*", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_FRENCH_PHONE = re.compile(r"(?<![\d/])(?:\+33\s?|0)[1-9](?:[\s.-]?\d{2}){4}(?!\d)")


def scrub_text(text: str) -> str:
    """Personal data and secrets out of any text: e-mail addresses, French phone numbers,
    session ids and tokens in URLs, values creneau knows to be secret."""
    text = _PATH_SESSION.sub("", text)
    text = _URL_PARAMETER.sub(_scrub_parameter, text)
    text = _EMAIL.sub(f"{REMOVED}@example.invalid", text)
    text = _FRENCH_PHONE.sub("0X XX XX XX XX", text)
    return redact(text)


def _scrub_parameter(found: re.Match[str]) -> str:
    separator, name, value = found.groups()
    return f"{separator}{name}={REMOVED if SENSITIVE_NAME.search(name) else value}"


def scrub_html(markup: str) -> str:
    """scrub_text, plus the values of hidden form fields (tokens, view states), of fields
    whose names say they hold a person's data, and of CSRF meta tags."""
    markup = _HIDDEN_INPUT.sub(_without_value, markup)
    markup = _NAMED_INPUT.sub(
        lambda found: _without_value(found) if SENSITIVE_NAME.search(found.group(1)) else found[0],
        markup,
    )
    markup = _META_CONTENT.sub(rf'\1"{REMOVED}"', markup)
    return scrub_text(markup)


def _without_value(found: re.Match[str]) -> str:
    return _VALUE.sub(rf'\1"{REMOVED}"', found.group(0))


def scrub_json(data: Any) -> Any:
    """The same structure, with sensitive keys' values removed and every string scrubbed."""
    if isinstance(data, dict):
        return {
            key: REMOVED if SENSITIVE_NAME.search(str(key)) else scrub_json(value)
            for key, value in data.items()
        }
    if isinstance(data, list):
        return [scrub_json(item) for item in data]
    if isinstance(data, str):
        return scrub_text(data)
    return data


def scrub_page(page: Page) -> Page:
    if page.is_json:
        try:
            body = json.dumps(scrub_json(load_json(page.text)), ensure_ascii=False, indent=1)
        except NotJson:
            body = scrub_text(page.text)
    else:
        body = scrub_html(page.text)
    return Page(safe_url(page.url), page.status, body.encode("utf-8"), dict(page.headers))


def safe_url(url: str) -> str:
    """A URL without credentials, session ids or tokens."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return scrub_text(urlunsplit(parts._replace(netloc=netloc)))


@dataclass(frozen=True)
class KeptPage:
    name: str  # a file name: when it was received, and its hash
    page: Page


def read_kept_files(folder: Path, last: int) -> list[KeptPage]:
    """The last pages `archive.keep_page` kept for a target (unrecognised ones)."""
    if not folder.is_dir():
        return []
    files = sorted(path for path in folder.iterdir() if path.suffix in (".html", ".json"))
    return [KeptPage(path.name, Page.from_file(path, url="")) for path in files[-last:]]


def read_kept_by_hash(pages_dir: Path, hashes: Iterable[str], last: int) -> list[KeptPage]:
    """Pages `keep_pages` stored by hash, for the given hashes (newest last), once each."""
    from creneau.store.pages import read_kept

    found: list[KeptPage] = []
    for sha256 in dict.fromkeys(hashes):
        body = read_kept(pages_dir, sha256)
        if body is not None:
            kind = "application/json" if body.lstrip()[:1] in (b"{", b"[") else "text/html"
            suffix = ".json" if kind == "application/json" else ".html"
            page = Page("", 200, body, {"content-type": kind})
            found.append(KeptPage(f"{sha256[:12]}{suffix}", page))
    return found[-last:]


def settings_of(target: TargetBase) -> dict[str, Any]:
    """The target's settings as the config gave them, secrets masked."""
    settings = target.model_dump(mode="json", exclude_defaults=False)
    settings["url"] = safe_url(target.url)
    return {
        key: redact(value) if isinstance(value, str) else value for key, value in settings.items()
    }


@dataclass(frozen=True)
class CheckLine:
    started_at: datetime
    status: str
    http_status: int | None
    detail: str


def write_report(
    out: Path,
    target: TargetBase,
    pages: Sequence[KeptPage],
    checks: Iterable[CheckLine],
    now: datetime,
) -> Path:
    """Write the report folder; its path."""
    folder = out / f"creneau-report-{file_name(target.name)}-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    (folder / "pages").mkdir(parents=True, exist_ok=True)
    source = sources.get(target.system)
    for index, kept in enumerate(pages, 1):
        scrubbed = scrub_page(kept.page)
        name = f"{index:02d}-{kept.name}"
        (folder / "pages" / name).write_bytes(scrubbed.body)
        before = source.parse_page(kept.page, target)
        after = source.parse_page(scrubbed, target)
        reading = {
            **after.to_json(),
            "rule": after.rule,
            "read_from": list(after.read_from),
            "same_reading_as_received": after.to_json() == before.to_json(),
        }
        _write_json(folder / "pages" / f"{name}.reading.json", reading)
    _write_json(
        folder / "about.json",
        {
            "creneau": __version__,
            "python": platform.python_version(),
            "system": platform.system(),
            "made_at": now.astimezone(UTC).isoformat(),
            "target": settings_of(target),
            "last_checks": [
                {
                    "started_at": check.started_at.isoformat(),
                    "status": check.status,
                    "http_status": check.http_status,
                    "detail": scrub_text(check.detail),
                }
                for check in checks
            ],
        },
    )
    (folder / "README.txt").write_text(_readme(target, len(pages)), encoding="utf-8")
    return folder


def _readme(target: TargetBase, pages: int) -> str:
    return (
        f"creneau {__version__}: a report on target {target.name} ({target.system}).\n\n"
        f"pages/: the last {pages} page(s) creneau kept for it, as received but with hidden\n"
        "form values, session ids, tokens, e-mail addresses and phone numbers removed; beside\n"
        "each, how creneau reads it (.reading.json: status, rule, slots, and whether the\n"
        "scrubbed page still reads as the page received).\n"
        "about.json: creneau's version, the target's settings (secrets masked) and its last\n"
        "checks.\n\n"
        "Look through it before you send it: a page may still name you in its text.\n"
    )


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def file_name(text: str) -> str:
    return re.sub(r"[^\w.-]", "_", text)
