"""The configuration file: what loads, and the exact one-line message for each mistake."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from creneau import config as config_module
from creneau.cli import cli
from creneau.config import (
    Channel,
    ConfigError,
    HostSettings,
    Settings,
    describe_errors,
    load_config,
)
from creneau.dates import compact_duration
from creneau.redact import redact
from creneau.sources import SYSTEMS, target_models
from creneau.sources import get as target_system
from creneau.startup import prepare_config
from creneau.targets import (
    LONGEST_DURATION,
    NAME_PATTERN,
    Burst,
    DurationTooLong,
    TargetBase,
    parse_duration,
    shown,
)

ROOT = Path(__file__).resolve().parents[2]
NAME_RULE = (
    "may contain only letters without accents, digits, '.', '_' and '-', starting with a "
    "letter, a digit or '_'"
)
KNOWN = ", ".join(SYSTEMS)

GOOD = """
[creneau]
database = "sqlite:///creneau.db"
contact = "you@example.org"

[[notify]]
name = "phone"
urls = ["ntfy://ntfy.sh/topic", "tgram://${TEST_TOKEN}/42"]

[[target]]
name = "paris-etudiant"
system = "ezbooking"
url = "https://pprdv.interieur.gouv.fr/booking/create/989"
every = "5m"
notify = ["phone"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def errors_of(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as failure:
        prepare_config(write(tmp_path, text))
    path = str(tmp_path / "config.toml")
    assert all(line.startswith(f"{path}: ") and line.isprintable() for line in failure.value.lines)
    return [line.split(": ", 1)[1] for line in failure.value.lines]


def test_a_good_config_loads_with_secrets_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_TOKEN", "123456:SECRET-TOKEN")
    config = prepare_config(write(tmp_path, GOOD))
    target = config.targets[0]
    assert (target.name, target.system, target.every, target.jitter) == (
        "paris-etudiant",
        "ezbooking",
        timedelta(minutes=5),
        timedelta(seconds=30),
    )
    assert config.notify[0].urls[1].get_secret_value() == "tgram://123456:SECRET-TOKEN/42"
    assert "SECRET-TOKEN" not in repr(config)
    assert redact("sending to tgram://123456:SECRET-TOKEN/42") == "sending to ***"
    assert config.creneau.database == f"sqlite:///{tmp_path / 'creneau.db'}"


EXAMPLE = ROOT / "config.example.toml"
# A commented table header, or a commented `key = value` line at the start of a comment.
COMMENTED = re.compile(r"^# (\[.*|[a-z_]+ = .*)$")


def example_environment(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    for name in set(re.findall(r"\$\{(\w+)\}", text)):
        monkeypatch.setenv(name, "0a" * 16)  # hex digits: the form Apprise's Twilio URL needs
    monkeypatch.setenv("TWILIO_SID", "AC" + "0a" * 16)


def test_the_example_config_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    example_environment(monkeypatch, EXAMPLE.read_text(encoding="utf-8"))
    config = prepare_config(EXAMPLE)
    assert [target.name for target in config.targets] == ["nanterre-titres"]
    assert config.channels_for(config.targets[0])[0].name == "phone"
    assert config.warnings == []


def test_every_commented_setting_and_table_of_the_example_is_valid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    example_environment(monkeypatch, text)
    uncommented = "\n".join(
        found.group(1) if (found := COMMENTED.match(line)) else line for line in text.splitlines()
    )
    (tmp_path / "lettre.txt.j2").write_text("{{ target }}\n", encoding="utf-8")
    (tmp_path / "freetsa-cacert.pem").write_text("a root certificate\n", encoding="utf-8")
    config = prepare_config(write(tmp_path, uncommented))
    assert config.creneau.letter_template == tmp_path / "lettre.txt.j2"
    assert config.creneau.tsa == "https://freetsa.org/tsr"
    assert config.creneau.tsa_ca == tmp_path / "freetsa-cacert.pem"
    assert [(target.name, target.system) for target in config.targets] == [
        ("nanterre-titres", "ezbooking"),
        ("allier-titres", "rdvpref"),
        ("passeport-issy", "rdvsp"),
        ("passeport-paris-11", "ants"),
        ("nanterre-page", "html"),
    ]
    assert [channel.name for channel in config.notify] == ["phone", "sms"]
    settings = config.creneau
    assert (settings.database, settings.data_dir) == (
        f"sqlite:///{tmp_path / 'creneau.db'}",
        Path("/srv/creneau"),
    )
    assert (settings.retention, settings.keep_pages) == (timedelta(days=90), False)
    first = config.targets[0]
    assert (first.adaptive, first.within, first.burst is not None) == (
        False,
        timedelta(days=30),
        True,
    )
    assert set(config.hosts) == {"www.hauts-de-seine.gouv.fr"}
    assert set(config.templates) == {"new_slots"}


def settable_fields() -> list[tuple[str, str]]:
    models: list[type[BaseModel]] = [Settings, Channel, HostSettings, Burst, TargetBase]
    models += target_models()
    return sorted(
        {(f"{m.__module__}.{m.__name__}", field) for m in models for field in m.model_fields}
    )


@pytest.mark.parametrize(("model", "field"), settable_fields())
def test_every_setting_appears_in_the_example_at_least_commented(model: str, field: str) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert re.search(rf"^#? ?{field} = |[{{,] {field} = ", text, re.MULTILINE), (model, field)


def with_target(**fields: str) -> str:
    lines = "\n".join(f"{key} = {value}" for key, value in fields.items())
    return f'[creneau]\ncontact = "a@b.org"\n[[target]]\n{lines}\n'


BASE = {
    "name": '"paris-etudiant"',
    "system": '"ezbooking"',
    "url": '"https://pprdv.interieur.gouv.fr/booking/create/989"',
}

MISTAKES = [
    (
        with_target(**BASE, every='"10s"'),
        'target "paris-etudiant".every: must be at least 60s (got 10s)',
    ),
    (
        with_target(**BASE, every='"5 minutes"'),
        'target "paris-etudiant".every: expected a duration such as "90s", "5m" or "1h" '
        '(got "5 minutes")',
    ),
    (
        with_target(**BASE, every="300"),
        'target "paris-etudiant".every: expected a duration such as "90s", "5m" or "1h" (got 300)',
    ),
    (with_target(**BASE, evry='"5m"'), 'target "paris-etudiant".evry: unknown key'),
    (
        with_target(**{**BASE, "system": '"doctolib"'}),
        f'target "paris-etudiant".system: unknown system "doctolib" (known: {KNOWN})',
    ),
    (
        with_target(name='"x"', url=BASE["url"]),
        f'target "x": system is required (one of: {KNOWN})',
    ),
    (
        with_target(**{**BASE, "url": '"https://example.org/rdv"'}),
        'target "paris-etudiant".url: must look like https://<host>/booking/create/<id> '
        '(got "https://example.org/rdv")',
    ),
    (
        with_target(**{**BASE, "url": '"ftp://example.org/booking/create/1"'}),
        'target "paris-etudiant".url: must be an http(s) URL '
        '(got "ftp://example.org/booking/create/1")',
    ),
    (with_target(system=BASE["system"], url=BASE["url"]), "target[0].name: is required"),
    (
        with_target(**{**BASE, "name": '"a b"'}),
        f'target "a b".name: {NAME_RULE} (got "a b")',
    ),
    (
        with_target(**BASE, weeks="9"),
        'target "paris-etudiant".weeks: must be at most 6 (got 9)',
    ),
    (
        with_target(**BASE, notify='["sms"]'),
        'target "paris-etudiant".notify: no channel named "sms" (channels: none defined)',
    ),
    ('[creneau]\ncontact = "a@b.org"\n', "target: no target to watch (add a [[target]] table)"),
    ("[creneau]\n" + with_target(**BASE).split("\n", 2)[2], "creneau.contact: is required"),
    (
        with_target(**BASE).replace(
            'contact = "a@b.org"', 'contact = "a@b.org"\ntimezone = "Paris"'
        ),
        'creneau.timezone: unknown time zone "Paris" (e.g. "Europe/Paris")',
    ),
    (
        with_target(**BASE).replace("[creneau]", '[creneau]\ndatabase = "nonsense"'),
        'creneau.database: must be an SQLAlchemy URL such as "sqlite:///creneau.db"',
    ),
    (
        with_target(**BASE)
        + '[[notify]]\nname = "phone"\nurls = ["tgram://${NOT_SET_ANYWHERE}/1"]\n',
        'notify "phone".urls[0]: environment variable NOT_SET_ANYWHERE is not set',
    ),
    (
        with_target(**BASE) + '[[notify]]\nname = "phone"\nurls = ["just-a-token"]\n',
        'notify "phone".urls: each URL must look like scheme://… (see Apprise\'s URL list)',
    ),
    (
        with_target(**BASE) + '[[notify]]\nname = "phone"\nurls = []\n',
        'notify "phone".urls: must not be empty',
    ),
    (
        with_target(**BASE) + '[hosts."pprdv.interieur.gouv.fr"]\nper_minute = 60\n',
        'hosts."pprdv.interieur.gouv.fr".per_minute: must be at most 30 for a public host (got 60)',
    ),
    (
        with_target(**BASE) + with_target(**BASE).split("\n", 2)[2],
        'target "paris-etudiant": the name is used twice',
    ),
    (
        '[creneau]\ncontact = "a@b.org"\nfoo = 1\n' + with_target(**BASE).split("\n", 2)[2],
        "creneau.foo: unknown key",
    ),
    (
        "[creneau\ncontact = 1\n",
        "line 1, column 9: Expected ']' at the end of a table declaration (TOML syntax)",
    ),
]


ANTS = "https://api.rendezvouspasseport.ants.gouv.fr/api/SlotsFromPosition"


def full(
    creneau: str = "",
    notify: str = "",
    target: str = "",
    extra: str = "",
    system: str = "ezbooking",
    url: str = "https://www.example.gouv.fr/booking/create/1",
) -> str:
    return (
        f'[creneau]\ncontact = "a@b.org"\n{creneau}\n[[notify]]\nname = "phone"\n'
        f'urls = ["json://127.0.0.1:9/"]\n{notify}\n[[target]]\nname = "t"\n'
        f'system = "{system}"\nurl = "{url}"\n{target}\n{extra}\n'
    )


MISTAKES += [
    (
        full(notify='kinds = ["sms"]'),
        'notify "phone".kinds[0]: must be "slots", "trouble", "heartbeat" or "release_announced" '
        '(got "sms")',
    ),
    (
        full(notify='quiet = "23-7"'),
        'notify "phone".quiet: expected hours such as "23:00-07:00" (got "23-7")',
    ),
    (
        full(notify='quiet = "23:00-23:00"'),
        'notify "phone".quiet: "23:00-23:00" is empty: start and end are equal',
    ),
    (
        full(creneau='heartbeat = "9h"'),
        'creneau.heartbeat: expected a time such as "09:00" (got "9h")',
    ),
    (full(creneau='language = "de"'), 'creneau.language: must be "fr" or "en" (got "de")'),
    (
        full(creneau='failing_after = "never"'),
        'creneau.failing_after: expected a duration such as "90s", "5m" or "1h" (got "never")',
    ),
    (
        full(creneau="retention = 90"),
        'creneau.retention: expected a duration such as "90s", "5m" or "1h" (got 90)',
    ),
    (
        full(target='burst = { windows = ["Mon-Fri 08:50-09:10"], every = "10s" }'),
        'target "t".burst: every must be at least 60s (got 10s)',
    ),
    (
        full(target='windows = ["weekdays 9-17"]'),
        'target "t".windows: expected days and hours such as "Mon-Fri 07:30-18:30" '
        '(got "weekdays 9-17")',
    ),
    (
        full(target='before = "2027-13-01"'),
        'target "t".before: must be a date such as 2027-03-01 (got "2027-13-01": month value '
        "is outside expected range of 1-12)",
    ),
    (
        full(target='within = "thirty days"'),
        'target "t".within: expected a duration such as "90s", "5m" or "1h" (got "thirty days")',
    ),
    (
        full(target='desks = "14006"'),
        'target "t".desks: must be a list in brackets, such as ["14006"] (got "14006")',
    ),
    (
        full(extra='[hosts."www.example.gouv.fr"]\nburst = 100'),
        'hosts."www.example.gouv.fr".burst: must be at most 60 (got 100)',
    ),
    (
        full(extra='[hosts."www.example.gouv.fr"]\nper_minute = 0'),
        'hosts."www.example.gouv.fr".per_minute: must be more than 0 (got 0)',
    ),
    (full(extra="[alerts]\nx = 1"), "alerts: unknown key"),
    (
        full(extra='[templates.new_slot]\ntitle = "x"'),
        "templates.new_slot: unknown message (known: new_slots, slots_gone, host_down, host_up, "
        "captcha, page_changed, failing, stalled, config_refused, store_failing, heartbeat, test, "
        "digest, release_announced, release_changed, release_withdrawn, prepare_captcha)",
    ),
    (
        full(extra='[templates.new_slots]\ntitle = "{{ count "'),
        "templates.new_slots.title: unexpected end of template, expected 'end of print statement'.",
    ),
    (
        full(
            system="ants",
            url=ANTS,
            target='latitude = 48.8\nlongitude = 2.3\nreason = "PASSPORT"\nradius_km = 7\n'
            'token = "x"',
        ),
        'target "t".radius_km: must be one of 5, 10, 15, 20, 25, 30 km: the API refuses others '
        "(got 7)",
    ),
    (
        full(system="ants", url=ANTS, target='latitude = 48.8\nlongitude = 2.3\ntoken = "x"'),
        'target "t".reason: is required',
    ),
    (
        full(system="rdvpref", url="https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/"),
        'target "t".url: must look like https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/'
        "reservation/demarche/<id>/ (any step after it is fine; got "
        '"https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/")',
    ),
    (
        full(system="html", url="https://example.org/rdv", target='slot_selector = "li[[["'),
        'target "t".slot_selector: not a valid CSS selector "li[[[": Malformed attribute '
        "selector at position 2",
    ),
    (
        full(system="html", url="https://example.org/rdv"),
        'target "t": give slot_selector (what one slot looks like), none_text (phrases that '
        'mean "no slot") or both',
    ),
    (
        full(system="rdvsp", url="https://rdv.anct.gouv.fr/users/rdv_wizard_step/new"),
        'target "t".url: this is a booking link (/users/rdv_wizard_step/new), not a search: '
        "use the /prendre_rdv?… page that lists the places or the slots",
    ),
]


def with_urls(urls: str) -> str:
    return full().replace('urls = ["json://127.0.0.1:9/"]', f"urls = {urls}")


SUPPORTED_DATABASES = (
    'creneau works with SQLite ("sqlite:///creneau.db") and PostgreSQL through psycopg '
    '("postgresql+psycopg://user:password@host/creneau")'
)
WIKI = "https://github.com/caronc/apprise/wiki"

# Durations: every one is bounded, and the message says the range (issue 14, item 2).
MISTAKES += [
    (
        full(target='every = "3000000d"'),
        'target "t".every: must be between 1m and 7d (got 3000000d)',
    ),
    (
        full(target='every = "99999999999d"'),
        'target "t".every: must be between 1m and 7d (got 99999999999d)',
    ),
    (
        full(target=f'every = "{"9" * 400}s"'),
        f'target "t".every: must be between 1m and 7d (got {"9" * 40}…)',
    ),
    (full(target='jitter = "3650d"'), 'target "t".jitter: must be between 0s and 6h (got 3650d)'),
    (
        full(target='every = "5m"\njitter = "10m"'),
        'target "t".jitter: must be at most every (5m): checks come every 5m give or take half '
        "the jitter (got 10m)",
    ),
    (
        full(target='burst = { windows = ["Mon-Fri 08:50-09:10"], every = "2h" }'),
        'target "t".burst.every: must be between 1m and 1h (got 2h)',
    ),
    (
        full(target='every = "5m"\nburst = { windows = ["Mon 09:00-09:10"], every = "10m" }'),
        'target "t".burst: every must be shorter than the target\'s every (5m): a burst checks '
        "more often (got 10m)",
    ),
    (full(target='within = "0s"'), 'target "t".within: must be between 1m and 366d (got 0s)'),
    (
        full(target='within = "2y"'),
        'target "t".within: expected a duration such as "90s", "5m" or "1h" (got "2y")',
    ),
    (full(creneau='hysteresis = "2d"'), "creneau.hysteresis: must be between 0s and 1d (got 2d)"),
    (
        full(creneau='failing_after = "1m"'),
        "creneau.failing_after: must be between 5m and 7d (got 1m)",
    ),
    (
        full(creneau='alert_expiry = "30d"'),
        "creneau.alert_expiry: must be between 1m and 7d (got 30d)",
    ),
    (full(creneau='retention = "1h"'), "creneau.retention: must be between 1d and 3650d (got 1h)"),
    (
        full(creneau='retention = "1e999d"'),
        'creneau.retention: expected a duration such as "90s", "5m" or "1h" (got "1e999d")',
    ),
]

# Tracebacks before, and what was accepted but wrong (issue 14, item 15).
MISTAKES += [
    (
        full(creneau='database = "mysql+nonexist://x"'),
        f'creneau.database: {SUPPORTED_DATABASES}, not "mysql+nonexist"',
    ),
    (
        full(creneau='database = "mysql://u:pw@db.example/c"'),
        f'creneau.database: {SUPPORTED_DATABASES}, not "mysql"',
    ),
    (
        full(creneau='database = "postgresql+asyncpg://u:pw@db.example/c"'),
        f'creneau.database: {SUPPORTED_DATABASES}, not "postgresql+asyncpg"',
    ),
    (
        with_urls('["json://127.0.0.1:9/", "nosuchservice://abc"]'),
        f'notify "phone".urls[1]: Apprise does not recognise this URL\'s scheme "nosuchservice" '
        f"(see {WIKI})",
    ),
    (
        with_urls('["file:///tmp/x"]'),
        'notify "phone".urls[0]: Apprise does not recognise this URL\'s scheme "file" '
        f"(see {WIKI})",
    ),
    (
        with_urls('["tgram://"]'),
        'notify "phone".urls[0]: Apprise cannot read this "tgram" URL: a part it needs is missing '
        f"or malformed (see the service's page in {WIKI})",
    ),
    (
        with_urls('["https://example.org/hook"]'),
        'notify "phone".urls[0]: Apprise does not recognise this web address as a service it can '
        f"notify: use the service's own scheme, such as ntfy:// or json:// (see {WIKI})",
    ),
    (
        full(target='on_gone = "yes"'),
        'target "t".on_gone: must be true or false, without quotes (got "yes")',
    ),
    (
        full(target='respect_robots = "false"'),
        'target "t".respect_robots: must be true or false, without quotes (got "false")',
    ),
    (
        full(target="adaptive = 1"),
        'target "t".adaptive: must be true or false, without quotes (got 1)',
    ),
    (
        full(creneau='heartbeat = "99999999999999999999:00"'),  # OverflowError before
        'creneau.heartbeat: expected a time such as "09:00" (got "99999999999999999999:00")',
    ),
    (
        full(notify='quiet = "23:00-7:99999999999999999999"'),
        'notify "phone".quiet: expected hours such as "23:00-07:00" '
        '(got "23:00-7:99999999999999999999")',
    ),
    (
        full(creneau='heartbeat = "24:00"'),
        'creneau.heartbeat: expected a time such as "09:00" (got "24:00")',
    ),
    (
        full(creneau='keep_pages = "on"'),
        'creneau.keep_pages: must be true or false, without quotes (got "on")',
    ),
    (
        full(notify='wake_for_slots = "yes"'),
        'notify "phone".wake_for_slots: must be true or false, without quotes (got "yes")',
    ),
    (
        full(target='weeks = "two"'),
        'target "t".weeks: must be a whole number, without quotes (got "two")',
    ),
    (
        full(target="weeks = 2.5"),
        'target "t".weeks: must be a whole number, without quotes (got 2.5)',
    ),
    (
        full(target="name = 5").replace('name = "t"\n', ""),
        "target[0].name: must be text in quotes (got 5)",
    ),
    (full(target="").replace('name = "t"', 'name = ""'), "target[0].name: must not be empty"),
    (
        full(target="").replace('name = "t"', 'name = "a\\nb"'),
        f'target "a\\nb".name: {NAME_RULE} (got "a\\nb")',
    ),
    (full(creneau="data_dir = 5"), "creneau.data_dir: must be a folder, as text in quotes (got 5)"),
    (
        full(creneau="").replace('contact = "a@b.org"', 'contact = "ab"'),
        "creneau.contact: must be at least 3 characters",
    ),
    (
        full(extra='[hosts."127.0.0.1"]\nper_minute = inf'),
        'hosts."127.0.0.1".per_minute: must be a finite number (got inf)',
    ),
    (
        full(
            system="ants",
            url=ANTS,
            target='latitude = "north"\nlongitude = 2.3\nreason = "CNI"\ntoken = "x"',
        ),
        'target "t".latitude: must be a number, without quotes (got "north")',
    ),
    (
        full(
            system="ants",
            url=ANTS,
            target='latitude = 48.8\nlongitude = 2.3\nreason = "CNI"\ntoken = 123456',
        ),
        'target "t".token: must be text in quotes',
    ),
    (
        full(target="").replace("[[target]]", "[target]"),
        "target: write [[target]], with two brackets: there may be several",
    ),
    (
        full(target="").replace("[creneau]", "[[creneau]]"),
        "creneau: write [creneau], a table with one bracket",
    ),
]


def test_the_table_covers_thirty_mistakes_and_more() -> None:
    assert len(MISTAKES) >= 30


@pytest.mark.parametrize(("text", "message"), MISTAKES)
def test_each_mistake_is_one_line_naming_place_and_problem(
    tmp_path: Path, text: str, message: str
) -> None:
    assert errors_of(tmp_path, text) == [message]


@pytest.mark.parametrize(
    "name",
    [
        ".",
        "..",
        ".hidden",
        "-rf",
        "a\u200db",  # a zero-width joiner
        "p\u0430ris",  # a Cyrillic a among Latin letters
        "préfecture",
        "a/b",
        "a\\b",
        "\u0663",  # an Arabic-Indic digit
    ],
)
def test_a_name_outside_the_slug_alphabet_is_one_line(tmp_path: Path, name: str) -> None:
    text = with_target(**{**BASE, "name": json.dumps(name)})
    (line,) = errors_of(tmp_path, text)
    assert line.endswith(f".name: {NAME_RULE} (got {shown(name)})")


@pytest.mark.parametrize(
    "name",
    ["nanterre", "paris-cni", "passeport-paris-11", "bobigny-2", "t1", "A_b.c", "_x", "9"],
)
def test_names_in_the_slug_alphabet_load(tmp_path: Path, name: str) -> None:
    text = with_target(**{**BASE, "name": json.dumps(name)})
    assert prepare_config(write(tmp_path, text)).targets[0].name == name


def test_every_name_the_project_writes_is_in_the_slug_alphabet() -> None:
    """The README, the example config, the demo, the simulator, the benchmarks and the
    tests' configs: the alphabet breaks none of them."""
    written = re.compile(r'^name = "([^"{}]*)"$', re.MULTILINE)
    files = [ROOT / "README.md", ROOT / "config.example.toml"]
    for folder in ("src", "tests", "bench", "docs"):
        files += sorted((ROOT / folder).rglob("*.py")) + sorted((ROOT / folder).rglob("*.md"))
    names = {name for file in files for name in written.findall(file.read_text("utf-8"))}
    assert len(names) > 10
    assert [name for name in names if not re.fullmatch(NAME_PATTERN, name)] == []


def test_loopback_targets_may_be_checked_more_often(tmp_path: Path) -> None:
    text = with_target(
        name='"sim"',
        system='"ezbooking"',
        url='"http://127.0.0.1:8089/booking/create/1001"',
        every='"2s"',
    )
    assert prepare_config(write(tmp_path, text)).targets[0].every == timedelta(seconds=2)


def test_a_missing_file_says_how_to_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as failure:
        prepare_config(tmp_path / "nope.toml")
    assert failure.value.lines == [
        f"{tmp_path / 'nope.toml'}: no such file (start from config.example.toml)"
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            with_target(**BASE, every='"10s"'),
            'target "paris-etudiant".every: must be at least 60s (got 10s)',
        ),
        (  # a traceback at load before
            with_target(**BASE, every='"99999999999d"'),
            'target "paris-etudiant".every: must be between 1m and 7d (got 99999999999d)',
        ),
        (  # a traceback at the first use of the database before
            with_target(**BASE).replace("[creneau]", '[creneau]\ndatabase = "mysql+nonexist://x"'),
            f'creneau.database: {SUPPORTED_DATABASES}, not "mysql+nonexist"',
        ),
    ],
)
def test_the_cli_exits_2_with_the_line_and_no_traceback(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    done = subprocess.run(
        [sys.executable, "-m", "creneau", "check", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == f"{path}: {message}"
    assert done.stdout == ""


def test_a_missing_database_driver_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

    def not_installed() -> None:
        raise ModuleNotFoundError("No module named 'psycopg'")

    monkeypatch.setattr(PGDialect_psycopg, "import_dbapi", not_installed)
    database = 'database = "postgresql+psycopg://u:pw@db.example/c"'
    assert errors_of(tmp_path, full(creneau=database)) == [
        "creneau.database: psycopg, the driver of postgresql+psycopg, is not installed: "
        "pip install 'creneau[postgres]'"
    ]


def test_a_byte_order_mark_at_the_start_is_not_a_mistake(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_TOKEN", "123456:SECRET-TOKEN")
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode("utf-8"))  # what Notepad writes
    assert prepare_config(path).targets[0].name == "paris-etudiant"


def test_a_file_in_another_encoding_says_so_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(
        with_target(**BASE).replace("a@b.org", "prefecture-rdv@é.fr").encode("latin-1")
    )
    with pytest.raises(ConfigError) as failure:
        prepare_config(path)
    assert failure.value.lines == [
        f"{path}: not UTF-8 text (byte 0xe9 on line 2): save the file as UTF-8"
    ]


def test_an_apprise_url_without_tls_checks_loads_with_a_warning_that_hides_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_TOKEN", "123456:SECRET-TOKEN")
    text = GOOD.replace('"ntfy://ntfy.sh/topic"', '"ntfys://ntfy.example.org/t0pic?verify=no"')
    config = prepare_config(write(tmp_path, text))
    assert config.warnings == [
        f'{tmp_path / "config.toml"}: notify "phone".urls[0]: verify=no: Apprise will not check '
        "this service's TLS certificate, so anyone on the network path can read or forge these "
        "alerts (remove it unless the service's certificate is self-signed and you accept that)"
    ]
    assert prepare_config(write(tmp_path, GOOD)).warnings == []


def test_a_refused_apprise_url_is_never_shown_nor_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("TEST_TOKEN", "123456:SECRET-TOKEN")
    text = GOOD.replace("tgram://${TEST_TOKEN}/42", "tgrm://${TEST_TOKEN}/42")
    with pytest.raises(ConfigError) as failure:
        prepare_config(write(tmp_path, text))
    assert failure.value.lines == [
        f'{tmp_path / "config.toml"}: notify "phone".urls[1]: Apprise does not recognise this '
        f'URL\'s scheme "tgrm" (see {WIKI})'
    ]
    assert "SECRET" not in caplog.text
    assert "apprise" not in sys.modules  # Apprise read the URLs in its own process


def test_the_data_dir_is_the_sqlite_database_folder_unless_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    base = with_target(**BASE)
    beside = base.replace("[creneau]", '[creneau]\ndatabase = "sqlite:///state/creneau.db"')
    assert load_config(write(tmp_path, beside)).creneau.data_dir == tmp_path / "state"
    given = beside.replace("[creneau]", '[creneau]\ndata_dir = "/srv/creneau"')
    assert load_config(write(tmp_path, given)).creneau.data_dir == Path("/srv/creneau")
    postgres = base.replace(
        "[creneau]", '[creneau]\ndatabase = "postgresql+psycopg://u:pw@db.example/c"'
    )
    assert load_config(write(tmp_path, postgres)).creneau.data_dir == tmp_path / "xdg" / "creneau"
    assert load_config(write(tmp_path, base)).creneau.data_dir == tmp_path / "xdg" / "creneau"


def test_an_unwritten_jitter_never_exceeds_every_and_a_written_one_may_not(
    tmp_path: Path,
) -> None:
    loopback = {**BASE, "url": '"http://127.0.0.1:8089/booking/create/1001"', "every": '"2s"'}
    assert prepare_config(write(tmp_path, with_target(**loopback))).targets[0].jitter == timedelta(
        seconds=2
    )
    assert prepare_config(write(tmp_path, with_target(**BASE))).targets[0].jitter == timedelta(
        seconds=30
    )
    assert errors_of(tmp_path, with_target(**loopback, jitter='"30s"')) == [
        'target "paris-etudiant".jitter: must be at most every (2s): checks come every 2s give '
        "or take half the jitter (got 30s)"
    ]


def parsed(text: str) -> timedelta | str:
    """The duration, or the message of the ValueError (any other exception fails the test)."""
    try:
        return parse_duration(text)
    except DurationTooLong as refused:
        return f"too long: {refused}"
    except ValueError as refused:
        return str(refused)


@given(st.text())
def test_any_text_is_a_duration_or_a_value_error(text: str) -> None:
    value = parsed(text)
    if isinstance(value, str):
        assert value.isprintable()
    else:
        assert timedelta(0) <= value <= LONGEST_DURATION


DURATION_LIKE = r"\A( ?[0-9]{1,400}(\.[0-9]{0,30})?(ms|s|m|h|d|M|H|D)){1,4}\Z"


@given(st.from_regex(DURATION_LIKE))
def test_huge_numbers_are_refused_as_too_long_never_overflow(text: str) -> None:
    value = parsed(text)
    if isinstance(value, timedelta):
        assert timedelta(0) <= value <= LONGEST_DURATION
    elif value.startswith("too long: "):
        assert value.startswith("too long: is far too long: at most 36600d (got ")
        assert value.isprintable()
    else:  # "1.s": a dot without decimals is not a number
        assert re.search(r"\.(ms|s|m|h|d)", text, re.IGNORECASE), value


@given(
    st.one_of(st.text(max_size=30), st.from_regex(DURATION_LIKE)),
    st.sampled_from(["every", "jitter", "within"]),
)
def test_a_target_given_any_duration_is_valid_or_one_clean_line(text: str, key: str) -> None:
    fields = {"name": "t", "url": "https://www.example.gouv.fr/booking/create/1", key: text}
    try:
        target_system("ezbooking").Target.model_validate(fields)
    except ValidationError as failure:
        lines = describe_errors(failure, fields)
    else:
        lines = []
    assert all(line.startswith(f"{key}: ") for line in lines)
    assert all(line.isprintable() for line in lines)
    assert len(lines) <= 1


@given(st.integers(min_value=1, max_value=10 * 86400))
def test_durations_round_trip(seconds: int) -> None:
    value = timedelta(seconds=seconds)
    assert parse_duration(compact_duration(value)) == value


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("5m", 300), ("1h30m", 5400), ("2d", 172800), ("1.5h", 5400), ("250ms", 0.25)],
)
def test_duration_forms(text: str, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == seconds


# --- files that broke the loader: one line, exit 2, whatever the command --------------------

DEEP = 100_000  # a TOML parser recurses once per level: Python's stack ends long before


def deep_list(depth: int = DEEP) -> str:
    return with_target(**BASE, desks="[" * depth + "]" * depth)


def html_target(**settings: str) -> str:
    fields = {"name": '"consulat"', "system": '"html"', "url": '"https://c.example/rdv"'}
    return with_target(**fields, **settings)


BROKEN_FILES = [
    (
        deep_list(),
        f"line 7, column 9: lists or tables nested {DEEP} deep, too deep to read (TOML syntax)",
    ),
    (
        html_target(slot_selector='"' + ":is(" * 600 + "li" + ")" * 600 + '"'),
        'target "consulat".slot_selector: not a CSS selector soupsieve can compile '
        '(got ":is(:is(:is(:is(:is(:is(:is(:is(:is(:is(…")',
    ),
    (
        html_target(slot_selector='"li:has(a b c)"'),
        'target "consulat".slot_selector: :has() is not allowed: it searches every '
        "element's descendants, which can take minutes on a large page "
        '(got "li:has(a b c)")',
    ),
    (
        html_target(slot_selector='"li"', slot_time_pattern="'" + "(" * 600 + ")" * 600 + "'"),
        'target "consulat".slot_time_pattern: not a regular expression Python can compile '
        '(got "((((((((((((((((((((((((((((((((((((((((…")',
    ),
    (
        html_target(slot_selector='"li"', slot_time_pattern="'(\\d+)+h'"),
        'target "consulat".slot_time_pattern: a repetition over something that repeats or '
        "offers alternatives (such as (\\d+)+ or (a|b)*) can take forever on some texts: "
        'write it without (got "(\\d+)+h")',
    ),
    (
        html_target(slot_selector='"li"', slot_time_pattern="'\\d*\\d*\\d*x'"),
        'target "consulat".slot_time_pattern: too many repetitions that Python\'s matcher may '
        "try every way of (it could take seconds on some texts): bound them, e.g. \\d{1,2} "
        "instead of \\d+, or follow each by a character it cannot match "
        '(got "\\d*\\d*\\d*x")',
    ),
]


@pytest.mark.parametrize(("text", "message"), BROKEN_FILES)
def test_what_broke_the_loader_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    assert errors_of(tmp_path, text) == [message]


COMMANDS = [
    ["check"],
    ["run"],
    ["status"],
    ["health"],
    ["db", "upgrade"],
    ["notify-test"],
    ["outbox"],
    ["history", "summary"],
    ["evidence", "t", "--since", "2026-11-01", "--out", "{tmp}/out"],
    ["report", "t"],
    ["captcha", "t"],
    ["web"],
    ["parse", "ezbooking", "--target", "t", "{tmp}/page.html"],
    ["add", "https://www.example.gouv.fr/booking/create/2"],
    ["pause", "t"],
    ["resume", "t"],
    ["remove", "t"],
    ["set", "t", "every=10m"],
]
EDITORS = ("add", "pause", "resume", "remove", "set")


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: " ".join(command[:2]))
def test_every_command_says_a_deep_file_in_one_line_and_exits_2(
    tmp_path: Path, command: list[str]
) -> None:
    path = write(tmp_path, deep_list())
    (tmp_path / "page.html").write_text("<html></html>")
    args = [part.format(tmp=tmp_path) for part in command]
    done = CliRunner().invoke(cli, [*args, "--config", str(path)])
    assert (done.exit_code, done.stdout) == (2, ""), done.output
    (line,) = done.stderr.splitlines()
    if command[0] in EDITORS:  # tomlkit reads the file first, and says it its own way
        assert line.startswith(f"{path}: TOML value nested more than 100 levels deep at line 7")
    else:
        assert line == f"{path}: {BROKEN_FILES[0][1]}"
    assert done.exception is None or isinstance(done.exception, SystemExit)


def test_a_deep_file_exits_2_without_a_traceback_from_the_shell(tmp_path: Path) -> None:
    path = write(tmp_path, deep_list())
    done = subprocess.run(
        [sys.executable, "-m", "creneau", "check", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"{path}: {BROKEN_FILES[0][1]}\n"


def test_an_unforeseen_failure_is_one_line_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever else goes wrong while loading is a ConfigError, never a traceback."""
    path = write(tmp_path, GOOD)
    monkeypatch.setenv("TEST_TOKEN", "s3cret-token-0042")

    def broken(config: Any) -> list[str]:
        raise RuntimeError("a surprise with s3cret-token-0042 in it")

    monkeypatch.setattr(config_module, "_cross_check", broken)
    with pytest.raises(ConfigError) as failure:
        prepare_config(path)
    assert failure.value.lines == [
        f"{path}: cannot be loaded (RuntimeError: a surprise with *** in it)"
    ]


def test_reading_the_config_starts_nothing_and_registers_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading is pure: Apprise's reading of the URLs, the templates and the secrets' masking
    are the start-up step's (creneau.startup), which refuses what reading alone accepts."""
    monkeypatch.setenv("TEST_TOKEN", "123456:PURE-READING-TOKEN")
    text = GOOD.replace("tgram://${TEST_TOKEN}/42", "nosuchservice://${TEST_TOKEN}/42")
    path = write(tmp_path, text + '[templates.new_slot]\ntitle = "x"\n')
    config = load_config(path)
    assert "123456:PURE-READING-TOKEN" in config.secrets
    assert redact("123456:PURE-READING-TOKEN") == "123456:PURE-READING-TOKEN"
    assert config.warnings == []
    with pytest.raises(ConfigError) as failure:
        prepare_config(path)
    assert failure.value.lines[0].startswith(f"{path}: templates.new_slot: unknown message")
    assert redact("123456:PURE-READING-TOKEN") == "***"


def test_release_announcements_are_opt_in_per_channel(tmp_path: Path) -> None:
    from creneau.alerts.outbox import routes

    config = load_config(
        write(
            tmp_path,
            full(
                notify='[[notify]]\nname = "mail"\nurls = ["json://127.0.0.1:9/m"]\n'
                'kinds = ["slots", "release_announced"]'
            ),
        )
    )
    phone, mail = config.notify
    assert "release_announced" not in phone.kinds  # the default: every kind but opt-in ones
    assert phone.kinds == ["slots", "trouble", "heartbeat"]
    assert mail.kinds == ["slots", "release_announced"]
    by_channel = {d.channel: d.kinds for d in routes(config)["t"].destinations}
    assert "release_announced" not in by_channel["phone"]
    assert "release_announced" in by_channel["mail"]
