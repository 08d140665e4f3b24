"""When a site changed: `creneau parse --explain` and `creneau report NAME`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import FIXTURES
from creneau import redact
from creneau.cli import cli
from creneau.evidence.report import scrub_html, scrub_json, scrub_text
from creneau.page import Page
from creneau.store import pages as archive

SECRET = "s3cret-Pa55word"


def test_explain_names_the_rule_and_where_each_slot_was_read() -> None:
    page = FIXTURES / "ezbooking" / "week-grid-bare-3-free.html"
    done = CliRunner().invoke(cli, ["parse", "ezbooking", str(page), "--json", "--explain"])
    line = json.loads(done.stdout)
    assert done.exit_code == 0
    assert line["rule"] == "SLOT_LINK"
    assert line["read_from"] == [
        'a[href="/booking/create/13525/5/1796112000"]',
        'a[href="/booking/create/13525/5/1796112900"]',
        'a[href="/booking/create/13525/5/1796304600"]',
    ]
    plain = CliRunner().invoke(cli, ["parse", "ezbooking", str(page), "--explain"])
    assert "decided by SLOT_LINK" in plain.stdout
    assert 'read from a[href="/booking/create/13525/5/1796112900"]' in plain.stdout


def test_without_explain_the_json_line_is_unchanged() -> None:
    page = FIXTURES / "ezbooking" / "no-slot.html"
    done = CliRunner().invoke(cli, ["parse", "ezbooking", str(page), "--json"])
    assert set(json.loads(done.stdout)) == {
        "file",
        "kind",
        "status",
        "detail",
        "choices",
        "slots",
        "facts",
    }


def test_a_page_loses_tokens_sessions_and_personal_data_but_not_its_slots() -> None:
    markup = (
        '<meta name="csrf-token" content="abcDEF123">'
        '<form action="/rdv;jsessionid=0A1B2C?CTX=ctx-value&amp;step=2">'
        '<input type="hidden" name="CTX" value="ctx-value">'
        '<input type="text" name="email" value="jeanne.dupont@example.org">'
        '<input type="radio" name="planning" value="14007">'
        "</form><p>Contact : 06 12 34 56 78 ou jeanne.dupont@example.org</p>"
        '<a href="/booking/create/1001/5/1796112000">libre</a>'
        '<a href="/next?token=tok-123&amp;page=2">suite</a>'
    )
    scrubbed = scrub_html(markup)
    for gone in ("abcDEF123", "0A1B2C", "ctx-value", "jeanne.dupont", "06 12 34 56 78", "tok-123"):
        assert gone not in scrubbed
    for kept in ('value="14007"', "/booking/create/1001/5/1796112000", "page=2", "step=2"):
        assert kept in scrubbed


def test_json_loses_sensitive_keys_and_strings() -> None:
    data = {
        "CTX": "ctx",
        "slots": [
            {"datetime": "2026-12-01T09:00:00+01:00", "callback_url": "https://m.fr/?token=x1"}
        ],
        "contact": {"email": "a@b.fr", "telephone": "0612345678"},
    }
    assert scrub_json(data) == {
        "CTX": "removed",
        "slots": [
            {"datetime": "2026-12-01T09:00:00+01:00", "callback_url": "https://m.fr/?token=removed"}
        ],
        "contact": {"email": "removed", "telephone": "removed"},
    }


def test_registered_secrets_are_masked_in_any_text() -> None:
    redact.register(SECRET)
    assert scrub_text(f"password is {SECRET}.") == "password is ***."


@pytest.fixture
def config_with_a_kept_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SITE_PW", SECRET)
    config = tmp_path / "config.toml"
    config.write_text(f"""
[creneau]
database = "sqlite:///creneau.db"
contact = "tests@example.org"
data_dir = "{tmp_path / "data"}"
[[target]]
name = "nanterre"
system = "ezbooking"
url = "http://admin:${{SITE_PW}}@127.0.0.1:9/booking/create/1001"
""")
    changed = Page.from_file(FIXTURES / "ezbooking" / "changed-layout.html")
    with_token = changed.body.replace(
        b"</body>", b'<input type="hidden" name="token" value="tok-987"></body>'
    )
    archive.keep_page(
        tmp_path / "data" / "pages",
        "nanterre",
        Page("", 200, with_token, {"content-type": "text/html"}),
        datetime(2026, 1, 1, tzinfo=UTC),
    )
    return config


def test_report_gathers_scrubbed_pages_their_readings_and_masked_settings(
    config_with_a_kept_page: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    done = CliRunner().invoke(
        cli, ["report", "nanterre", "--config", str(config_with_a_kept_page), "--out", str(out)]
    )
    assert done.exit_code == 0, done.output
    (folder,) = out.iterdir()
    pages = sorted(path.name for path in (folder / "pages").iterdir())
    assert pages == [
        "01-20260101T000000Z-" + pages[0].split("-", 2)[2].split(".")[0] + ".html",
        pages[0] + ".reading.json",
    ]
    reading = json.loads((folder / "pages" / pages[1]).read_text())
    assert (reading["status"], reading["same_reading_as_received"]) == ("unknown", True)
    assert reading["rule"]
    everything = "".join(path.read_text() for path in folder.rglob("*") if path.is_file())
    assert "tok-987" not in everything
    assert SECRET not in everything
    about = json.loads((folder / "about.json").read_text())
    assert about["target"]["url"] == "http://127.0.0.1:9/booking/create/1001"
    assert about["target"]["name"] == "nanterre"
