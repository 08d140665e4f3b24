"""`/metrics`: the Prometheus text format, behind `[web] metrics_token` when one is set. The
collector and its families are in `web.prometheus`, imported at the first scrape: a
dashboard nobody scrapes does not carry prometheus_client."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from creneau.store import STORE_FAILURES
from creneau.web.api import refused
from creneau.web.context import WebContext

if TYPE_CHECKING:
    from creneau.web.prometheus import StoreCollector


@dataclass
class Scrapes:
    """The collector, made at the first scrape and kept for the next."""

    context: WebContext
    collector: StoreCollector | None = None


def routes(context: WebContext) -> list[BaseRoute]:
    return [Route("/metrics", partial(metrics, Scrapes(context)), methods=["GET"])]


async def metrics(scrapes: Scrapes, request: Request) -> Response:
    """/metrics: the Prometheus text format, behind `metrics_token` when one is set."""
    context = scrapes.context
    token = context.config.web.metrics_token
    if (refusal := refused(request, context, token, json=False)) is not None:
        return refusal
    from prometheus_client import CONTENT_TYPE_LATEST

    from creneau.web import prometheus

    if scrapes.collector is None:
        scrapes.collector = prometheus.StoreCollector(context)
    try:
        body = await context.db(scrapes.collector.exposition, prometheus.live_view(context))
    except STORE_FAILURES:
        return PlainTextResponse("the database cannot be read", status_code=503)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
