"""What a booking system's request flow needs from its conversation with a site: pages asked
for politely, and a way to say which refusals are the target's own
mistake. `creneau.fetch.client.Session` is one; the sources never import it, even for types
(the contract "a parser is pure")."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from creneau.page import Page


class Session(Protocol):
    # A source that can tell a refusal of the target's own settings (the ANTS hub's 403
    # "radius_km value not allowed") from the site saying stop sets it: such an answer opens
    # no breaker.
    configuration_error: Callable[[Page], bool]

    async def get(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Page: ...

    async def post(
        self, url: str, data: Mapping[str, str], *, headers: Mapping[str, str] | None = None
    ) -> Page: ...
