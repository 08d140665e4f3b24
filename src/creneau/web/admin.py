"""(to be written: adding a target by its link, pausing, resuming, removing)"""

from __future__ import annotations

from starlette.routing import BaseRoute

from creneau.web.context import WebContext


def routes(context: WebContext) -> list[BaseRoute]:
    return []
