"""The ANTS hub as the rest of creneau sees it: links to the ANTS website or to the hub's API,
the settings their query gives and those it lacks (a place, a reason, the hub's token), their
names, the meeting points an answer lists, and the website where a person books."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

from creneau.page import Page
from creneau.results import CheckResult
from creneau.sources import ants
from creneau.sources.reading import Choice, FlowOutcome, Reading
from creneau.sources.session import Session
from creneau.sources.system import (
    BookingSystem,
    Link,
    LinkParts,
    LinkProblem,
    Naming,
    Offered,
)
from creneau.targets import one_line

# The ANTS website, where a person searches by place and books; the hub's API answers its
# searches. "Un site national permet de chercher un créneau pour prendre ce rendez-vous :
# rendezvouspasseport.ants.gouv.fr" (betagouv/rdv-service-public, docs/interconnexions/ants.md).
SEARCH_PAGE = "https://rendezvouspasseport.ants.gouv.fr/"
HOSTS = frozenset({ants.API_HOST, urlsplit(SEARCH_PAGE).hostname or ""})
# What the hub needs that no link gives: the token it issued.
TOKEN_REFERENCE = "${ANTS_TOKEN}"
# unconfirmed: the ANTS website's own search address was not read anywhere; a link to it (or
# to the API, copied from a browser) that carries the API's query parameters gives them.
QUERY_SETTINGS = (
    (ants.PARAM_LATITUDE, float),
    (ants.PARAM_LONGITUDE, float),
    (ants.PARAM_RADIUS, int),
    (ants.PARAM_REASON, str),
    (ants.PARAM_DOCUMENTS, int),
)
REQUIRED = (ants.PARAM_LATITUDE, ants.PARAM_LONGITUDE, ants.PARAM_REASON)
EXAMPLES = {"latitude": "48.85", "longitude": "2.35", "reason": "PASSPORT"}


class Ants(BookingSystem):
    name = "ants"
    Target = ants.Target
    HOST_BUDGETS = ants.HOST_BUDGETS
    KEEPS_SESSION = ants.KEEPS_SESSION
    search_page = SEARCH_PAGE
    named_by_link = True

    def parse_page(self, page: Page, target: Any = None) -> Reading:
        return ants.parse_page(page, target)

    async def check(self, target: Any, session: Session) -> FlowOutcome:
        return await ants.check(target, session)

    def recognise(self, link: LinkParts) -> Link | None:
        if link.host not in HOSTS and not (link.loopback and link.path == ants.API_PATH):
            return None
        endpoint = link.plain if link.path == ants.API_PATH else ants.API_URL
        query = parse_qs(link.parts.query)
        settings: dict[str, Any] = {}
        for key, kind in QUERY_SETTINGS:
            values = query.get(key)
            if not values:
                continue
            raw = values[-1].strip()
            try:
                settings[key] = kind(raw.upper() if kind is str else raw)
            except ValueError:
                settings[key] = raw  # the target's validator says what is wrong with it
        settings["token"] = TOKEN_REFERENCE
        missing = tuple(key for key in REQUIRED if key not in settings)
        return Link(link.given, endpoint, self.name, settings, missing)

    def name_words(self, link: Link, settings: Mapping[str, Any], naming: Naming) -> list[str]:
        words = [self.name, str(settings.get(ants.PARAM_REASON, "")), naming.first("address")]
        if not words[-1]:
            words += [
                str(settings.get(key, "")) for key in (ants.PARAM_LATITUDE, ants.PARAM_LONGITUDE)
            ]
        return words

    def offered(self, result: CheckResult) -> Offered | None:
        points = tuple(Choice(guichet.id, guichet.label) for guichet in result.guichets)
        return Offered("meeting_points", points) if points else None

    def missing_problem(self, link: Link, missing: Sequence[str]) -> LinkProblem:
        how = " ".join(f"--set {key}={EXAMPLES.get(key, '…')}" for key in missing)
        given, lacking = one_line(link.given), ", ".join(missing)
        return LinkProblem(
            f"{given}: the ANTS hub searches around a place for a reason; the link does not "
            f"say {lacking}: give them, e.g. {how} (and the hub's token, "
            f'token = "{TOKEN_REFERENCE}", from ANTS_TOKEN)',
            "ants_place_missing",
            link=given,
            missing=lacking,
            how=how,
            token=TOKEN_REFERENCE,
        )


SYSTEM = Ants()
