"""The issue's "Done when", end to end through the command line: a generated history of four
weeks exported with a local time-stamping authority gives a dossier whose text states the
period, the attempts, the weeks and the references; `creneau evidence verify` and `openssl ts
-verify` accept it and refuse it after a byte changes; every rendering's band names its
page's SHA-256; a one-week history gets the warning. Needs Debian's chromium, OpenSSL and
poppler-utils (skipped, with the reason, without them)."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from creneau.cli import cli
from creneau.evidence.references import DECISIONS
from creneau.evidence.renderings import BAND_KEYWORD, png_text
from creneau.evidence.timestamp import CHAIN, TSR
from harness.evidence_history import History, generate
from harness.tsa import LocalTSA, local_tsa

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils"),
    pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl"),
    pytest.mark.skipif(
        not (os.environ.get("CRENEAU_CHROMIUM") or shutil.which("chromium")),
        reason="needs Debian's chromium (apt-get install chromium)",
    ),
]
NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTSA]:
    with local_tsa(tmp_path_factory.mktemp("tsa")) as serving:
        yield serving


def export(history: History, out: Path, *extra: str) -> Result:
    last_day = history.first_day + timedelta(days=history.days - 1)
    return CliRunner().invoke(
        cli,
        ["evidence", "nanterre-remise", "--config", str(history.config_path),
         "--since", history.first_day.isoformat(), "--until", last_day.isoformat(),
         "--out", str(out), *extra],
    )  # fmt: skip


def pdf_text(folder: Path) -> str:
    done = subprocess.run(
        ["pdftotext", "-layout", str(folder / "dossier.pdf"), "-"],
        capture_output=True,
        check=True,
    )
    return done.stdout.decode("utf-8")


def flat(text: str) -> str:
    return " ".join(text.split())


def verify(folder: Path, root: Path | None = None) -> Result:
    ca = ["--ca", str(root)] if root else []
    return CliRunner().invoke(cli, ["evidence", "verify", str(folder), "--language", "en", *ca])


def openssl_verifies(folder: Path, root: Path) -> bool:
    done = subprocess.run(
        ["openssl", "ts", "-verify", "-data", "MANIFEST.sha256", "-in", TSR,
         "-CAfile", str(root), "-untrusted", CHAIN],
        cwd=folder, capture_output=True, check=False,
    )  # fmt: skip
    return done.returncode == 0


@pytest.fixture(scope="module")
def four_weeks(tmp_path_factory: pytest.TempPathFactory, tsa: LocalTSA) -> tuple[History, Path]:
    folder = tmp_path_factory.mktemp("four-weeks")
    history = generate(folder, weeks=4, now=NOW)
    out = folder / "dossier"
    done = export(history, out, "--tsa", tsa.url, "--tsa-ca", str(tsa.root))
    history.store.close()
    assert done.exit_code == 0, done.output
    return history, out


def test_the_dossier_states_period_attempts_weeks_and_references(
    four_weeks: tuple[History, Path],
) -> None:
    history, out = four_weeks
    text = flat(pdf_text(out))
    first, last = history.first_day, history.first_day + timedelta(days=history.days - 1)
    assert f"{first:%d/%m/%Y} – {last:%d/%m/%Y}" in text  # every page's footer
    assert f"Tentatives : {history.checks}" in text
    assert "Semaines ISO distinctes avec au moins une tentative : 4" in text
    assert f"Jours avec au moins une tentative : {history.days}" in text
    assert "aucun créneau n'a été proposé" in text
    for decision in DECISIONS:
        assert flat(decision.citation) in text
    # The letter, and the English part after the French.
    assert "Objet : demande de rendez-vous — nanterre-remise" in text
    assert text.index("Relevé des tentatives") < text.index("English version: record of the")
    # Four weeks every day: no warning.
    assert "moins de 3" not in text


def test_verify_and_openssl_accept_the_untouched_dossier(
    four_weeks: tuple[History, Path], tsa: LocalTSA
) -> None:
    _, out = four_weeks
    proved = verify(out, tsa.root)
    assert proved.exit_code == 0, proved.output
    assert openssl_verifies(out, tsa.root)
    manifest = (out / "MANIFEST.sha256").read_bytes()
    assert hashlib.sha256(manifest).hexdigest() in proved.output


def test_a_changed_byte_in_the_dossier_a_rendering_or_the_token_fails(
    four_weeks: tuple[History, Path], tsa: LocalTSA, tmp_path: Path
) -> None:
    _, out = four_weeks
    rendering = sorted((out / "renderings").iterdir())[0].relative_to(out).as_posix()
    for name in ("dossier.pdf", rendering, "lettre.txt", "MANIFEST.sha256", TSR):
        copy = tmp_path / name.replace("/", "_")
        shutil.copytree(out, copy)
        path = copy / name
        body = bytearray(path.read_bytes())
        body[len(body) // 2] ^= 0x01
        path.write_bytes(bytes(body))
        assert verify(copy, tsa.root).exit_code == 1, name
        if name == "MANIFEST.sha256":
            assert not openssl_verifies(copy, tsa.root)


def test_every_rendering_band_names_its_page_hash(four_weeks: tuple[History, Path]) -> None:
    history, out = four_weeks
    renderings = sorted((out / "renderings").iterdir())
    # One page a day and result: each day's "no slot" page, and the refusals' one page.
    assert len(renderings) == history.days + 1
    text = flat(pdf_text(out))
    for image in renderings:
        sha256 = image.name.split(".")[0]
        page = next((out / "pages").glob(f"{sha256}.*"))
        assert hashlib.sha256(page.read_bytes()).hexdigest() == sha256
        band = png_text(image.read_bytes(), BAND_KEYWORD)
        assert band is not None
        assert sha256 in band
        assert sha256 in text.replace(" ", "")  # the band, printed as text in the PDF


def test_a_one_week_history_gets_the_warning(tmp_path: Path) -> None:
    history = generate(tmp_path, weeks=1, now=NOW)
    out = tmp_path / "dossier"
    done = export(history, out, "--max-renderings", "2")
    history.store.close()
    assert done.exit_code == 0, done.output
    assert "Ce relevé couvre 1 semaine ISO distincte (moins de 3)" in flat(done.output)
    assert "Ce relevé couvre 1 semaine ISO distincte (moins de 3)" in flat(pdf_text(out))
    assert "This record covers 1 distinct ISO week (fewer than 3)" in flat(pdf_text(out))
    summary = (out / "summary.csv").read_text(encoding="utf-8-sig")
    assert re.search(r"^thinness,few_weeks;few_days;short_span\r?$", summary, re.MULTILINE)
    assert verify(out).exit_code == 0
