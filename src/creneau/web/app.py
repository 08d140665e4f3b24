"""The dashboard as one Starlette application, safe by default: a Host allow-list against DNS
rebinding, strict headers on every answer (no inline script, no framing, no referrer, no
cache of private pages), a signed session for everything but the health check, the static
files and what has its own bearer token, and every change a POST with a CSRF token from a
page of this site, checked here for every route (auth.needs_csrf says which are exempt).
The pages themselves live in the modules of ROUTE_MODULES."""

from __future__ import annotations

import importlib
import ipaddress
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from creneau.store.leadership import Superseded
from creneau.web.auth import SAFE_METHODS, SESSION_COOKIE, csrf_passes, needs_csrf, set_session
from creneau.web.context import STATIC, WebContext
from creneau.web.pages.common import problem
from creneau.web.pages.texts import WORDS

# Each module gives its routes: routes(context) -> list[BaseRoute].
ROUTE_MODULES = ("auth", "pages", "captcha", "api", "metrics", "public", "admin")
# Answered without a session: the health check, the assets, the login page itself, and what
# has its own token (the API, the metrics) or is public by choice.
OPEN_PREFIXES = ("/healthz", "/static/", "/login", "/api/", "/metrics", "/public/")
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}

Next = Callable[[Request], Awaitable[Response]]


def create_app(context: WebContext) -> Starlette:
    routes: list[BaseRoute] = []
    for name in ROUTE_MODULES:
        module = importlib.import_module(f"creneau.web.{name}")
        routes += module.routes(context)
    routes.append(Mount("/static", StaticFiles(directory=STATIC), name="static"))
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(BaseHTTPMiddleware, dispatch=_guard(context)),
        ],
        exception_handlers={Superseded: _superseded(context)},
    )
    app.state.context = context
    return app


def _superseded(context: WebContext) -> Callable[[Request, Exception], Awaitable[Response]]:
    """A change the store refused: the daemon stopped leading between the guard's look and
    the write (a takeover). The transaction was rolled back: nothing changed."""

    async def refused(_request: Request, failure: Exception) -> Response:
        reason = context.read_only_reason() or (
            f"this creneau is not the active daemon ({failure}) and changed nothing; make "
            "changes on the active daemon's dashboard"
        )
        return PlainTextResponse(reason, status_code=409)

    return refused


def _guard(context: WebContext) -> Callable[[Request, Next], Awaitable[Response]]:
    async def dispatch(request: Request, call_next: Next) -> Response:
        if not host_allowed(request.headers.get("host", ""), context):
            return PlainTextResponse("unknown Host header", status_code=400)
        if request.method not in SAFE_METHODS and not same_origin(request):
            return PlainTextResponse("a change must come from a page of this site", 403)
        path = route_path(request)
        changes = request.method not in SAFE_METHODS and path not in ("/login", "/logout")
        if changes and (reason := context.read_only_reason()) is not None:
            return PlainTextResponse(reason, status_code=409)
        session = context.signer.session_of(request.cookies.get(SESSION_COOKIE))
        needs_login = context.login_required and not path.startswith(OPEN_PREFIXES)
        if needs_login and session is None:
            login = _login_url(request, path)
            if request.headers.get("hx-request"):  # a background refresh: the page moves
                return Response(status_code=401, headers={"hx-redirect": login})
            return RedirectResponse(login, status_code=303)
        new_cookie = None
        if session is None and not context.login_required:
            # A visitor of a dashboard without password: a session from the first page, so
            # that its forms already carry their CSRF token.
            new_cookie = context.signer.new_session()
            session = context.signer.session_of(new_cookie)
        request.state.session = session
        if needs_csrf(request, path) and not await csrf_passes(request, context):
            response: Response = _csrf_refused(request, context)
        else:
            response = await call_next(request)
        if new_cookie is not None:
            set_session(response, context, request, new_cookie)
        return with_security_headers(response, private=not path.startswith("/public/"))

    return dispatch


def _csrf_refused(request: Request, context: WebContext) -> Response:
    said = WORDS[context.config.creneau.language]["csrf_refused"]
    return problem(request, context, 403, said)


def with_security_headers(response: Response, *, private: bool) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if private:
        response.headers["cache-control"] = "no-store"
    return response


def same_origin(request: Request) -> bool:
    """A POST from a page of this site: the browser's Sec-Fetch-Site, or else its Origin,
    says so. A request with neither is not from a browser page and goes on (an API client
    with its token); the CSRF token then decides for the forms."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site == "same-origin"
    origin = request.headers.get("origin")
    if origin is None:
        return True
    context: WebContext = request.app.state.context
    ours = {request.headers.get("host", "")}
    if context.config.web.public_url:
        ours.add(urlsplit(context.config.web.public_url).netloc)
    return urlsplit(origin).netloc in ours


def host_allowed(host_header: str, context: WebContext) -> bool:
    """A Host header naming this dashboard: an IP address (a rebinding attack needs a name),
    localhost, the listen address, or the host of `public_url`."""
    host = urlsplit(f"//{host_header}").hostname or ""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    web = context.config.web
    names = {"localhost", web.host.lower()}
    if web.public_url:
        names.add((urlsplit(web.public_url).hostname or "").lower())
    return host.lower() in names


def route_path(request: Request) -> str:
    """The path within the dashboard: uvicorn puts `root_path` in front of it."""
    root = request.scope.get("root_path", "")
    path = request.url.path
    return path[len(root) :] if root and path.startswith(root) else path


def _login_url(request: Request, path: str) -> str:
    root = request.scope.get("root_path", "")
    return f"{root}/login?next={path}"
