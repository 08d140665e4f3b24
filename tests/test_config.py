"""The configuration file: what loads, and the exact one-line message for each mistake."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from creneau.config import ConfigError, load_config
from creneau.redact import redact
from creneau.sources import SYSTEMS
from creneau.targets import format_duration, parse_duration

ROOT = Path(__file__).resolve().parent.parent
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
        load_config(write(tmp_path, text))
    return [line.split(": ", 1)[1] for line in failure.value.lines]


def test_a_good_config_loads_with_secrets_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_TOKEN", "123456:SECRET-TOKEN")
    config = load_config(write(tmp_path, GOOD))
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


def test_the_example_config_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NTFY_TOPIC", "creneau-example")
    config = load_config(ROOT / "config.example.toml")
    assert [target.name for target in config.targets] == ["nanterre-titres"]
    assert config.channels_for(config.targets[0])[0].name == "phone"


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
        "target \"a b\".name: String should match pattern '^[\\w.-]+$'",
    ),
    (
        with_target(**BASE, weeks="9"),
        'target "paris-etudiant".weeks: Input should be less than or equal to 6',
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
        'notify "phone".urls: List should have at least 1 item after validation, not 0',
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
        "notify \"phone\".kinds[0]: Input should be 'slots', 'trouble' or 'heartbeat'",
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
    (full(creneau='language = "de"'), "creneau.language: Input should be 'fr' or 'en'"),
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
        'target "t".before: Input should be a valid date or datetime, month value is outside '
        "expected range of 1-12",
    ),
    (
        full(target='within = "thirty days"'),
        'target "t".within: expected a duration such as "90s", "5m" or "1h" (got "thirty days")',
    ),
    (full(target='desks = "14006"'), 'target "t".desks: Input should be a valid list'),
    (
        full(extra='[hosts."www.example.gouv.fr"]\nburst = 100'),
        'hosts."www.example.gouv.fr".burst: Input should be less than or equal to 60',
    ),
    (
        full(extra='[hosts."www.example.gouv.fr"]\nper_minute = 0'),
        'hosts."www.example.gouv.fr".per_minute: Input should be greater than 0',
    ),
    (full(extra="[alerts]\nx = 1"), "alerts: unknown key"),
    (
        full(extra='[templates.new_slot]\ntitle = "x"'),
        "templates.new_slot: unknown message (known: new_slots, slots_gone, host_down, host_up, "
        "captcha, page_changed, failing, heartbeat, test, digest)",
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


def test_the_table_covers_thirty_mistakes_and_more() -> None:
    assert len(MISTAKES) >= 30


@pytest.mark.parametrize(("text", "message"), MISTAKES)
def test_each_mistake_is_one_line_naming_place_and_problem(
    tmp_path: Path, text: str, message: str
) -> None:
    assert errors_of(tmp_path, text) == [message]


def test_loopback_targets_may_be_checked_more_often(tmp_path: Path) -> None:
    text = with_target(
        name='"sim"',
        system='"ezbooking"',
        url='"http://127.0.0.1:8089/booking/create/1001"',
        every='"2s"',
    )
    assert load_config(write(tmp_path, text)).targets[0].every == timedelta(seconds=2)


def test_a_missing_file_says_how_to_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as failure:
        load_config(tmp_path / "nope.toml")
    assert failure.value.lines == [
        f"{tmp_path / 'nope.toml'}: no such file (start from config.example.toml)"
    ]


def test_the_cli_exits_2_with_the_line_and_no_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, with_target(**BASE, every='"10s"'))
    done = subprocess.run(
        [sys.executable, "-m", "creneau", "check", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f'{path}: target "paris-etudiant".every: must be at least 60s (got 10s)'
    )
    assert done.stdout == ""


@given(st.integers(min_value=1, max_value=10 * 86400))
def test_durations_round_trip(seconds: int) -> None:
    value = timedelta(seconds=seconds)
    assert parse_duration(format_duration(value)) == value


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("5m", 300), ("1h30m", 5400), ("2d", 172800), ("1.5h", 5400), ("250ms", 0.25)],
)
def test_duration_forms(text: str, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == seconds
