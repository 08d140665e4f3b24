"""lettre.txt: the letter states the record's facts and nothing it does not show (no "no slot"
past a slot), cites the decisions by reference, keeps every value from the config, the store
or a page on one line, and takes an association's own template, whose mistakes are one line
naming the file and the line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from creneau.evidence.coverage import build_coverage
from creneau.evidence.facts import Facts
from creneau.evidence.letter import PLACEHOLDERS, letter_text
from creneau.evidence.pages import Pages
from creneau.evidence.period import EvidenceError, Period
from creneau.evidence.references import DECISIONS
from creneau.results import Status
from creneau.store.evidence import TargetPeriod
from creneau.store.records import CheckRecord
from harness.records import check_record

PARIS = ZoneInfo("Europe/Paris")
URL = "https://pref.example/booking/create/989"
MONDAY = datetime(2026, 11, 2, tzinfo=PARIS)  # four ISO weeks: 2 to 29 November 2026
FOUR_WEEKS = Period(MONDAY.astimezone(UTC), (MONDAY + timedelta(days=28)).astimezone(UTC))


def check(number: int, at: datetime, status: Status, slots: int = 0) -> CheckRecord:
    http_status = 503 if status == Status.OVERLOADED else 200
    return check_record(
        at,
        status,
        number=number,
        target="paris-etudiant",
        http_status=http_status,
        slot_count=slots,
    )


def every_other_day(last: Status = Status.NONE, slots: int = 0) -> list[CheckRecord]:
    """14 checks at 09:00, every other day for four weeks; the 2nd overloaded, the last
    `last`."""
    checks = [check(n, MONDAY + timedelta(days=2 * n, hours=9), Status.NONE) for n in range(14)]
    checks[1] = check(1, checks[1].started_at, Status.OVERLOADED)
    checks[-1] = check(13, checks[-1].started_at, last, slots)
    return checks


def facts_of(checks: list[CheckRecord], target: str = "paris-etudiant") -> Facts:
    return Facts(
        target=target,
        system="ezbooking",
        url=URL,
        zone=PARIS,
        period=FOUR_WEEKS,
        records=TargetPeriod(tuple(checks), (), ()),
        pages=Pages({}, 0, 0),
        keep_pages=False,
        retention=timedelta(days=90),
        generated_at=FOUR_WEEKS.end,
    )


def letter(facts: Facts, template: Path | None = None, applicant: str | None = None) -> str:
    return letter_text(facts, build_coverage(facts), template, applicant)


def paragraphs(text: str) -> list[str]:
    return text.split("\n\n")


def test_a_four_week_history_without_slot_says_so_in_exact_sentences() -> None:
    text = letter(facts_of(every_other_day()))
    assert paragraphs(text)[0] == "\n".join(PLACEHOLDERS.values())
    assert "Objet : demande de rendez-vous — paris-etudiant" in text
    assert (
        "Je sollicite un rendez-vous pour la démarche « paris-etudiant », dont la prise de "
        f"rendez-vous se fait en ligne à l'adresse {URL}."
    ) in paragraphs(text)
    assert (
        "Entre le lundi 2 novembre 2026 et le dimanche 29 novembre 2026 (fuseau Europe/Paris), "
        "14 tentatives de prise de rendez-vous ont été enregistrées sur 14 jours distincts "
        "répartis sur 4 semaines distinctes (semaines du lundi au dimanche)."
    ) in paragraphs(text)
    assert (
        "Aucun créneau n'a été proposé lors de ces tentatives. Le site a indiqué explicitement "
        "l'absence de créneau 13 fois ; 1 tentative n'a pas permis de consulter les "
        "disponibilités (accès refusé, site surchargé, fermé, CAPTCHA, erreur ou page non "
        "reconnue). Le relevé daté de ces tentatives est joint à ce courrier."
    ) in paragraphs(text)
    assert (
        "Je vous prie de bien vouloir me communiquer une date de rendez-vous ou, à défaut, de "
        "m'indiquer une solution de substitution permettant de déposer ma demande."
    ) in paragraphs(text)
    references = "\n".join(f"- {decision.citation}" for decision in DECISIONS)
    assert f"Références :\n{references}" in paragraphs(text)
    assert "- CE, 10 juin 2020, n° 435594" in text.splitlines()
    assert text.endswith("\n[Signature]\n")


def test_a_history_that_saw_slots_never_says_none_was_offered() -> None:
    text = letter(facts_of(every_other_day(last=Status.AVAILABLE, slots=2)))
    assert (
        "Des créneaux ont été proposés lors de 1 tentative sur 14. Le site a indiqué "
        "explicitement l'absence de créneau 12 fois ; 1 tentative n'a pas permis de consulter "
        "les disponibilités (accès refusé, site surchargé, fermé, CAPTCHA, erreur ou page non "
        "reconnue). Le relevé daté de ces tentatives est joint à ce courrier."
    ) in paragraphs(text)
    assert "Aucun créneau" not in text


def test_no_attempt_is_said_plainly() -> None:
    text = letter(facts_of([]))
    assert (
        "Aucune tentative de prise de rendez-vous n'a été enregistrée entre le lundi 2 "
        "novembre 2026 et le dimanche 29 novembre 2026."
    ) in paragraphs(text)
    assert "Aucun créneau" not in text


def test_the_applicant_replaces_the_name_placeholder() -> None:
    text = letter(facts_of(every_other_day()), applicant="Awa\nDiallo\x1b[31m")
    assert text.startswith("Awa Diallo␛[31m\n[Adresse postale]\n")
    assert "[Nom et prénom]" not in text
    assert text.endswith("\nAwa Diallo␛[31m\n[Signature]\n")


def test_a_hostile_target_name_and_url_stay_on_one_line() -> None:
    hostile = "paris\nObjet : faux\r\x00\u202eetudiant\x85fin"
    facts = facts_of(every_other_day(), target=hostile)
    facts = Facts(**{**facts.__dict__, "url": URL + "\n\x07injected"})
    text = letter(facts)
    (subject,) = [line for line in text.splitlines() if line.startswith("Objet")]
    assert subject == "Objet : demande de rendez-vous — paris Objet : faux ␀\ufffdetudiant fin"
    assert f"l'adresse {URL} ␇injected." in text
    assert all(line.isprintable() for line in text.splitlines())


def test_an_association_template_gets_the_same_values(tmp_path: Path) -> None:
    own = tmp_path / "notre-lettre.txt.j2"
    own.write_text(
        "{{ sender_name }} — {{ target }} : {{ attempts }} essais, {{ weeks }} semaines, "
        "{{ days }} jours, créneaux : {{ 'oui' if slots_offered else 'non' }}.\n"
        "{% filter paragraph %}du {{ first_day }}\nau {{ last_day }}{% endfilter %}\n"
        "{{ references | join(' ; ') }}\n",
        encoding="utf-8",
    )
    text = letter(facts_of(every_other_day()), template=own)
    citations = " ; ".join(decision.citation for decision in DECISIONS)
    assert text == (
        "[Nom et prénom] — paris-etudiant : 14 essais, 4 semaines, 14 jours, créneaux : non.\n"
        "du lundi 2 novembre 2026 au dimanche 29 novembre 2026\n"
        f"{citations}\n"
    )


@pytest.mark.parametrize(
    ("source", "line", "problem"),
    [
        ("Bonjour\n{{ target }\n", 2, "unexpected '}'"),
        ("Bonjour\n\n{{ sender_fax }}\n", 3, "'sender_fax' is undefined"),
        ("{% for x in references %}\n{{ x.__class__ }}\n", 2, "Unexpected end of template"),
        ("Bonjour\n{{ attempts / 0 }}\n", 2, "division by zero"),
    ],
)
def test_a_broken_template_is_one_line_naming_the_file_and_line(
    tmp_path: Path, source: str, line: int, problem: str
) -> None:
    own = tmp_path / "lettre.txt.j2"
    own.write_text(source, encoding="utf-8")
    with pytest.raises(EvidenceError) as failure:
        letter(facts_of(every_other_day()), template=own)
    message = str(failure.value)
    assert message.startswith(f"letter template {own}, line {line}: ")
    assert problem in message
    assert "\n" not in message


def test_the_sandbox_refuses_what_a_letter_has_no_use_for(tmp_path: Path) -> None:
    own = tmp_path / "lettre.txt.j2"
    own.write_text("{{ references.__class__.__mro__ }}\n", encoding="utf-8")
    with pytest.raises(EvidenceError) as failure:
        letter(facts_of(every_other_day()), template=own)
    assert str(failure.value).startswith(f"letter template {own}, line 1: ")


def test_a_missing_or_unreadable_template_is_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "absente.txt.j2"
    with pytest.raises(EvidenceError, match=r"^letter template .*absente\.txt\.j2: no such file$"):
        letter(facts_of(every_other_day()), template=missing)
    latin = tmp_path / "latin.txt.j2"
    latin.write_bytes("Bonjour\nMadame la Pr\xe9f\xe8te\n".encode("latin-1"))
    with pytest.raises(EvidenceError, match=r"latin\.txt\.j2, line 2: not UTF-8 text$"):
        letter(facts_of(every_other_day()), template=latin)
