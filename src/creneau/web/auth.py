"""Logging in with the dashboard's password (rate-limited, compared in constant time),
logging out, and the CSRF check every form of the dashboard goes through."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from creneau.web.app import SESSION_COOKIE, set_session
from creneau.web.context import WebContext
from creneau.web.security import verify_password

CSRF_FIELD = "csrf"


def routes(context: WebContext) -> list[BaseRoute]:
    async def login_page(request: Request) -> Response:
        return _login_form(request, context, problem="")

    async def login(request: Request) -> Response:
        client = request.client.host if request.client else "?"
        if not context.limiter.allowed(client):
            return _login_form(request, context, "too many attempts: wait a minute", 429)
        form = await request.form()
        given = str(form.get("password", ""))
        expected = context.password_hash
        if expected is None or not verify_password(given, expected):
            context.limiter.failed(client)
            return _login_form(request, context, "wrong password", 401)
        response = RedirectResponse(_safe_next(request, str(form.get("next", ""))), 303)
        set_session(response, context, request)
        return response

    async def logout(request: Request) -> Response:
        if not csrf_ok(request, context, (await request.form()).get(CSRF_FIELD)):
            return HTMLResponse("missing or wrong CSRF token", status_code=403)
        context.signer.end(request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse(f"{request.scope.get('root_path', '')}/login", 303)
        response.delete_cookie(SESSION_COOKIE, path=request.scope.get("root_path") or "/")
        return response

    async def healthz(request: Request) -> Response:
        return HTMLResponse("ok")

    return [
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]


def csrf_token(request: Request, context: WebContext) -> str:
    session: str | None = request.state.session
    return context.signer.csrf_token(session) if session else ""


def csrf_ok(request: Request, context: WebContext, given: object) -> bool:
    return context.signer.csrf_ok(request.state.session, given if isinstance(given, str) else None)


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
