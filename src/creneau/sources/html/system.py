"""A page of no known system as the rest of creneau sees it: any link, read with the
`slot_selector` / `none_text` a person chooses from the page, in the target's own zone."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from creneau.page import Page
from creneau.sources import html
from creneau.sources.html import proposals
from creneau.sources.reading import FlowOutcome, Reading
from creneau.sources.session import Session
from creneau.sources.system import BookingSystem, HtmlOption, Link, LinkParts, PhraseFound
from creneau.targets import TargetBase

SELECTOR_SETTINGS = frozenset({"slot_selector", "none_text"})


class Html(BookingSystem):
    name = "html"
    Target = html.Target
    HOST_BUDGETS = html.HOST_BUDGETS
    KEEPS_SESSION = html.KEEPS_SESSION
    asks_for_selectors = True

    def parse_page(self, page: Page, target: Any = None) -> Reading:
        return html.parse_page(page, target)

    async def check(self, target: Any, session: Session) -> FlowOutcome:
        return await html.check(target, session)

    def recognise(self, link: LinkParts) -> Link | None:
        return Link(link.given, link.parts._replace(fragment="").geturl(), self.name, {})

    def provisional_settings(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Before the page is known, the common "no slot" phrases stand in for the settings
        the page will suggest."""
        if SELECTOR_SETTINGS & set(fields):
            return dict(fields)
        return {**fields, "none_text": list(proposals.NONE_PHRASES)}

    def selector_options(
        self, page: Page, reference: date, url: str, zone: ZoneInfo
    ) -> tuple[tuple[PhraseFound, ...], tuple[HtmlOption, ...]]:
        phrases = proposals.phrases_on_page(page)
        return phrases, proposals.html_options(page, reference, url, phrases, zone=zone)

    def site_zone(self, target: TargetBase) -> ZoneInfo:
        return target.zone if isinstance(target, html.Target) else super().site_zone(target)


SYSTEM = Html()
