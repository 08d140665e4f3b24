"""RDV Service Public as the rest of creneau sees it: its links (its hosts' public search),
named by their motif and département, and the places or organisations its pages offer."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from creneau.page import Page
from creneau.sources import rdvsp
from creneau.sources.reading import FlowOutcome, Reading
from creneau.sources.session import Session
from creneau.sources.system import BookingSystem, Link, LinkParts, Naming

# The motif parameter ends with the motif's location type ("Passeport-public_office",
# "Information titres-phone": fixtures/rdvsp/motif-choice*.html).
LOCATION_TYPE = re.compile(r"-(?:public_office|phone|home|visio)$")
PARAM_DEPARTEMENT = "departement"


class Rdvsp(BookingSystem):
    name = "rdvsp"
    Target = rdvsp.Target
    HOST_BUDGETS = rdvsp.HOST_BUDGETS
    KEEPS_SESSION = rdvsp.KEEPS_SESSION
    named_by_link = True
    offered_kinds: ClassVar[Mapping[str, str]] = {
        rdvsp.KIND_PLACES: "lieux",
        rdvsp.KIND_ORGANISATIONS: "organisations",
    }

    def parse_page(self, page: Page, target: Any = None) -> Reading:
        return rdvsp.parse_page(page, target)

    async def check(self, target: Any, session: Session) -> FlowOutcome:
        return await rdvsp.check(target, session)

    def recognise(self, link: LinkParts) -> Link | None:
        simulated = link.loopback and (
            link.path == rdvsp.SEARCH_PATH or link.path.startswith(rdvsp.BOOKING_PATHS)
        )
        if link.host in rdvsp.HOST_BUDGETS or simulated:
            return Link(link.given, rdvsp.search_url(link.given), self.name, {})
        return None

    def name_words(self, link: Link, settings: Mapping[str, Any], naming: Naming) -> list[str]:
        motif = LOCATION_TYPE.sub("", naming.first(rdvsp.PARAM_MOTIF))
        return [motif, naming.first(PARAM_DEPARTEMENT)] if motif else [self.name]


SYSTEM = Rdvsp()
