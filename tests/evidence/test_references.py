"""The decisions a dossier cites: each one has a public page where it can be read, is cited the
French way, was decided before today, and comes in the order a reader needs them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from urllib.parse import urlsplit

import pytest

from creneau.evidence.references import DECISIONS, Decision, french_date

# The public pages the references were checked against (docs/references.md).
KNOWN_HOSTS = {
    "ash.tm.fr",
    "www.alwihdainfo.com",
    "www.infomie.net",
    "www.conseil-etat.fr",
}


@pytest.mark.parametrize("decision", DECISIONS, ids=lambda decision: decision.number)
def test_each_decision_has_a_public_source_and_both_languages(decision: Decision) -> None:
    parts = urlsplit(decision.source)
    assert parts.scheme in ("http", "https")
    assert parts.hostname in KNOWN_HOSTS
    assert decision.held_fr.strip()
    assert decision.held_en.strip()
    assert decision.number.startswith("n° ")


def test_every_decision_was_decided_before_the_test_runs() -> None:
    today = datetime.now(UTC).date()
    assert all(decision.decided < today for decision in DECISIONS)


def test_citations_are_written_the_french_way() -> None:
    assert DECISIONS[0].citation == "CE, 10 juin 2020, n° 435594"
    assert [decision.citation for decision in DECISIONS[1:]] == [
        "TA Cergy-Pontoise, ord., 2 novembre 2020, n° 2010725",
        "TA Paris, ord., 3 novembre 2020, n° 2016798/9",
        "CE, 27 novembre 2019, n° 422516",
        "CE, Section, 3 juin 2022, n° 452798",
    ]


def test_the_first_of_a_month_is_premier() -> None:
    assert french_date(date(2020, 7, 1)) == "1er juillet 2020"
    assert french_date(date(2020, 12, 31)) == "31 décembre 2020"


def test_the_one_week_rejection_comes_first_and_says_why() -> None:
    first = DECISIONS[0]
    assert "n'ayant pas été effectuées la même semaine" in first.held_fr
    assert "du 13 au 18 septembre 2019" in first.held_fr
    assert len({decision.number for decision in DECISIONS}) == len(DECISIONS)
