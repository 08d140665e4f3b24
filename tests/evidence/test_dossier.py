"""dossier.pdf, read back as a person or a court clerk would read it: `pdftotext` shows the
period, the attempts and weeks, the warning of a thin record, the references, the record's
SHA-256 and each rendering's band, French first and English after; the fonts are embedded;
text from a page prints literally and breaks nothing. Needs poppler-utils (Debian's package,
installed by .ci/run): skipped, with the reason, without it."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from creneau.evidence import Pages
from creneau.evidence.calendar import OUTCOME_MARKS
from creneau.evidence.coverage import DayOutcome, Thinness, build_coverage
from creneau.evidence.dossier import write_dossier
from creneau.evidence.facts import Facts
from creneau.evidence.period import Period
from creneau.evidence.references import DECISIONS
from creneau.evidence.renderings import Rendering
from creneau.evidence.texts import coverage_warning
from creneau.results import Status
from creneau.store import CheckRecord
from creneau.store.evidence import TargetPeriod
from creneau.store.records import HourCount
from harness.records import check_record

PARIS = ZoneInfo("Europe/Paris")
URL = "https://pref.example/booking/create/989"
# The period starts on a Monday at local midnight; every moment below derives from it.
MONDAY = datetime(2026, 11, 2, tzinfo=PARIS)
HOSTILE = "<b>x</b> **y** \x07 &amp; <font size=40>"
LETTER = "Madame, Monsieur,\n\nJe sollicite un rendez-vous « titre de séjour » l’œuvre.\n"
NNBSP = "\u202f"
NO_SLOT_MARK = re.escape(OUTCOME_MARKS[DayOutcome.NO_SLOT])

pytestmark = pytest.mark.skipif(
    not (shutil.which("pdftotext") and shutil.which("pdffonts")),
    reason="poppler-utils (pdftotext, pdffonts) is not installed: apt-get install poppler-utils",
)


def check(at: datetime, status: Status, number: int) -> CheckRecord:
    http_status = 200 if status == Status.NONE else 503
    return check_record(at, status, number=number, http_status=http_status)


def history(weeks: int) -> list[CheckRecord]:
    """Every weekday of `weeks` weeks: at 09:00 and 14:30 the site says there is no slot, at
    17:00 it is overloaded."""
    checks = []
    for offset in range(weeks * 7):
        day = MONDAY + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        for hour, minute, status in ((9, 0, Status.NONE), (14, 30, Status.NONE),
                                     (17, 0, Status.OVERLOADED)):  # fmt: skip
            at = day.replace(hour=hour, minute=minute)
            checks.append(check(at, status, len(checks) + 1))
    return checks


def facts_of(checks: list[CheckRecord], weeks: int, target: str = "nanterre") -> Facts:
    end = MONDAY + timedelta(days=weeks * 7)
    return Facts(
        target=target,
        system="ezbooking",
        url=URL,
        zone=PARIS,
        period=Period(MONDAY.astimezone(UTC), end.astimezone(UTC)),
        records=TargetPeriod(tuple(checks), (), ()),
        pages=Pages({}, max_pages=10, left_out=0),
        keep_pages=True,
        retention=timedelta(days=90),
        generated_at=(end + timedelta(hours=2)).astimezone(UTC),
    )


def rendering(
    folder: Path, number: int, band_extra: str = "", size: tuple[int, int] = (320, 480)
) -> Rendering:
    """A PNG in renderings/, as the rendering step writes one."""
    body = f"page {number}".encode()
    sha = hashlib.sha256(body).hexdigest()
    image = f"renderings/{sha}.png"
    (folder / "renderings").mkdir(exist_ok=True)
    Image.new("RGB", size, (200, 220, 255)).save(folder / image)
    received = (MONDAY + timedelta(days=number, hours=9)).astimezone(UTC)
    band = (
        f"{URL} — reçue le 03/11/2026 à 09:00:00 (Europe/Paris) — HTTP 200{band_extra}",
        f"SHA-256 {sha}",
    )
    return Rendering(sha, image, f"pages/{sha}.html", URL, received, 200, band, *size)


def text_of(pdf: Path) -> str:
    done = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True, timeout=60)  # fmt: skip
    return done.stdout


def flat(text: str) -> str:
    """One line, single spaces: a sentence wrapped across lines or columns reads whole."""
    return re.sub(r"\s+", " ", text)


def pages(pdf: Path) -> int:
    done = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True,
                          timeout=60)  # fmt: skip
    return int(re.search(r"^Pages:\s+(\d+)$", done.stdout, re.M).group(1))  # type: ignore[union-attr]


RECORD_SHA = hashlib.sha256(b"the manifest of the record").hexdigest()


def write(tmp_path: Path, weeks: int, renderings: int = 1, **options: str) -> Path:
    facts = facts_of(history(weeks), weeks)
    pdf = tmp_path / "dossier.pdf"
    made = [rendering(tmp_path, n) for n in range(1, renderings + 1)]
    write_dossier(pdf, facts, build_coverage(facts), made, LETTER, RECORD_SHA, **options)
    return pdf


def test_the_dossier_states_the_record_in_french_then_english(tmp_path: Path) -> None:
    pdf = write(tmp_path, weeks=4, applicant="Aïcha Benoît-Lœwy")
    text = flat(text_of(pdf))
    french, english = text.split("English version:")
    # 4 weeks of 5 weekdays, 3 attempts each.
    assert "Relevé des tentatives de prise de rendez-vous" in french
    assert "Aïcha Benoît-Lœwy" in french
    assert "Du lundi 2 novembre 2026 à 00:00:00 au lundi 30 novembre 2026 à 00:00:00" in french
    assert "soit du 2026-11-01 23:00:00 au 2026-11-29 23:00:00 (UTC)" in french
    assert "aucun créneau n'a été proposé lors des 60 vérifications effectuées" in french
    assert "Tentatives : 60" in french
    assert "Semaines ISO distinctes avec au moins une tentative : 4 (sur 4" in french
    assert "Jours avec au moins une tentative : 20 (sur 28 jours)" in french
    assert "de 9 h à 10 h, de 14 h à 15 h et de 17 h à 18 h" in french
    assert "2026-W45 02/11/2026 5 15" in french  # the week table
    assert "02/11/2026 lundi 3 09:00 17:00 2 0 1" in french  # the day table
    assert "checks.csv" in french
    # The calendar: each weekday its "no slot" mark and attempts (pdftotext may drop the
    # space of a centred cell).
    assert len(re.findall(rf"{NO_SLOT_MARK} ?3\b", french)) == 20
    assert len(re.findall(rf"{NO_SLOT_MARK} ?3\b", english)) == 20
    thin = build_coverage(facts_of(history(1), 1))  # a week's warning is not in four weeks'
    assert flat(coverage_warning(thin, "fr")) not in french
    assert "« titre de séjour » l’œuvre" in french  # the letter
    assert f"SHA-256 {hashlib.sha256(b'page 1').hexdigest()}" in french  # the band, as text
    assert "reçue le 03/11/2026 à 09:00:00" in french
    assert RECORD_SHA in french
    assert "sha256sum -c RECORD.sha256" in french
    for decision in DECISIONS:  # docs/references.md: each checked against a public page
        assert decision.citation in french
        assert flat(decision.held_fr) in french
        assert decision.citation in english
        assert flat(decision.held_en) in english
        assert decision.source in re.sub(r"\s", "", french)  # a long address wraps
    assert "CE, 10 juin 2020, n° 435594" in french
    assert "From 2026-11-02 00:00:00 to 2026-11-30 00:00:00 (Europe/Paris time)" in english
    assert "no slot was offered in any of the 60 checks made" in english
    assert "Attempts: 60" in english
    assert "Distinct ISO weeks with at least one attempt: 4" in english
    assert RECORD_SHA in english
    total = pages(pdf)
    assert f"nanterre — 02/11/2026 – 29/11/2026 page 1 / {total}" in text
    assert f"page {total} / {total}" in text


def test_a_one_week_history_gets_the_warning_in_both_languages(tmp_path: Path) -> None:
    text = flat(text_of(write(tmp_path, weeks=1)))
    french, english = text.split("English version:")
    coverage = build_coverage(facts_of(history(1), 1))
    assert coverage.thinness == (Thinness.FEW_WEEKS, Thinness.FEW_DAYS, Thinness.SHORT_SPAN)
    warning_fr, warning_en = coverage_warning(coverage, "fr"), coverage_warning(coverage, "en")
    assert "semaine" in warning_fr
    assert "week" in warning_en
    assert flat(warning_fr) in french
    assert flat(warning_en) in english
    assert "CE, 10 juin 2020, n° 435594" in french


def test_the_fonts_are_embedded_and_french_prints_exactly(tmp_path: Path) -> None:
    facts = facts_of(history(3), 3, target=f"Hauts-de-Seine{NNBSP}: « œuvre » à l’accueil")
    pdf = tmp_path / "dossier.pdf"
    write_dossier(pdf, facts, build_coverage(facts), [], "Lettre", RECORD_SHA)
    # pdftotext writes the narrow no-break space as a space.
    assert "Hauts-de-Seine : « œuvre » à l’accueil" in flat(text_of(pdf))
    done = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True,
                          timeout=60)  # fmt: skip
    fonts = done.stdout.splitlines()[2:]
    assert fonts
    for line in fonts:  # name, type, encoding, emb, sub, uni
        assert "DejaVuSans" in line
        assert re.search(r"\byes\s+yes\s+yes\b", line), line


def test_text_from_a_page_prints_literally(tmp_path: Path) -> None:
    facts = facts_of(history(1), 1, target=HOSTILE)
    pdf = tmp_path / "dossier.pdf"
    made = [rendering(tmp_path, 1, band_extra=f" — {HOSTILE}")]
    write_dossier(pdf, facts, build_coverage(facts), made, HOSTILE, RECORD_SHA,
                  applicant=HOSTILE + "\U0001f600 \U00013000")  # fmt: skip
    text = flat(text_of(pdf))
    literal = "<b>x</b> **y** \ufffd &amp; <font size=40>"  # BEL: its stand-in is not in DejaVu
    assert text.count(literal) >= 4  # name, applicant, band, letter, footer
    assert f"{literal}\ufffd \ufffd" in text  # characters outside the font: replaced


def test_no_rendering_prints_why(tmp_path: Path) -> None:
    problem = "Aucun moteur de rendu (Chromium) n'a été trouvé : les pages n'ont pas été rendues."
    pdf = write(tmp_path, weeks=1, renderings=0, renderings_problem=problem)
    assert problem in flat(text_of(pdf))


def test_each_rendering_gets_its_page(tmp_path: Path) -> None:
    counts = []
    for renderings in (1, 3):
        folder = tmp_path / str(renderings)
        folder.mkdir()
        counts.append(pages(write(folder, weeks=2, renderings=renderings)))
    assert counts[1] == counts[0] + 2


def test_a_page_taller_than_a_sheet_is_cut_into_parts_under_its_band(tmp_path: Path) -> None:
    facts = facts_of(history(1), 1)
    pdf = tmp_path / "dossier.pdf"
    tall = rendering(tmp_path, 1, size=(1280, 3 * 1600))  # three sheets at full width
    write_dossier(pdf, facts, build_coverage(facts), [tall], LETTER, RECORD_SHA)
    text = flat(text_of(pdf))
    for part in (1, 2, 3):
        assert f"Page 1 / 1 — partie {part} / 3" in text
    assert text.count(f"SHA-256 {tall.sha256}") == 3
    total = pages(pdf)
    assert f"page {total} / {total}" in text  # the first layout counted the same pages


def test_an_image_that_cannot_be_read_is_said_and_the_rest_printed(tmp_path: Path) -> None:
    facts = facts_of(history(1), 1)
    pdf = tmp_path / "dossier.pdf"
    broken = rendering(tmp_path, 1)
    (tmp_path / broken.image).write_bytes(b"not a PNG")
    write_dossier(pdf, facts, build_coverage(facts), [broken], LETTER, RECORD_SHA)
    text = flat(text_of(pdf))
    assert f"Image illisible : {broken.image}" in text
    assert f"SHA-256 {broken.sha256}" in text
    assert RECORD_SHA in text


def test_a_day_known_only_by_hourly_counts_has_no_first_or_last_time(tmp_path: Path) -> None:
    """Past the retention, checks are rolled up into hourly counts: the day's row says how many
    without inventing the times."""
    rolled = (MONDAY + timedelta(hours=10)).astimezone(UTC)
    facts = replace(
        facts_of(history(1)[3:], 1),  # Monday's three checks rolled up into two hours
        records=TargetPeriod(
            tuple(history(1)[3:]),
            (
                HourCount("nanterre", rolled, Status.NONE.value, 4, 4),
                HourCount("nanterre", rolled + timedelta(hours=5), Status.OVERLOADED.value, 1, 1),
            ),
            (),
        ),
    )
    pdf = tmp_path / "dossier.pdf"
    write_dossier(pdf, facts, build_coverage(facts), [], LETTER, RECORD_SHA)
    text = flat(text_of(pdf))
    assert "02/11/2026 lundi 5 — — 4 0 1" in text
    assert "03/11/2026 mardi 3 09:00 17:00 2 0 1" in text
