"""Apprise in a child process: readings and sends go through it, the caller never imports
Apprise, and a child that dies or hangs fails one send without losing the next."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from creneau.alerts import channels
from creneau.alerts.channels import AppriseSession, Channel, UrlReading, read_urls
from creneau.simulator.phone import Phone


def test_one_child_reads_every_url_as_apprise_does() -> None:
    readings = read_urls(
        [
            "json://127.0.0.1:9/",
            "nosuchservice://abc",
            "ntfy://127.0.0.1:9/topic?verify=no",
            "json://",
        ]
    )
    assert readings == [
        UrlReading(True, "json", True, True, True, Channel("markdown", 32768, 250, True)),
        UrlReading(False, "nosuchservice", False, False),
        UrlReading(True, "ntfy", True, True, False, Channel("text", 7800, 200, False)),
        UrlReading(False, "json", True, True),
    ]


def test_a_url_read_once_is_not_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "json://127.0.0.1:9/read-once"
    first = read_urls([url])
    monkeypatch.setattr(channels, "WORKER", (sys.executable, "-c", "raise SystemExit(3)"))
    assert read_urls([url, url]) == first * 2
    with pytest.raises(channels.WorkerFailed, match="exited with 3"):
        read_urls(["json://127.0.0.1:9/never-read"])


def test_the_sender_never_holds_apprise(phone: Phone) -> None:
    """Sent from a fresh interpreter: the message arrives, and Apprise was never imported."""
    script = (
        "import asyncio, sys\n"
        "from creneau.alerts.channels import AppriseSession\n"
        "async def main():\n"
        "    session = AppriseSession()\n"
        f"    sent = await session.send({phone.apprise_url!r}, 'Créneau', 'body', 'text')\n"
        "    await session.close()\n"
        "    return sent\n"
        "print(asyncio.run(main()), 'apprise' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.split() == ["(True,", "'')", "False"]
    assert [(message.title, message.body) for message in phone.messages] == [("Créneau", "body")]


async def test_one_child_sends_a_whole_round(phone: Phone) -> None:
    session = AppriseSession()
    try:
        results = [await session.send(phone.apprise_url, f"t{i}", "b", "text") for i in range(3)]
        child = session._child
        assert child is not None
        assert child.returncode is None
    finally:
        await session.close()
    assert results == [(True, "")] * 3
    assert [message.title for message in phone.messages] == ["t0", "t1", "t2"]
    assert child.returncode == 0  # it ended with its input


async def test_a_failed_send_says_why_without_the_secret(phone: Phone) -> None:
    phone.up = False
    host, port = phone.apprise_url.split("//")[1].rstrip("/").split(":")
    url = f"json://user:s3cretToken42@{host}:{port}/"
    session = AppriseSession()
    try:
        ok, error = await session.send(url, "title", "body", "text")
    finally:
        await session.close()
    assert not ok
    assert "500" in error
    assert "s3cretToken42" not in error


async def test_a_child_that_dies_fails_one_send_and_the_next_starts_anew(
    phone: Phone, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = channels.WORKER
    monkeypatch.setattr(channels, "WORKER", (sys.executable, "-c", "raise SystemExit(7)"))
    session = AppriseSession()
    try:
        assert await session.send(phone.apprise_url, "lost", "b", "text") == (
            False,
            "Apprise's process failed: it exited with 7",
        )
        monkeypatch.setattr(channels, "WORKER", worker)
        assert await session.send(phone.apprise_url, "next", "b", "text") == (True, "")
    finally:
        await session.close()
    assert [message.title for message in phone.messages] == ["next"]


async def test_a_child_that_hangs_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    hangs = "import sys, time\nsys.stdin.readline()\ntime.sleep(600)\n"
    monkeypatch.setattr(channels, "WORKER", (sys.executable, "-c", hangs))
    monkeypatch.setattr(channels, "WORKER_GRACE_SECONDS", 0.5)
    session = AppriseSession()
    ok, error = await session.send("json://127.0.0.1:9/", "t", "b", "text")
    assert (ok, error) == (False, "Apprise's process failed: no answer in time")
    assert session._child is None  # stopped, not left behind


def test_the_worker_answers_one_line_per_request() -> None:
    requests = [{"op": "read", "url": "json://127.0.0.1:9/"}, {"op": "read", "url": "x"}]
    done = subprocess.run(
        channels.WORKER,
        input="".join(json.dumps(request) + "\n" for request in requests),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert [answer["readable"] for answer in answers] == [True, False]
