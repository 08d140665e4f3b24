"""What every page of the dashboard shares: the values base.html needs (language, root,
logged_in, csrf) and the words, the configured target a URL names, where a person books for a
target, and page text made fit to show (one clean line, secrets masked)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse

from creneau.redact import booking_link, redact
from creneau.sources import search_page
from creneau.targets import TargetBase
from creneau.terminal import clean
from creneau.web.auth import csrf_token
from creneau.web.context import WebContext
from creneau.web.pages.texts import WORDS

DETAIL_SHOWN = 160  # characters of a check's detail or an alert's error


def root_of(request: Request) -> str:
    """The sub-path the dashboard is served under ("" at the root): every link starts so."""
    return str(request.scope.get("root_path", ""))


def page(
    request: Request, context: WebContext, template: str, status: int = 200, **values: Any
) -> HTMLResponse:
    """A page of the dashboard, with what base.html and every template need."""
    language = context.config.creneau.language
    session = getattr(request.state, "session", None)
    html = context.render(
        template,
        language=language,
        root=root_of(request),
        logged_in=context.login_required and session is not None,
        csrf=csrf_token(request, context),
        t=WORDS[language],
        **values,
    )
    return HTMLResponse(html, status_code=status)


def problem(request: Request, context: WebContext, status: int, what: str) -> HTMLResponse:
    """A page that says in one line why there is nothing to show (404, 400)."""
    return page(request, context, "page_problem.html", status=status, what=what, code=status)


def configured_target(context: WebContext, name: str) -> TargetBase | None:
    return next((target for target in context.config.targets if target.name == name), None)


def target_path(name: str) -> str:
    """The target page's path (after the root)."""
    return f"/targets/{quote(name, safe='')}"


def booking_page(target: TargetBase) -> str:
    """Where a person books for this target: its page, or the system's search page when the
    target is an API (ANTS); credentials and secrets left out."""
    return booking_link(search_page(target.system) or target.url)


def shown(text: object, limit: int = DETAIL_SHOWN) -> str:
    """Text from a page or an error, as one line with the secrets masked, clipped."""
    line = redact(clean(text))
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
