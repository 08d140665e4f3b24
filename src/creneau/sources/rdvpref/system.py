"""RDV Préfecture as the rest of creneau sees it: its links (…/rdvpref/reservation/demarche/
<id>/…), their names, and the image CAPTCHA it hands to a person."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from creneau.page import Page
from creneau.sources import rdvpref
from creneau.sources.reading import FlowOutcome, Reading
from creneau.sources.session import Session
from creneau.sources.system import BookingSystem, Link, LinkParts, Naming


class Rdvpref(BookingSystem):
    name = "rdvpref"
    Target = rdvpref.Target
    HOST_BUDGETS = rdvpref.HOST_BUDGETS
    KEEPS_SESSION = rdvpref.KEEPS_SESSION
    session_lifetime = rdvpref.SESSION_LIFETIME

    def parse_page(self, page: Page, target: Any = None) -> Reading:
        return rdvpref.parse_page(page, target)

    async def check(self, target: Any, session: Session) -> FlowOutcome:
        return await rdvpref.check(target, session)

    async def start_captcha(self, target: Any, session: Session) -> rdvpref.CaptchaChallenge:
        return await rdvpref.start_captcha(target, session)

    async def submit_captcha(
        self, target: Any, session: Session, challenge: Any, code: str
    ) -> Reading:
        return await rdvpref.submit_captcha(target, session, challenge, code)

    def recognise(self, link: LinkParts) -> Link | None:
        if rdvpref.DEMARCHE_URL.match(link.plain):
            return Link(link.given, rdvpref.demarche_urls(link.given).base + "/", self.name, {})
        return None

    def name_words(self, link: Link, settings: Mapping[str, Any], naming: Naming) -> list[str]:
        return [self.name, rdvpref.demarche_urls(link.url).demarche_id]


SYSTEM = Rdvpref()
