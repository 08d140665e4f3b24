"""Logging in with the dashboard's password (rate-limited per client, hashed off the event
loop a few at a time, compared in constant time), logging out (the session ends on the
server too), the session cookie, and the CSRF check every POST goes through (`csrf_passes`,
called by the application's guard, web/app.py, before any route: a route need not check)."""

from __future__ import annotations

from functools import partial

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from creneau.web.context import WebContext
from creneau.web.security import client_key, verify_password

SESSION_COOKIE = "creneau_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf"
# The POSTs without the CSRF token: the login (no session yet to sign it with), and a call
# with its own bearer token under these prefixes (a page of another site cannot send one).
WITHOUT_CSRF = frozenset({"/login"})
BEARER_PREFIXES = ("/api/", "/metrics")
BUSY_RETRY_SECONDS = 5  # when every password hashing place is taken
PROBLEMS = {
    "fr": {
        "limited": "Trop d'essais : réessayez dans {seconds} s.",
        "busy": "Trop de connexions en même temps : réessayez dans quelques secondes.",
        "wrong": "Mot de passe incorrect.",
    },
    "en": {
        "limited": "Too many attempts: try again in {seconds} s.",
        "busy": "Too many logins at once: try again in a few seconds.",
        "wrong": "Wrong password.",
    },
}


def routes(context: WebContext) -> list[BaseRoute]:
    return [
        Route("/login", partial(login_page, context), methods=["GET"]),
        Route("/login", partial(login, context), methods=["POST"]),
        Route("/logout", partial(logout, context), methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]


async def login_page(context: WebContext, request: Request) -> Response:
    return _login_form(request, context, problem="")


async def login(context: WebContext, request: Request) -> Response:
    """The password checked (a few attempts per client), then a session and back where the
    person was going."""
    limiter = context.login_limiter
    client = client_key(request.client.host if request.client else None)
    if not limiter.reserve(client):  # before any await: two requests cannot both pass
        seconds = limiter.retry_after(client)
        return _refusal(request, context, "limited", 429, seconds)
    form = await request.form()
    given = str(form.get("password", ""))
    right = await context.password_hashing.check(lambda: _is_the_password(context, given))
    if right is None:
        limiter.give_back(client)  # not checked: not a failure
        return _refusal(request, context, "busy", 429, BUSY_RETRY_SECONDS)
    if not right:
        return _refusal(request, context, "wrong", 401)
    limiter.give_back(client)
    response = RedirectResponse(_safe_next(request, str(form.get("next", ""))), 303)
    set_session(response, context, request)
    return response


async def logout(context: WebContext, request: Request) -> Response:
    """The session ended on the server too, its cookie dropped."""
    context.signer.end(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse(f"{request.scope.get('root_path', '')}/login", 303)
    response.delete_cookie(SESSION_COOKIE, path=request.scope.get("root_path") or "/")
    return response


async def healthz(request: Request) -> Response:
    return HTMLResponse("ok")


def set_session(
    response: Response, context: WebContext, request: Request, cookie: str | None = None
) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        cookie or context.signer.new_session(),
        max_age=30 * 24 * 3600,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path=request.scope.get("root_path") or "/",
    )


def needs_csrf(request: Request, path: str) -> bool:
    """Whether this request must carry the session's CSRF token: every change (a method
    other than GET, HEAD, OPTIONS) but those of WITHOUT_CSRF and BEARER_PREFIXES."""
    if request.method in SAFE_METHODS or path in WITHOUT_CSRF:
        return False
    has_bearer = request.headers.get("authorization", "").lower().startswith("bearer ")
    return not (has_bearer and path.startswith(BEARER_PREFIXES))


async def csrf_passes(request: Request, context: WebContext) -> bool:
    """The form's CSRF token is the session's. The body is read whole first, so that the
    route reads the same form again."""
    try:
        await request.body()
        form = await request.form()
    except HTTPException:  # a form Starlette cannot parse: no token in it
        return False
    return csrf_ok(request, context, form.get(CSRF_FIELD))


def csrf_token(request: Request, context: WebContext) -> str:
    session: str | None = request.state.session
    return context.signer.csrf_token(session) if session else ""


def csrf_ok(request: Request, context: WebContext, given: object) -> bool:
    return context.signer.csrf_ok(request.state.session, given if isinstance(given, str) else None)


def _is_the_password(context: WebContext, given: str) -> bool:
    """Run in a hashing thread: making the hash of a password the environment gave in clear
    (once) is as slow as checking one."""
    expected = context.password_hash
    return expected is not None and verify_password(given, expected)


def _refusal(
    request: Request, context: WebContext, why: str, status: int, retry_after: int | None = None
) -> Response:
    language = context.config.creneau.language
    said = PROBLEMS.get(language, PROBLEMS["en"])[why].format(seconds=retry_after)
    response = _login_form(request, context, said, status)
    if retry_after is not None:
        response.headers["retry-after"] = str(retry_after)
    return response


def _login_form(request: Request, context: WebContext, problem: str, status: int = 200) -> Response:
    page = context.render(
        "login.html",
        root=request.scope.get("root_path", ""),
        next=request.query_params.get("next", ""),
        problem=problem,
        language=context.config.creneau.language,
    )
    return HTMLResponse(page, status_code=status)


def _safe_next(request: Request, wanted: str) -> str:
    """Back where the person was going, on this site only."""
    root = request.scope.get("root_path", "")
    if not wanted.startswith("/") or wanted.startswith("//") or "\\" in wanted:
        return f"{root}/"
    return f"{root}{wanted}"
