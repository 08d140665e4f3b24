"""A check's detail is a code and its parameters, rendered per language and time zone from
one catalogue (creneau.detail_texts): every code has a text in French and in English naming
the same parameters, a detail survives the store's JSON, and an older row's English sentence
is shown as it is."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import get_args
from zoneinfo import ZoneInfo

import pytest
from jinja2 import Environment, meta

from creneau.detail_texts import TEXTS, Code
from creneau.details import LANGUAGES, Detail, recorded, render

PARIS = ZoneInfo("Europe/Paris")
CODES = get_args(Code)


def parameters(text: str) -> set[str]:
    env = Environment()
    filters = ("q", "moment", "day", "weekday", "clock", "number", "counted")
    env.filters.update(dict.fromkeys(filters, str))
    return meta.find_undeclared_variables(env.parse(text))


def test_every_code_has_a_text_in_each_language_and_no_text_lacks_a_code() -> None:
    assert len(set(CODES)) == len(CODES)
    for language in LANGUAGES:
        assert set(TEXTS[language]) == set(CODES), language


@pytest.mark.parametrize("code", CODES)
def test_both_languages_name_the_same_parameters(code: str) -> None:
    named = {language: parameters(TEXTS[language][code]) for language in LANGUAGES}  # type: ignore[index]
    assert named["fr"] == named["en"]


def test_a_detail_reads_in_the_language_and_the_zone_asked() -> None:
    until = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=70)
    reason = Detail("breaker.probe_failed")
    cooling = Detail("fetch.cooling_down", host="pref.example", reason=reason, until=until)
    paris = until.astimezone(PARIS)
    assert render(cooling, "fr", PARIS) == (
        "pref.example est en pause (la vérification d'essai a échoué) ; prochain essai le "
        f"{paris:%d/%m/%Y à %H:%M:%S}"
    )
    assert render(cooling, "en", PARIS) == (
        "pref.example is cooling down (the probe check failed); next attempt at "
        f"{paris:%Y-%m-%d %H:%M:%S}"
    )
    # str() is the English text in UTC: what the logs say.
    assert str(cooling).endswith(until.strftime("%Y-%m-%d %H:%M:%S"))


def test_french_counts_and_quotes_as_french_does() -> None:
    said = Detail("page_says", phrase="Aucun rendez-vous")
    assert render(said, "fr") == "la page dit « Aucun rendez-vous »"
    assert render(said, "en") == 'the page says "Aucun rendez-vous"'
    assert render(Detail("html.slots", slots=1, guichets=1), "fr") == "1 créneau"
    assert render(Detail("html.slots", slots=0, guichets=1), "fr") == "0 créneau"
    assert render(Detail("html.slots", slots=0, guichets=1), "en") == "0 slots"
    assert render(Detail("html.slots", slots=3, guichets=2), "fr") == "3 créneaux à 2 guichets"


def test_a_detail_comes_back_from_its_json_with_its_types() -> None:
    detail = Detail(
        "joined",
        items=(
            Detail("rdvpref.no_free_day", since=date(2026, 5, 4), until=date(2026, 6, 29)),
            Detail("fetch.cooling_down", host="h", reason="HTTP 429", until=datetime.now(UTC)),
            Detail("ezbooking.desk_not_offered", desk="9", offered=("1", "2")),
        ),
    )
    again = Detail.from_json(detail.to_json())
    assert again == detail
    assert hash(again) == hash(detail)
    assert render(again, "fr", PARIS) == render(detail, "fr", PARIS)


def test_an_older_row_holding_an_english_sentence_is_shown_as_it_is() -> None:
    old = recorded(None, None, "3 desks: the page says there is no free slot")
    assert render(old, "fr", PARIS) == "3 desks: the page says there is no free slot"
    new = recorded("ezbooking.no_free_slot", {}, "")
    assert render(new, "fr", PARIS) == "la page indique qu'il n'y a aucun créneau libre"


def test_a_code_or_parameters_this_version_does_not_know_are_named_not_fatal() -> None:
    stranger = Detail.from_json({"code": "from.a.newer.version", "params": {"n": {"x": 1}}})
    assert render(stranger, "fr") == "from.a.newer.version"
    changed = Detail.from_json({"code": "html.slots", "params": {"count": 3}})  # no "slots"
    assert render(changed, "fr") == "html.slots"
