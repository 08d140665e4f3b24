"""`creneau add URL` against the simulated sites, and `pause`, `resume`, `remove`, `set`: the
file differs from the original only by the table added or edited (byte-exact), it still loads,
and every mistake is one line, exit 2, the file unchanged (and, before the check, no request)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from creneau.cli import cli
from creneau.config import load_config
from creneau.redact import public_link
from creneau.simulator import simulated
from creneau.simulator.server import SimulatorServer
from creneau.sources.ants.simulator import SIMULATOR_TOKEN
from creneau.sources.ezbooking.simulator import default_prefecture
from creneau.sources.html.simulator import HtmlBookingSite
from creneau.store import Store
from harness.config_text import commented_config


@pytest.fixture
def table_site() -> HtmlBookingSite:
    site = HtmlBookingSite(layout="prefecture", path="/rendez-vous")
    site.release(site.guichets[0].id, 2)
    site.release(site.guichets[1].id, 1)
    return site


@pytest.fixture
def server(table_site: HtmlBookingSite) -> Iterator[SimulatorServer]:
    plages = HtmlBookingSite(layout="plages", path="/plages")
    plages.release(plages.guichets[0].id, 3)
    sites = [
        table_site,
        plages,
        HtmlBookingSite(layout="plages", path="/plages-vides"),
        HtmlBookingSite(layout="plages", path="/refus", behaviour="forbidden"),
        HtmlBookingSite(layout="plages", path="/verification", behaviour="captcha"),
    ]
    with SimulatorServer(default_prefecture(), sites=sites) as running:
        yield running


def original(root: str) -> str:
    return commented_config(root)


@pytest.fixture
def config(tmp_path: Path, server: SimulatorServer) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(original(server.url), encoding="utf-8")
    return path


def invoke(*args: str, input: str | None = None) -> tuple[int, str, str]:
    done = CliRunner().invoke(cli, list(args), input=input)
    return done.exit_code, done.stdout, done.stderr


def with_table(root: str, table: str) -> str:
    """The original with a table added after the last target, as `creneau add` writes it."""
    return original(root).replace('# desks = ["16001"]\n\n', f'# desks = ["16001"]\n\n{table}\n', 1)


def test_add_an_ezbooking_booking(server: SimulatorServer, config: Path) -> None:
    url = server.booking_url("1001")
    code, stdout, stderr = invoke("add", url, "--every", "2s", "--yes", "--config", str(config))
    assert (code, stderr) == (0, "")
    table = (
        "[[target]]\n"
        'name = "remise-de-titre-de-sejour-nanterre"\n'
        'system = "ezbooking"\n'
        f'url = "{url}"\n'
        'every = "2s"\n'
        'jitter = "2s"\n'
        "desks = []  # empty = all; seen: 14006, 14007, 14012\n"
    )
    assert config.read_text(encoding="utf-8") == with_table(server.url, table)
    loaded = load_config(config)
    assert [target.name for target in loaded.targets] == [
        "bobigny",
        "remise-de-titre-de-sejour-nanterre",
    ]
    # What the check found is said in the config's language (French by default).
    assert "none  3 guichets : la page indique qu'il n'y a aucun créneau libre" in stdout
    for desk, label in [("14006", "Guichet 1 - Remise de titre"), ("14012", "Guichet 5")]:
        assert desk in stdout
        assert label in stdout
    assert f"to add to {config}:\n\n{table}\n" in stdout
    assert stdout.endswith(f"added remise-de-titre-de-sejour-nanterre to {config}\n")


def test_the_check_is_recorded_like_an_ad_hoc_one(server: SimulatorServer, config: Path) -> None:
    url = server.booking_url("1002")
    code, stdout, _ = invoke("add", url, "--every", "2s", "--yes", "--config", str(config))
    assert code == 0
    assert "available" in stdout
    assert "Naturalisation — entretien" in stdout
    store = Store(f"sqlite:///{config.parent / 'creneau.db'}")
    try:
        assert set(store.last_checks()) == {public_link(url)}
        assert store.host_states().keys() == {"127.0.0.1"}
    finally:
        store.close()
    entries = [hit.path for hit in server.hits if hit.path.startswith("/booking/create/1002")]
    assert entries[0] == "/booking/create/1002"  # one check: the flow once, from its entry
    assert entries.count("/booking/create/1002") == 1


def test_a_name_taken_gets_a_number(server: SimulatorServer, config: Path) -> None:
    url = server.booking_url("1002")
    for _ in range(2):
        assert invoke("add", url, "--every", "2s", "--yes", "--config", str(config))[0] == 0
    names = [target.name for target in load_config(config).targets]
    assert names == ["bobigny", "naturalisation-entretien", "naturalisation-entretien-2"]


def test_add_an_html_page_proposes_what_to_look_for(
    server: SimulatorServer, config: Path, table_site: HtmlBookingSite
) -> None:
    url = f"{server.url}/rendez-vous"
    code, stdout, stderr = invoke("add", url, "--every", "2s", "--yes", "--config", str(config))
    assert (code, stderr) == (0, "")
    assert '  1. slot_selector = "table.rdv-disponibles tbody tr"\n' in stdout
    assert "     reads: available, 3 slots: " in stdout
    assert '  2. slot_selector = "td.horaire"\n' in stdout
    table = (
        "[[target]]\n"
        'name = "rendez-vous-disponibles"\n'
        'system = "html"\n'
        f'url = "{url}"\n'
        'every = "2s"\n'
        'jitter = "2s"\n'
        'slot_selector = "table.rdv-disponibles tbody tr"\n'
    )
    assert config.read_text(encoding="utf-8") == with_table(server.url, table)
    target = load_config(config).targets[-1]
    first = min(table_site.free).start.strftime("%a %d/%m %H:%M")
    assert f"reads: available, 3 slots: {first}" in stdout
    assert target.model_dump()["slot_selector"] == "table.rdv-disponibles tbody tr"


def test_the_person_picks_a_candidate_by_its_number(server: SimulatorServer, config: Path) -> None:
    url = f"{server.url}/plages"
    code, stdout, _ = invoke("add", url, "--name", "plages", "--config", str(config), input="2\n\n")
    assert code == 0
    assert '  1. slot_selector = "li.plage.libre"\n' in stdout
    assert '  2. slot_selector = "li.plage.libre a"\n' in stdout
    assert "Which one [1]: " in stdout
    target = load_config(config).targets[-1]
    assert (target.name, target.model_dump()["slot_selector"]) == ("plages", "li.plage.libre a")
    assert 'every = "5m"\njitter = "30s"\n' in config.read_text(encoding="utf-8")


def test_a_page_without_slots_proposes_its_phrase(server: SimulatorServer, config: Path) -> None:
    url = f"{server.url}/plages-vides"
    code, stdout, _ = invoke("add", url, "--every", "2s", "--yes", "--config", str(config))
    assert code == 0
    assert '  1. none_text = ["aucune plage horaire"]\n     reads: none, 0 slots\n' in stdout
    target = load_config(config).targets[-1]
    assert target.model_dump()["none_text"] == ["aucune plage horaire"]


def test_saying_no_writes_nothing(server: SimulatorServer, config: Path) -> None:
    before = config.read_bytes()
    code, stdout, _ = invoke(
        "add", server.booking_url("1002"), "--config", str(config), input="n\n"
    )
    assert code == 0
    assert stdout.endswith("Add it? [Y/n]: n\nnothing written\n")
    assert config.read_bytes() == before


def test_the_users_name_channels_and_settings_are_written(
    server: SimulatorServer, config: Path
) -> None:
    url = server.booking_url("1001")
    code, _, stderr = invoke(
        "add", url, "--name", "nanterre", "--every", "2s", "--notify", "phone",
        "--set", "weeks=3", "--set", 'desks=["14007"]', "--yes", "--config", str(config),
    )  # fmt: skip
    assert (code, stderr) == (0, "")
    table = (
        "[[target]]\n"
        'name = "nanterre"\n'
        'system = "ezbooking"\n'
        f'url = "{url}"\n'
        'every = "2s"\n'
        'jitter = "2s"\n'
        'notify = ["phone"]\n'
        'desks = ["14007"]  # seen: 14006, 14007, 14012\n'
        "weeks = 3\n"
    )
    assert config.read_text(encoding="utf-8") == with_table(server.url, table)


@pytest.mark.parametrize(
    ("system", "query", "name", "shown", "table_end"),
    [
        (
            "rdvsp",
            "",
            "demande-de-passeport-92",
            ["available  3 créneaux dans la semaine affichée", "412", "Mairie"],
            "lieux = []  # empty = all; seen: 412\n",
        ),
        (
            "ants",
            "?latitude=48.86&longitude=2.35&reason=CNI",
            "ants-cni-48-86-2-35",
            [
                "available  3 créneaux libres dans 1 point de rendez-vous sur 1",
                "1201",
                "Mairie du 10e",
            ],
            'reason = "CNI"\nmeeting_points = []  # empty = all; seen: 1201\n'
            'token = "${ANTS_TOKEN}"\n',
        ),
        (
            "rdvpref",
            "",
            "allier-remise-de-titre-de-sejour",
            ["captcha", "lancez `creneau captcha allier-remise-de-titre-de-sejour`"],
            'jitter = "2s"\n',
        ),
    ],
)
def test_add_each_simulated_system(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    system: str,
    query: str,
    name: str,
    shown: list[str],
    table_end: str,
) -> None:
    monkeypatch.setenv("ANTS_TOKEN", SIMULATOR_TOKEN)
    site = simulated(system).make()
    with SimulatorServer(sites=[site]) as running:
        url = simulated(system).addresses(site, running.url)[0].split()[0] + query
        path = tmp_path / "config.toml"
        path.write_text(original(running.url), encoding="utf-8")
        code, stdout, stderr = invoke("add", url, "--every", "2s", "--yes", "--config", str(path))
    assert (code, stderr) == (0, "")
    for text in shown:
        assert text in stdout
    written = path.read_text(encoding="utf-8")
    added = written[written.index('[[target]]\nname = "' + name) :]
    assert added.startswith(f'[[target]]\nname = "{name}"\nsystem = "{system}"\n')
    assert added.split("\n\n")[0] + "\n" == added[: added.index(table_end) + len(table_end)]
    assert [target.name for target in load_config(path).targets] == ["bobigny", name]


# --- mistakes: one line, exit 2, the file unchanged ------------------------------------------


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["ftp://example.org/rdv"],
            'not a web address: expected https://… (got "ftp://example.org/rdv")',
        ),
        (
            ["{root}/booking/create/1002", "--every", "5 minutes"],
            '--every: expected a duration such as "90s", "5m" or "1h" (got "5 minutes")',
        ),
        (
            ["{root}/booking/create/1002", "--notify", "sms"],
            '{config}: target "ezbooking-1002".notify: no channel named "sms" (channels: phone)',
        ),
        (
            ["{root}/booking/create/1002", "--name", "bobigny"],
            '{config}: target "bobigny": the name is used twice',
        ),
        (
            ["{root}/booking/create/1002", "--name", "mon rendez-vous"],
            '{config}: target "mon rendez-vous".name: may contain only letters without '
            "accents, digits, '.', '_' and '-', starting with a letter, a digit or '_' "
            '(got "mon rendez-vous")',
        ),
        (
            ["{root}/booking/create/1002", "--name", ".."],
            '{config}: target "..".name: may contain only letters without accents, digits, '
            "'.', '_' and '-', starting with a letter, a digit or '_' (got \"..\")",
        ),
        (
            ["{root}/booking/create/1002", "--name", "a\u200db"],
            '{config}: target "a\\u200db".name: may contain only letters without accents, '
            "digits, '.', '_' and '-', starting with a letter, a digit or '_' "
            '(got "a\\u200db")',
        ),
        (
            ["{root}/booking/create/1002", "--set", "colour=blue"],
            '{config}: target "ezbooking-1002".colour: unknown key',
        ),
        (
            ["{root}/api/SlotsFromPosition", "--set", "reason=CNI"],
            "{root}/api/SlotsFromPosition: the ANTS hub searches around a place for a reason; "
            "the link does not say latitude, longitude: give them, e.g. --set latitude=48.85 "
            '--set longitude=2.35 (and the hub\'s token, token = "${{ANTS_TOKEN}}", from '
            "ANTS_TOKEN)",
        ),
        (
            [
                "{root}/api/SlotsFromPosition?latitude=48.86&longitude=2.35&reason=CNI",
                "--every",
                "2s",
            ],
            '{config}: target "ants-cni-48-86-2-35".token: environment variable ANTS_TOKEN is '
            "not set",
        ),
    ],
)
def test_a_mistake_is_one_line_and_nothing_is_written_nor_fetched(
    server: SimulatorServer,
    config: Path,
    args: list[str],
    line: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ANTS_TOKEN", raising=False)
    before = config.read_bytes()
    given = [arg.format(root=server.url) for arg in args]
    code, stdout, stderr = invoke("add", *given, "--yes", "--config", str(config))
    assert (code, stdout) == (2, "")
    assert stderr == line.format(root=server.url, config=config) + "\n"
    assert config.read_bytes() == before
    assert server.hits == []
    assert sorted(path.name for path in config.parent.iterdir()) == ["config.toml"]


def test_no_config_file_is_one_line(server: SimulatorServer, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    code, _, stderr = invoke("add", server.booking_url("1002"), "--config", str(missing))
    assert (code, stderr) == (2, f"{missing}: no such file (start from config.example.toml)\n")
    assert not missing.exists()


def test_a_page_that_refuses_is_not_guessed_at(server: SimulatorServer, config: Path) -> None:
    before = config.read_bytes()
    code, _, stderr = invoke("add", f"{server.url}/refus", "--yes", "--config", str(config))
    assert code == 1
    assert stderr == (
        f"{server.url}/refus: the page could not be read (HTTP 403 : le site refuse nos "
        "requêtes): creneau cannot propose what to look for on it; try again later, or give "
        '--set slot_selector="…" and/or --set none_text=["…"]\n'
    )
    assert config.read_bytes() == before


def test_a_captcha_page_is_not_guessed_at(server: SimulatorServer, config: Path) -> None:
    before = config.read_bytes()
    code, _, stderr = invoke("add", f"{server.url}/verification", "--yes", "--config", str(config))
    assert code == 1
    assert stderr.startswith(f"{server.url}/verification: the page could not be read (le site ")
    assert config.read_bytes() == before


def test_a_page_of_another_kind_says_what_to_give(
    server: SimulatorServer, config: Path, table_site: HtmlBookingSite
) -> None:
    table_site.take(table_site.guichets[0].id)
    table_site.take(table_site.guichets[1].id)
    table_site.set_behaviour("changed")  # tiles, no sentence, and now no slot either
    before = config.read_bytes()
    code, _, stderr = invoke("add", f"{server.url}/rendez-vous", "--yes", "--config", str(config))
    assert (code, config.read_bytes()) == (2, before)
    assert stderr == (
        f"{server.url}/rendez-vous: creneau found on the page neither elements that repeat "
        "with a date and time nor a phrase saying there is no slot: give --set "
        'slot_selector="…" and/or --set none_text=["…"] (see docs/systems/html.md)\n'
    )


# --- pause, resume, remove, set ----------------------------------------------------------------


def test_pause_resume_set_remove_edit_only_their_table(
    server: SimulatorServer, config: Path
) -> None:
    text = original(server.url)
    assert invoke("pause", "bobigny", "--config", str(config)) == (
        0,
        f"bobigny: paused ({config})\n",
        "",
    )
    paused = text.replace('# desks = ["16001"]\n', 'paused = true\n# desks = ["16001"]\n')
    assert config.read_text(encoding="utf-8") == paused
    assert load_config(config).targets[0].paused
    assert invoke("pause", "bobigny", "--config", str(config))[1] == "bobigny: already paused\n"

    assert invoke("resume", "bobigny", "--config", str(config))[:2] == (
        0,
        f"bobigny: resumed ({config})\n",
    )
    assert config.read_text(encoding="utf-8") == text
    assert invoke("resume", "bobigny", "--config", str(config))[1] == "bobigny: not paused\n"

    code, stdout, _ = invoke(
        "set", "bobigny", "every=10m", 'desks=["16001"]', "weeks=3", "--config", str(config)
    )
    assert (code, stdout) == (0, f"bobigny: every, desks, weeks set ({config})\n")
    assert config.read_text(encoding="utf-8") == text.replace(
        'every = "2s"  # the simulator is on loopback\n# desks',
        'every = "10m"  # the simulator is on loopback\ndesks = ["16001"]\nweeks = 3\n# desks',
    )

    invoke("add", server.booking_url("1002"), "--every", "2s", "--yes", "--config", str(config))
    before_remove = config.read_text(encoding="utf-8")
    assert invoke("remove", "bobigny", "--config", str(config))[:2] == (
        0,
        f"bobigny: removed from {config}\n",
    )
    assert config.read_text(encoding="utf-8") == before_remove.replace(
        before_remove[
            before_remove.index("# Bobigny") : before_remove.index('[[target]]\nname = "nat')
        ],
        "",
    )
    assert [target.name for target in load_config(config).targets] == ["naturalisation-entretien"]


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["pause", "paris"], '{config}: no target named "paris" (targets: bobigny)'),
        (["set", "paris", "every=10m"], '{config}: no target named "paris" (targets: bobigny)'),
        (
            ["set", "bobigny", "every=10"],
            '{config}: target "bobigny".every: expected a duration such as "90s", "5m" or '
            '"1h" (got 10)',
        ),
        (["set", "bobigny", "colour=blue"], '{config}: target "bobigny".colour: unknown key'),
        (
            ["set", "bobigny", "paused=yes"],
            '{config}: target "bobigny".paused: must be true or false, without quotes (got "yes")',
        ),
        (
            ["set", "bobigny", "url=http://127.0.0.1:9/rdv"],
            '{config}: target "bobigny".url: must look like https://<host>/booking/create/<id> '
            '(got "http://127.0.0.1:9/rdv")\n'  # each mistake one line
            '{config}: target "bobigny".every: must be at least 60s (got 2s)',
        ),
        (
            ["remove", "bobigny"],
            "{config}: target: no target to watch (add a [[target]] table)",
        ),
    ],
)
def test_an_edit_mistake_is_one_line_and_writes_nothing(
    config: Path, args: list[str], line: str
) -> None:
    before = config.read_bytes()
    code, stdout, stderr = invoke(*args, "--config", str(config))
    assert (code, stdout) == (2, "")
    assert stderr == line.format(config=config) + "\n"
    assert config.read_bytes() == before
    assert sorted(path.name for path in config.parent.iterdir()) == ["config.toml"]


def test_set_needs_key_equals_value(config: Path) -> None:
    code, _, stderr = invoke("set", "bobigny", "every", "--config", str(config))
    assert code == 2
    assert stderr.endswith("Error: every: expected KEY=VALUE\n")
