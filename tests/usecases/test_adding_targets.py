"""The use case of adding a target by its link and editing one (usecases/targets.py), as the
command line and the dashboard both call it: the link read, the draft checked under a name the
file does not hold, the table written validated as at start, and one target's table edited."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from creneau.adding.links import LinkProblem, Preview
from creneau.config import ConfigError, load_config
from creneau.results import CheckResult, Status
from creneau.targets import DurationTooLong
from creneau.usecases import targets

NANTERRE = "https://www.hauts-de-seine.gouv.fr/booking/create/1001"
CONFIG = f"""\
[creneau]
database = "sqlite:///creneau.db"
contact = "tests@example.org"

# the students' desk
[[target]]
name = "nanterre"
system = "ezbooking"
url = "{NANTERRE}"
"""


def write(tmp_path: Path, text: str = CONFIG) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_a_link_is_read_with_its_interval() -> None:
    assert targets.read_link(NANTERRE, "10m").system == "ezbooking"
    with pytest.raises(LinkProblem):
        targets.read_link("not a link", None)
    with pytest.raises(DurationTooLong):
        targets.read_link(NANTERRE, "99999d")
    with pytest.raises(ValueError, match="soon"):
        targets.read_link(NANTERRE, "soon")


def test_a_link_lacking_settings_says_which_as_a_line_and_a_code() -> None:
    link = targets.read_link("https://rendezvouspasseport.ants.gouv.fr/", None)
    with pytest.raises(targets.SettingsMissing) as missing:
        targets.require_settings(link, {"reason": "CNI"})
    assert missing.value.problem.code == "ants_place_missing"
    assert "latitude, longitude" in str(missing.value)
    targets.require_settings(link, {"reason": "CNI", "latitude": 48.8, "longitude": 2.3})


def test_a_draft_is_checked_under_a_free_name_in_a_config_without_it(tmp_path: Path) -> None:
    path = write(tmp_path)
    link = targets.read_link(NANTERRE, None)
    draft = targets.draft(path, link, None, every="10m")
    assert draft.taken == ["nanterre"]
    assert draft.checked_as not in draft.taken
    assert draft.target.url == NANTERRE
    assert [t.name for t in draft.config.targets] == ["nanterre", draft.checked_as]
    assert [t.name for t in draft.config_to_check_in.targets] == ["nanterre"]
    assert draft.already_watching() == ["nanterre"]
    assert path.read_text() == CONFIG  # nothing written
    with pytest.raises(ConfigError):
        targets.draft(path, link, "nanterre", every=None)  # a name the file holds


def test_the_table_is_added_validated_and_written_guarded_from_the_dashboard(
    tmp_path: Path,
) -> None:
    path = write(tmp_path)
    link = targets.read_link("https://www.seine-saint-denis.gouv.fr/booking/create/1003", None)
    result = CheckResult("x", link.system, link.url, Status.NONE, datetime.now(UTC))
    found = Preview(link, result, "bobigny")
    table = targets.table(found, every="10m", notify=(), guarded=True)
    assert table.name == "bobigny"
    assert table.text.endswith(
        "guarded = true  # added from the dashboard: every request passes the SSRF guard\n"
    )
    assert targets.chosen_settings(found, None, ()) == {}
    config = targets.add(path, table)
    assert [t.name for t in config.targets] == ["nanterre", "bobigny"]
    assert path.read_text().startswith(CONFIG)
    assert [t.name for t in load_config(path).targets] == ["nanterre", "bobigny"]
    with pytest.raises(ConfigError):  # twice: a name the file holds, nothing written
        targets.add(path, table)
    assert path.read_text().count("[[target]]") == 2


def test_a_target_is_paused_resumed_set_and_removed(tmp_path: Path) -> None:
    path = write(tmp_path)
    assert targets.pause(path, "nanterre").changed
    assert not targets.pause(path, "nanterre").changed
    assert targets.resume(path, "nanterre").changed
    assert path.read_text() == CONFIG
    edited = targets.set_settings(path, "nanterre", {"every": "10m"})
    assert edited.changed
    assert 'every = "10m"' in path.read_text()
    with pytest.raises(ConfigError):  # a config without a target is refused as at start
        targets.remove(path, "nanterre")
    with pytest.raises(ConfigError):
        targets.pause(path, "nobody")
