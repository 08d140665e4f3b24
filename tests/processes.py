"""Waiting for what a real subprocess reports (a line it writes), never for a fixed time."""

from __future__ import annotations

import queue
import subprocess
import threading
import time


class StderrLines:
    """Reads a process's stderr on a thread; `wait_for` returns once a line holds the text."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stderr is not None
        self.process = process
        self.lines: list[str] = []
        self._new: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._new.put(line)
        self._new.put(None)

    def wait_for(self, text: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        if any(text in line for line in self.lines):
            return next(line for line in self.lines if text in line)
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._new.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                raise AssertionError(f"the process ended before saying {text!r}: {self.text}")
            self.lines.append(line)
            if text in line:
                return line
        raise AssertionError(f"no line with {text!r} within {timeout:g}s: {self.text}")

    def rest(self, timeout: float = 30.0) -> str:
        """Everything up to the end of the process."""
        self._reader.join(timeout)
        while True:
            try:
                line = self._new.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.lines.append(line)
        return self.text

    @property
    def text(self) -> str:
        return "".join(self.lines)
