"""The dashboard's safety by default: the password's hash, signed sessions and CSRF tokens,
the login limit, and a config that refuses to expose the dashboard without a password."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.requests import Request
from starlette.routing import Route
from starlette.testclient import TestClient

from creneau.config import ConfigError, load_config
from creneau.store import DatabaseThread, Store
from creneau.web.app import create_app
from creneau.web.auth import needs_csrf
from creneau.web.context import WebContext
from creneau.web.security import (
    Signer,
    hash_password,
    is_password_hash,
    load_or_create_secret,
    tokens_match,
    verify_password,
)
from daemon_stand_in import DaemonStandIn


def test_a_password_is_kept_as_a_salted_slow_hash() -> None:
    first, second = (
        hash_password("correct horse", iterations=1000),
        hash_password("correct horse", iterations=1000),
    )
    assert first != second  # salted
    assert is_password_hash(first)
    assert "correct horse" not in first
    assert verify_password("correct horse", first)
    assert not verify_password("correct hors", first)
    assert not verify_password("correct horse", "pbkdf2_sha256$1000$x$y")


def test_a_session_cookie_cannot_be_forged_or_kept_past_its_life(tmp_path: Path) -> None:
    now = [1_000_000.0]
    signer = Signer(load_or_create_secret(tmp_path), clock=lambda: now[0])
    cookie = signer.new_session()
    session = signer.session_of(cookie)
    assert session is not None
    other = Signer(load_or_create_secret(tmp_path / "elsewhere"), clock=lambda: now[0])
    assert other.session_of(cookie) is None
    tampered = cookie.split(".")
    assert signer.session_of(f"{tampered[0]}.{int(tampered[1]) + 999}.{tampered[2]}") is None
    assert signer.csrf_ok(session, signer.csrf_token(session))
    assert not signer.csrf_ok(session, other.csrf_token(session))
    assert not signer.csrf_ok(None, signer.csrf_token(session))
    now[0] += 31 * 24 * 3600
    assert signer.session_of(cookie) is None
    assert (tmp_path / "web-session.secret").stat().st_mode & 0o777 == 0o600


def test_tokens_are_compared_whole() -> None:
    assert tokens_match("s3cret", "s3cret")
    assert not tokens_match("s3cre", "s3cret")
    assert not tokens_match(None, "s3cret")


def config_with(tmp_path: Path, web: str) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "config.toml"
    path.write_text(
        f'[creneau]\ncontact = "t@example.org"\ndatabase = "sqlite:///{tmp_path / "c.db"}"\n'
        f'data_dir = "{tmp_path / "data"}"\n'
        '[[target]]\nname = "t"\nsystem = "ezbooking"\n'
        f'url = "https://pref.example/booking/create/1"\n[web]\n{web}\n'
    )
    return path


@pytest.mark.parametrize(
    ("web", "line"),
    [
        (
            'listen = "0.0.0.0:8765"',
            'web.listen: "0.0.0.0:8765" opens the dashboard beyond this machine without a '
            'password: set web.password (e.g. "${CRENEAU_WEB_PASSWORD}"), or '
            "web.trusted_proxy_auth = true behind a reverse proxy that authenticates people",
        ),
        (
            'listen = "localhost"',
            'web.listen: expected "host:port" such as "127.0.0.1:8765" (got "localhost")',
        ),
        (
            'root_path = "creneau/"',
            'web.root_path: must start with "/" and not end with one, e.g. "/creneau" '
            '(got "creneau/")',
        ),
        (
            'public_url = "ftp://x"',
            'web.public_url: must be an http(s) address such as "https://creneau.example.org" '
            '(got "ftp://x")',
        ),
    ],
)
def test_web_mistakes_are_one_line(tmp_path: Path, web: str, line: str) -> None:
    path = config_with(tmp_path, web)
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert raised.value.lines == [f"{path}: {line}"]


@pytest.mark.parametrize(
    "web",
    [
        'listen = "0.0.0.0:8765"\npassword = "long enough"',
        'listen = "0.0.0.0:8765"\ntrusted_proxy_auth = true',
        'listen = "[::1]:9000"',
        'enabled = false\nlisten = "0.0.0.0:8765"',
    ],
)
def test_an_exposed_dashboard_with_a_password_or_a_proxy_loads(tmp_path: Path, web: str) -> None:
    assert load_config(config_with(tmp_path, web)).web.port > 0


# --- the application's guard ----------------------------------------------------------------


def web_context(tmp_path: Path, web: str = "") -> WebContext:
    path = config_with(tmp_path, web)
    config = load_config(path)
    store = Store(config.creneau.database)
    store.upgrade()
    signer = Signer.for_data_dir(tmp_path / "keys")
    return WebContext(config, store, DatabaseThread(inline=True), signer)


def client_for(context: WebContext, base_url: str = "http://127.0.0.1:8765") -> TestClient:
    return TestClient(create_app(context), base_url=base_url, follow_redirects=False)


def test_every_answer_carries_the_security_headers(tmp_path: Path) -> None:
    answer = client_for(web_context(tmp_path)).get("/healthz")
    assert answer.status_code == 200
    assert answer.headers["content-security-policy"].startswith("default-src 'self'; ")
    assert "script-src 'self';" in answer.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["cache-control"] == "no-store"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie


def test_an_unknown_host_name_is_refused(tmp_path: Path) -> None:
    client = client_for(web_context(tmp_path))
    assert client.get("/healthz", headers={"host": "attacker.example"}).status_code == 400
    assert client.get("/healthz", headers={"host": "localhost:8765"}).status_code == 200
    assert client.get("/healthz", headers={"host": "192.168.1.20:8765"}).status_code == 200
    public = web_context(tmp_path / "p", 'public_url = "https://creneau.asso.example/x"')
    named = client_for(public).get("/healthz", headers={"host": "creneau.asso.example"})
    assert named.status_code == 200


def test_a_change_from_another_site_or_without_the_csrf_token_is_refused(tmp_path: Path) -> None:
    client = client_for(web_context(tmp_path))
    session = client.get("/healthz").cookies  # a loopback dashboard gives a session at once
    assert session
    foreign = client.post("/logout", headers={"origin": "http://attacker.example"})
    assert foreign.status_code == 403
    cross = client.post("/logout", headers={"sec-fetch-site": "cross-site"})
    assert cross.status_code == 403
    without_token = client.post("/logout", headers={"sec-fetch-site": "same-origin"})
    assert without_token.status_code == 403


def test_every_post_route_but_the_login_needs_the_csrf_token(tmp_path: Path) -> None:
    # One check for every route (the application's guard): a route added later is covered
    # without a line of its own. Its path parameters: any value (the check comes first).
    context = web_context(tmp_path)
    app = create_app(context)
    client = client_for(context)
    client.get("/healthz")  # a loopback dashboard gives a session at once
    session = context.signer.session_of(client.cookies.get("creneau_session"))
    assert session is not None
    posts = [
        re.sub(r"\{[^}]*\}", "1", route.path)
        for route in app.routes
        if isinstance(route, Route) and "POST" in (route.methods or ())
    ]
    assert {"/logout", "/add/preview", "/captcha/1", "/outbox/1/retry"} <= set(posts)
    for path in posts:
        if path == "/login":
            continue
        for given in ({}, {"csrf": "forged"}, {"csrf": context.signer.csrf_token("another")}):
            answer = client.post(path, data=given, headers={"sec-fetch-site": "same-origin"})
            assert answer.status_code == 403, path
            assert "Jeton CSRF absent ou faux" in answer.text
    assert client.post("/login", data={"password": "x"}).status_code != 403
    signed = client.post("/logout", data={"csrf": context.signer.csrf_token(session)})
    assert signed.status_code == 303


def test_only_the_login_and_a_call_with_its_bearer_token_go_without_the_csrf_token() -> None:
    def request(method: str, path: str, authorization: str = "") -> Request:
        headers = [(b"authorization", authorization.encode())] if authorization else []
        return Request({"type": "http", "method": method, "path": path, "headers": headers})

    assert not needs_csrf(request("GET", "/add"), "/add")
    assert not needs_csrf(request("POST", "/login"), "/login")
    assert needs_csrf(request("POST", "/logout"), "/logout")
    assert needs_csrf(request("DELETE", "/targets/x"), "/targets/x")
    assert not needs_csrf(request("POST", "/api/v1/x", "Bearer t0ken"), "/api/v1/x")
    assert needs_csrf(request("POST", "/api/v1/x"), "/api/v1/x")  # the session's, then
    assert needs_csrf(request("POST", "/add/save", "Bearer t0ken"), "/add/save")


def test_private_pages_redirect_to_the_login_when_a_password_is_set(tmp_path: Path) -> None:
    context = web_context(tmp_path, 'listen = "0.0.0.0:8765"\npassword = "correct horse 42"')
    client = client_for(context)
    answer = client.get("/outbox")
    assert (answer.status_code, answer.headers["location"]) == (303, "/login?next=/outbox")
    assert client.get("/healthz").status_code == 200
    wrong = client.post("/login", data={"password": "nope"})
    assert wrong.status_code == 401
    right = client.post("/login", data={"password": "correct horse 42", "next": "/outbox"})
    assert (right.status_code, right.headers["location"]) == (303, "/outbox")
    assert "creneau_session=" in right.headers["set-cookie"]


def test_login_attempts_are_limited(tmp_path: Path) -> None:
    context = web_context(tmp_path, 'listen = "0.0.0.0:8765"\npassword = "correct horse 42"')
    client = client_for(context)
    codes = [client.post("/login", data={"password": "guess"}).status_code for _ in range(7)]
    assert codes == [401] * 5 + [429] * 2
    assert client.post("/login", data={"password": "correct horse 42"}).status_code == 429


def test_a_session_logged_out_is_refused_with_every_copy_of_its_cookie(tmp_path: Path) -> None:
    context = web_context(tmp_path, 'listen = "0.0.0.0:8765"\npassword = "correct horse 42"')
    client = client_for(context)
    assert client.post("/login", data={"password": "correct horse 42"}).status_code == 303
    copied = client.cookies["creneau_session"]
    assert client.get("/outbox").status_code == 200
    session = context.signer.session_of(copied)
    assert session is not None
    logout = client.post(
        "/logout",
        data={"csrf": context.signer.csrf_token(session)},
        headers={"sec-fetch-site": "same-origin"},
    )
    assert logout.status_code == 303
    replayed = client_for(context)
    replayed.cookies.set("creneau_session", copied)
    refused = replayed.get("/outbox")
    assert (refused.status_code, refused.headers["location"]) == (303, "/login?next=/outbox")
    # What was logged out stays so for a restarted dashboard on the same data directory.
    restarted = web_context(tmp_path, 'listen = "0.0.0.0:8765"\npassword = "correct horse 42"')
    assert restarted.signer.session_of(copied) is None
    again = client_for(restarted)
    assert again.post("/login", data={"password": "correct horse 42"}).status_code == 303
    assert again.get("/outbox").status_code == 200


def test_logged_out_sessions_are_kept_in_a_private_file_until_they_expire(tmp_path: Path) -> None:
    now = [1_000_000.0]

    def signer() -> Signer:  # the dashboard of `creneau run`, or `creneau web` beside it
        made = Signer.for_data_dir(tmp_path)
        return Signer(made.key, clock=lambda: now[0], revocations=made.revocations)

    run, web = signer(), signer()
    first, kept = run.new_session(), run.new_session()
    run.end(first)
    assert web.session_of(first) is None
    assert web.session_of(kept) is not None
    revoked = tmp_path / "web-sessions.revoked"
    assert revoked.stat().st_mode & 0o777 == 0o600
    now[0] += 20 * 24 * 3600
    second, third = run.new_session(), run.new_session()
    web.end(second)  # each sees the other's logouts
    assert run.session_of(second) is None
    assert run.session_of(kept) is not None
    now[0] += 11 * 24 * 3600  # the first cookie has expired: no need to remember it
    run.end(third)
    ended = {line.split(" ")[0] for line in revoked.read_text().splitlines()}
    assert ended == {cookie.split(".")[0] for cookie in (second, third)}
    assert signer().session_of(third) is None  # after a restart too


def test_a_hashed_password_in_the_config_is_accepted(tmp_path: Path) -> None:
    hashed = hash_password("correct horse 42", iterations=1000)
    context = web_context(tmp_path, f'listen = "0.0.0.0:8765"\npassword = "{hashed}"')
    answer = client_for(context).post("/login", data={"password": "correct horse 42"})
    assert answer.status_code == 303


def test_a_login_never_sends_a_person_to_another_site(tmp_path: Path) -> None:
    context = web_context(tmp_path, 'listen = "0.0.0.0:8765"\npassword = "correct horse 42"')
    for wanted in ("//attacker.example/", "https://attacker.example/", "/\\attacker.example"):
        answer = client_for(context).post(
            "/login", data={"password": "correct horse 42", "next": wanted}
        )
        assert answer.headers["location"] == "/"


class StandingBy(DaemonStandIn):
    """A daemon that stands by while another is active on the database."""

    def next_checks(self) -> dict[str, None]:
        return {}

    def scheduler_lag_seconds(self) -> float:
        return 0.0

    def read_only_reason(self) -> str | None:
        return "this creneau (b:2) stands by and changes nothing: a:1 is active"


def test_a_standbys_dashboard_shows_pages_and_refuses_changes(tmp_path: Path) -> None:
    context = web_context(tmp_path)
    context.live = StandingBy()
    client = client_for(context)
    assert client.get("/").status_code == 200
    retry = client.post("/outbox/1/retry", headers={"sec-fetch-site": "same-origin"})
    assert retry.status_code == 409
    assert retry.text == "this creneau (b:2) stands by and changes nothing: a:1 is active"
    added = client.post("/add/preview", headers={"sec-fetch-site": "same-origin"})
    assert added.status_code == 409
    # Logging out is not a change to the watch: a standby's dashboard still does it.
    assert client.post("/logout", headers={"sec-fetch-site": "same-origin"}).status_code == 403


def test_a_change_the_store_refuses_after_a_takeover_is_a_409(tmp_path: Path) -> None:
    # The daemon still led when the guard looked, and stood by when the store wrote.
    context = web_context(tmp_path)
    daemon_store = Store(context.store.url)
    daemon_store.serve_daemon()
    daemon_store.fence_alongside(context.store)  # its term: none (standing by)
    client = client_for(context)
    client.get("/healthz")  # a dashboard without password gives a session at once
    session = context.signer.session_of(client.cookies.get("creneau_session"))
    assert session is not None
    retry = client.post(
        "/outbox/1/retry",
        data={"csrf": context.signer.csrf_token(session)},
        headers={"sec-fetch-site": "same-origin"},
    )
    assert retry.status_code == 409
    assert retry.text.startswith("this creneau is not the active daemon (")
    assert retry.text.endswith("changed nothing; make changes on the active daemon's dashboard")
    assert retry.headers["x-content-type-options"] == "nosniff"
