"""ezbooking as the rest of creneau sees it: its links (…/booking/create/<id>), their names,
and the desks its pages offer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from creneau.page import Page
from creneau.sources import ezbooking
from creneau.sources.reading import FlowOutcome, Reading
from creneau.sources.session import Session
from creneau.sources.system import BookingSystem, Link, LinkParts, Naming


class Ezbooking(BookingSystem):
    name = "ezbooking"
    Target = ezbooking.Target
    HOST_BUDGETS = ezbooking.HOST_BUDGETS
    KEEPS_SESSION = ezbooking.KEEPS_SESSION
    offered_kinds: ClassVar[Mapping[str, str]] = {"desk-choice": "desks"}

    def parse_page(self, page: Page, target: Any = None) -> Reading:
        return ezbooking.parse_page(page, target)

    async def check(self, target: Any, session: Session) -> FlowOutcome:
        return await ezbooking.check(target, session)

    def recognise(self, link: LinkParts) -> Link | None:
        if booking := ezbooking.BOOKING_URL.match(link.plain):
            return Link(link.given, booking.group("base"), self.name, {"desks": []})
        return None

    def name_words(self, link: Link, settings: Mapping[str, Any], naming: Naming) -> list[str]:
        booking = ezbooking.BOOKING_URL.match(link.url)
        return [naming.place or self.name, booking.group("id") if booking else ""]


SYSTEM = Ezbooking()
