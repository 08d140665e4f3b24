"""Why a request or a check produced no page: raised by the client, caught by the flows and
the checker. Light on purpose: a source module imports it without loading httpx."""

from __future__ import annotations

from creneau.details import Detail
from creneau.fetch.politeness import Cooling
from creneau.results import Status


class FetchError(Exception):
    """A request that produced no usable page. `status` is what the check should report,
    `detail` why, for a person (its `str` is the English text, for the logs)."""

    def __init__(self, detail: Detail, status: Status = Status.ERROR) -> None:
        super().__init__(str(detail))
        self.detail = detail
        self.status = status


class HostCoolingDown(FetchError):
    """No request may go to the host before `until`."""

    def __init__(self, host: str, cooling: Cooling) -> None:
        detail = Detail("fetch.cooling_down", host=host, reason=cooling.reason, until=cooling.until)
        super().__init__(detail, cooling.status)
        self.until = cooling.until


class TooSoon(FetchError):
    """A check of a target was attempted before the interval floor allows."""


class UnsafeLink(FetchError):
    """The SSRF guard (guard.py) refused a request before any connection: a link given
    through the web may not reach this machine or its network."""

    def __init__(self, reason: Detail) -> None:
        super().__init__(Detail("fetch.unsafe_link", reason=reason), Status.BLOCKED)
        self.reason = reason
