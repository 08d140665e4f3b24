"""The notification channels, through Apprise in a child process. Apprise is the heaviest
library creneau uses (~18 MB once it has loaded its services, and it loads all of them to read
one URL), and the daemon needs it for a second now and then: to read the config's URLs, and
to send what is due. So it never enters the long-running process: each reading and each round
of delivery starts `python -m creneau.alerts.apprise_worker`, talks to it in JSON lines over
its stdin and stdout (URLs, with their secrets, never appear on a command line), and lets it
exit. The child only reads and sends; every outbox row is written by the parent, so the
outbox keeps one writer."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from creneau.redact import redact

FORMATS = ("text", "markdown", "html")
# Used when Apprise cannot say what a channel accepts (its own default is 32768 and 250).
DEFAULT_BODY_MAXLEN = 4000
DEFAULT_TITLE_MAXLEN = 250
# A channel with a smaller limit (an SMS segment is 160) still gets the first slot and the
# link: the service sends it in a few segments rather than creneau sending nothing useful.
MIN_BODY_ROOM = 480
# Room Apprise needs to put the title into the body of a channel without titles.
TITLE_IN_BODY_ROOM = 20
SEND_TIMEOUT_SECONDS = 30  # what Apprise gives each service
# The child's own start (an interpreter and Apprise's services) on a slow machine, plus
# Apprise's timeout: past that the child is stopped and the send counted as failed.
WORKER_GRACE_SECONDS = 60
WORKER = (sys.executable, "-m", "creneau.alerts.apprise_worker")


@dataclass(frozen=True)
class Channel:
    """What a channel shows (Apprise says it per URL): its format and the lengths it takes."""

    format: str = "markdown"  # text | markdown | html
    body_maxlen: int = DEFAULT_BODY_MAXLEN
    title_maxlen: int = DEFAULT_TITLE_MAXLEN  # 0: no title, Apprise puts it in the body
    title_markup: bool = False  # the channel reads the title in its format, not as plain text

    def body_room(self, title: str) -> int:
        room = self.body_maxlen
        if self.title_maxlen <= 0:
            room -= len(title) + TITLE_IN_BODY_ROOM
        return max(room, MIN_BODY_ROOM)


@dataclass(frozen=True)
class UrlReading:
    """How Apprise reads one URL. When it cannot, why: the scheme, whether Apprise knows it
    and whether this machine can use it (never the URL: it holds secrets)."""

    readable: bool
    scheme: str = ""
    scheme_known: bool = False
    scheme_enabled: bool = False
    checks_tls: bool = True
    channel: Channel = field(default_factory=Channel)


class WorkerFailed(Exception):
    """The child process could not answer (it could not start, crashed or hung)."""


def _worker_environment() -> dict[str, str]:
    """The child finds creneau where this process found it, even from a source tree."""
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    paths = [package_root, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(dict.fromkeys(paths))}


def read_urls(urls: Sequence[str]) -> list[UrlReading]:
    """Each URL as Apprise reads it, in one child process; a URL read before in this process
    is not read again (a reloaded config usually keeps its channels)."""
    unread = [url for url in dict.fromkeys(urls) if url not in _read]
    if unread:
        _read.update(zip(unread, _read_in_child(unread), strict=True))
    return [_read[url] for url in urls]


_read: dict[str, UrlReading] = {}


def _read_in_child(urls: Sequence[str]) -> list[UrlReading]:
    requests = "".join(json.dumps({"op": "read", "url": url}) + "\n" for url in urls)
    try:
        done = subprocess.run(
            WORKER,
            input=requests,
            capture_output=True,
            text=True,
            timeout=WORKER_GRACE_SECONDS,
            env=_worker_environment(),
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as failure:
        raise WorkerFailed(f"Apprise could not be started: {type(failure).__name__}") from None
    answers = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0 or len(answers) != len(urls):
        raise WorkerFailed(_last_line(done.stderr) or f"Apprise exited with {done.returncode}")
    return [_reading(answer) for answer in answers]


def channel_of(url: str) -> Channel:
    """The format a channel shows and the lengths it takes; the defaults when Apprise cannot
    say (an alert must not be lost for it)."""
    try:
        return read_urls([url])[0].channel
    except WorkerFailed:
        return Channel()


def _reading(answer: dict[str, Any]) -> UrlReading:
    channel = Channel(**answer.pop("channel")) if answer.get("channel") else Channel()
    return UrlReading(**answer, channel=channel)


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return redact(lines[-1])[:300] if lines else ""


class AppriseSession:
    """One child process for one round of delivery, started at the first send and stopped by
    `close()`. A child that dies or hangs fails that send (kept for a retry) and the next
    send starts a new one."""

    def __init__(self) -> None:
        self._child: asyncio.subprocess.Process | None = None

    async def send(self, url: str, title: str, body: str, body_format: str) -> tuple[bool, str]:
        """(True, "") or (False, a reason without secrets)."""
        request = {"op": "send", "url": url, "title": title, "body": body, "format": body_format}
        try:
            answer = await asyncio.wait_for(self._ask(request), WORKER_GRACE_SECONDS)
        except (TimeoutError, WorkerFailed, OSError) as failure:
            await self._stop()
            reason = str(failure) if isinstance(failure, WorkerFailed) else "no answer in time"
            return False, redact(f"Apprise's process failed: {reason}")
        return bool(answer["ok"]), redact(str(answer.get("error", "")))

    async def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        child = await self._started()
        assert child.stdin is not None
        assert child.stdout is not None
        child.stdin.write((json.dumps(request) + "\n").encode())
        await child.stdin.drain()
        line = await child.stdout.readline()
        if not line:
            raise WorkerFailed(f"it exited with {await child.wait()}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    async def _started(self) -> asyncio.subprocess.Process:
        if self._child is None or self._child.returncode is not None:
            self._child = await asyncio.create_subprocess_exec(
                *WORKER,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
                env=_worker_environment(),
            )
        return self._child

    async def close(self) -> None:
        """Ends the child once it has answered everything it was asked."""
        child = self._child
        if child is None or child.returncode is not None:
            self._child = None
            return
        if child.stdin is not None:
            child.stdin.close()  # the child ends when its input does
        with contextlib.suppress(TimeoutError):  # then stopped
            await asyncio.wait_for(child.wait(), 5)
        await self._stop()

    async def _stop(self) -> None:
        child, self._child = self._child, None
        if child is not None and child.returncode is None:
            child.kill()
            await child.wait()


def reading_as_json(reading: UrlReading) -> str:
    """What the child writes for one reading (the parent reads it back with `_reading`)."""
    return json.dumps(asdict(reading))
