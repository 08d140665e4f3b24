"""The pages a person reads, server-rendered in French or English (`[creneau] language`),
mobile first: the overview (`/`, and `/fragments/overview` that refreshes it), a target's page
(`/targets/<name>`, its heatmap image and its evidence zip), the outbox (`/outbox`, with a retry
button per alert) and the hosts (`/hosts`). Each module builds plain lines of text in Python
and its template lays them out; the store is read on the dashboard's own thread
(`creneau.store.dashboard` and the history queries)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from creneau.web.context import WebContext
from creneau.web.pages import hosts, outbox, overview, target


def routes(context: WebContext) -> list[BaseRoute]:
    return [
        *overview.routes(context),
        *target.routes(context),
        *outbox.routes(context),
        *hosts.routes(context),
    ]
