"""A headless Chromium driven over the DevTools protocol's pipe (no Playwright, no port): the
browser reads commands on its fd 3 and writes answers on its fd 4, one JSON message each,
ended by a NUL byte. Only what the renderings need: open a tab, load bytes we hand it,
capture it.

Offline, three locks: every request the tab makes is intercepted and failed (but the one
document we fulfil ourselves, with a Content-Security-Policy that sandboxes it: no script,
no meta refresh, no sub-resource but inline styles and data: images); scripts are disabled
besides; and the browser is launched with a proxy that does not exist and a resolver that
resolves nothing, so that a request that slipped past both reaches no site."""

from __future__ import annotations

import base64
import contextlib
import json
import math
import os
import queue
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENGINE_VARIABLE = "CRENEAU_CHROMIUM"
ENGINE_NAMES = ("chromium", "chromium-browser", "google-chrome")
LAUNCH_FLAGS = (
    "--headless",
    "--remote-debugging-pipe",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--mute-audio",
    "--hide-scrollbars",
    # The second lock: a request that escaped the tab's interception goes to a proxy on the
    # discard port of this machine, loopback included, and no name resolves.
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--host-resolver-rules=MAP * ~NOTFOUND",
)
# The one document the tab may load: fulfilled from memory, never fetched (.invalid).
DOCUMENT_URL = "https://rendering.creneau.invalid/page"
SANDBOX = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:"
# Chromium's command-line reads a pipe on fds 3 and 4 only: a shell puts the pipes there
# (Popen cannot renumber descriptors, and preexec_fn is unsafe in the dashboard's threads).
PIPES_ON_3_AND_4 = 'exec 3<&0 4>&1 0</dev/null 1>/dev/null; exec "$@"'
START_TIMEOUT_S = 30.0
# The window laid out first: a page shorter than this is captured this high (its content
# size is at least the window's), a taller one whole.
MIN_HEIGHT = 256
CLOSE_TIMEOUT_S = 5.0


class BrowserError(Exception):
    """The browser could not start, answered an error, or took too long."""


def find_engine() -> str | None:
    """The browser CRENEAU_CHROMIUM names, else the first of chromium, chromium-browser,
    google-chrome on PATH."""
    named = os.environ.get(ENGINE_VARIABLE)
    if named:
        return named if Path(named).is_file() and os.access(named, os.X_OK) else None
    for name in ENGINE_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def engine_version(executable: str) -> str:
    """ "Chromium 150.0.7871.100" (what `--version` says, up to "built on"), or ""."""
    try:
        done = subprocess.run(
            [executable, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    line = done.stdout.strip().splitlines()[0] if done.stdout.strip() else ""
    return line.split(" built on ")[0].strip()


@dataclass(frozen=True)
class Capture:
    png: bytes
    width: int
    height: int  # of the image
    content_height: int  # of the whole page laid out (taller than `height` when cut)

    @property
    def truncated(self) -> bool:
        return self.content_height > self.height


class Browser:
    """One headless Chromium process; `with Browser(path) as browser: browser.capture(…)`."""

    def __init__(self, executable: str, timeout_s: float = 60.0) -> None:
        self.executable = executable
        self.timeout_s = timeout_s
        self._profile = ""
        self._process: subprocess.Popen[bytes] | None = None
        self._commands = -1
        self._next_id = 0
        self._answers: dict[int, queue.Queue[dict[str, Any]]] = {}
        self._events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._lock = threading.Lock()
        self._gone = False  # the browser closed its end: no answer will come

    def __enter__(self) -> Browser:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        self._profile = tempfile.mkdtemp(prefix="creneau-chromium-")
        to_browser_r, to_browser_w = os.pipe()
        from_browser_r, from_browser_w = os.pipe()
        flags = [*LAUNCH_FLAGS, f"--user-data-dir={self._profile}", "about:blank"]
        if os.geteuid() == 0:
            flags.insert(0, "--no-sandbox")  # Chromium's own sandbox refuses to run as root
        try:
            self._process = subprocess.Popen(
                ["/bin/sh", "-c", PIPES_ON_3_AND_4, "sh", self.executable, *flags],
                stdin=to_browser_r,
                stdout=from_browser_w,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # so that closing ends its helper processes too
            )
        except OSError as error:
            self.close()
            raise BrowserError(f"cannot start {self.executable}: {error}") from error
        finally:
            os.close(to_browser_r)
            os.close(from_browser_w)
        self._commands = to_browser_w
        os.set_blocking(to_browser_w, False)
        threading.Thread(target=self._read, args=(from_browser_r,), daemon=True).start()
        try:
            self.call("Browser.getVersion", timeout_s=START_TIMEOUT_S)
        except BrowserError:
            self.close()
            raise

    def close(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            with contextlib.suppress(BrowserError, OSError):
                self.send("Browser.close", answered=False)
            _exited_unreaped(process.pid, CLOSE_TIMEOUT_S)
            # Its own process group (its helpers), while its id cannot be reused: not reaped.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if self._commands >= 0:
            with contextlib.suppress(OSError):
                os.close(self._commands)
            self._commands = -1
        if self._profile:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = ""

    def _read(self, fd: int) -> None:
        pending: list[bytes] = []  # the start of a message (a screenshot spans many reads)
        with os.fdopen(fd, "rb", buffering=0) as answers:
            while chunk := answers.read(1 << 16):
                *ended, rest = chunk.split(b"\0")
                if ended:
                    ended[0], pending = b"".join([*pending, ended[0]]), []
                for message in ended:
                    self._dispatch(json.loads(message))
                if rest:
                    pending.append(rest)
        self._events.put(None)  # the browser is gone
        with self._lock:
            self._gone = True
            for waiting in self._answers.values():
                waiting.put({"error": {"message": "the browser closed"}})

    def _dispatch(self, message: dict[str, Any]) -> None:
        if "id" not in message:
            self._events.put(message)
            return
        with self._lock:
            waiting = self._answers.get(message["id"])
        if waiting is not None:
            waiting.put(message)

    def send(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session: str = "",
        *,
        answered: bool = True,
    ) -> int:
        """Send a command; its id, to wait for its `answer` (unless not `answered`: its
        answer, or error, is then dropped)."""
        with self._lock:
            if self._gone:
                raise BrowserError("the browser closed")
            self._next_id += 1
            command_id = self._next_id
            if answered:
                self._answers[command_id] = queue.Queue(maxsize=1)
        message: dict[str, Any] = {"id": command_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self._write(json.dumps(message).encode() + b"\0")
        return command_id

    def _write(self, data: bytes) -> None:
        """All of `data`, or BrowserError: a browser that stopped reading (its pipe full)
        cannot block the export."""
        if self._commands < 0:
            raise BrowserError("the browser is not running")
        deadline = time.monotonic() + self.timeout_s
        rest = memoryview(data)
        while rest:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([], [self._commands], [], left)[1]:
                raise BrowserError("the browser stopped reading")
            try:
                rest = rest[os.write(self._commands, rest) :]
            except BlockingIOError:
                continue
            except OSError as error:
                raise BrowserError(f"the browser stopped listening: {error}") from error

    def answer(self, command_id: int, timeout_s: float | None = None) -> dict[str, Any]:
        try:
            message = self._answers[command_id].get(timeout=timeout_s or self.timeout_s)
        except queue.Empty:
            raise BrowserError("the browser did not answer in time") from None
        finally:
            with self._lock:
                self._answers.pop(command_id, None)
        if "error" in message:
            raise BrowserError(str(message["error"].get("message", message["error"])))
        result: dict[str, Any] = message.get("result", {})
        return result

    def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session: str = "",
        timeout_s: float | None = None,
    ) -> dict[str, Any]:
        return self.answer(self.send(method, params, session), timeout_s)

    def event(self, deadline: float) -> dict[str, Any]:
        """The next event of any tab, or BrowserError once `deadline` (monotonic) passed."""
        try:
            message = self._events.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise BrowserError("the page did not load in time") from None
        if message is None:
            self._events.put(None)
            raise BrowserError("the browser closed")
        return message

    @contextlib.contextmanager
    def tab(self) -> Iterator[str]:
        """A new tab, as a session id, closed after."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        try:
            attached = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})
            yield str(attached["sessionId"])
        finally:
            with contextlib.suppress(BrowserError):
                self.call("Target.closeTarget", {"targetId": target})

    def capture(self, html: bytes, width: int, max_height: int, jpeg: int = 0) -> Capture:
        """A PNG (or a JPEG of quality `jpeg`) of `html` laid out `width` CSS pixels wide, at
        most `max_height` high (a page shorter than MIN_HEIGHT is as high as a window)."""
        with self.tab() as session:
            for method, params in _offline_setup(width):
                self.call(method, params, session)
            self._load(session, html)
            size = self.call("Page.getLayoutMetrics", session=session)["cssContentSize"]
            content_height = max(1, math.ceil(size["height"]))
            height = min(content_height, max_height)
            self.call("Emulation.setDeviceMetricsOverride", _metrics(width, height), session)
            clip = {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}
            form = {"format": "jpeg", "quality": jpeg} if jpeg else {"format": "png"}
            shot = self.call("Page.captureScreenshot", {**form, "clip": clip}, session=session)
        return Capture(base64.b64decode(shot["data"]), width, height, content_height)

    def _load(self, session: str, html: bytes) -> None:
        """Navigate to DOCUMENT_URL, answer it with `html` and fail every other request,
        until the page's load event."""
        deadline = time.monotonic() + self.timeout_s
        navigation = self.send("Page.navigate", {"url": DOCUMENT_URL}, session)
        served = False
        while True:
            event = self.event(deadline)
            if event.get("sessionId") != session:
                continue
            if event["method"] == "Page.loadEventFired":
                break
            if event["method"] == "Fetch.requestPaused":
                request = event["params"]
                if not served and request["request"]["url"] == DOCUMENT_URL:
                    served = True
                    fulfilled = _document(request["requestId"], html)
                    self.send("Fetch.fulfillRequest", fulfilled, session, answered=False)
                else:
                    failed = {"requestId": request["requestId"], "errorReason": "BlockedByClient"}
                    self.send("Fetch.failRequest", failed, session, answered=False)
        self.answer(navigation, max(0.1, deadline - time.monotonic()))


def _exited_unreaped(pid: int, timeout_s: float) -> None:
    """Wait until the process `pid` exited (or `timeout_s` passed), leaving it to reap."""
    deadline = time.monotonic() + timeout_s
    flags = os.WEXITED | os.WNOWAIT | os.WNOHANG
    with contextlib.suppress(ChildProcessError):
        while os.waitid(os.P_PID, pid, flags) is None and time.monotonic() < deadline:
            time.sleep(0.02)


def _metrics(width: int, height: int) -> dict[str, Any]:
    return {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}


def _offline_setup(width: int) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("Fetch.enable", {"patterns": [{"urlPattern": "*", "requestStage": "Request"}]}),
        ("Emulation.setScriptExecutionDisabled", {"value": True}),
        ("Emulation.setDeviceMetricsOverride", _metrics(width, MIN_HEIGHT)),
        ("Page.enable", {}),
    ]


def _document(request_id: str, html: bytes) -> dict[str, Any]:
    try:
        html.decode("utf-8")
        content_type = "text/html; charset=utf-8"
    except UnicodeDecodeError:
        content_type = "text/html"  # the page's own <meta charset>, or the browser's guess
    headers = {"Content-Type": content_type, "Content-Security-Policy": SANDBOX}
    return {
        "requestId": request_id,
        "responseCode": 200,
        "responseHeaders": [{"name": n, "value": v} for n, v in headers.items()],
        "body": base64.b64encode(html).decode("ascii"),
    }
