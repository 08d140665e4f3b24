"""The config file edited by command: every byte outside the edited [[target]] table kept
(byte-exact expected texts), each new text validated as at start, nothing written on error."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from creneau.adding import config_file
from creneau.adding.config_file import (
    ConfigText,
    add_target,
    edit,
    remove_target,
    render_target,
    set_values,
    target_names,
    value_item,
)
from creneau.config import ConfigError, load_config

# A config with comments everywhere: above, beside and below every table and key, a
# sub-table, an inline table, a multi-line array, odd spacing, a table after the targets.
COMMENTED = """\
# creneau's config — every line below is the user's
[creneau]   # the settings
database = "sqlite:///creneau.db"  # beside this file
contact = "tests@example.org"   # in the User-Agent

# Nanterre: the students' desk
[[target]]  # first
name = "nanterre"    # its name
system = "ezbooking"
url = "https://www.hauts-de-seine.gouv.fr/booking/create/1001"
  every = "10m"   # indented on purpose
desks = [
  "14007",  # Guichet 2
]
# jitter = "1m"

# Bobigny, with a burst
[[target]]
name = "bobigny"
system = "ezbooking"
url = "https://www.seine-saint-denis.gouv.fr/booking/create/1003"
burst = { windows = ["mon 08:00-09:00"], every = "60s" }
# its desks: all

# the consulate
[[target]]
name = "geneve"
system = "html"
url = "https://www.consulat-france-geneve.example/rendez-vous"
none_text = ["aucun créneau disponible"]
[target.burst]
windows = ["tue 09:00-10:00"]
every = "2m"
# end of the consulate

# hosts, after the targets
[hosts."www.hauts-de-seine.gouv.fr"]
per_minute = 4  # below the site's limit
# the end of the file
"""


def write(tmp_path: Path, text: str = COMMENTED) -> Path:
    path = tmp_path / "config.toml"
    path.write_bytes(text.encode("utf-8"))
    return path


def test_the_commented_config_is_valid_and_its_targets_are_found(tmp_path: Path) -> None:
    config = load_config(write(tmp_path))
    assert [target.name for target in config.targets] == ["nanterre", "bobigny", "geneve"]
    assert target_names(COMMENTED) == ["nanterre", "bobigny", "geneve"]


def test_set_replaces_in_place_and_adds_after_the_last_key() -> None:
    edited = set_values(
        COMMENTED, "nanterre", {"every": value_item("20m"), "paused": value_item("true")}
    )
    assert edited == COMMENTED.replace(
        '  every = "10m"   # indented on purpose\n', '  every = "20m"   # indented on purpose\n'
    ).replace('  "14007",  # Guichet 2\n]\n', '  "14007",  # Guichet 2\n]\npaused = true\n')


def test_a_key_added_to_a_table_with_a_sub_table_goes_before_it() -> None:
    edited = set_values(COMMENTED, "geneve", {"paused": value_item("true")})
    assert edited == COMMENTED.replace(  # (tomlkit sets the sub-table apart by a blank line)
        'none_text = ["aucun créneau disponible"]\n',
        'none_text = ["aucun créneau disponible"]\npaused = true\n\n',
    )


def test_pause_then_resume_gives_back_the_same_bytes() -> None:
    paused = set_values(COMMENTED, "bobigny", {"paused": value_item("true")})
    assert paused == COMMENTED.replace(
        'every = "60s" }\n# its desks: all\n', 'every = "60s" }\npaused = true\n# its desks: all\n'
    )
    assert set_values(paused, "bobigny", {"paused": None}) == COMMENTED


def test_removing_a_key_the_table_lacks_changes_nothing() -> None:
    assert set_values(COMMENTED, "bobigny", {"paused": None}) == COMMENTED


def test_remove_takes_the_table_its_comments_above_and_below_and_nothing_else() -> None:
    assert remove_target(COMMENTED, "nanterre") == COMMENTED.replace(
        "# Nanterre: the students' desk\n"
        "[[target]]  # first\n"
        'name = "nanterre"    # its name\n'
        'system = "ezbooking"\n'
        'url = "https://www.hauts-de-seine.gouv.fr/booking/create/1001"\n'
        '  every = "10m"   # indented on purpose\n'
        "desks = [\n"
        '  "14007",  # Guichet 2\n'
        "]\n"
        '# jitter = "1m"\n'
        "\n",
        "",
    )


def test_remove_keeps_the_comments_of_the_table_that_follows() -> None:
    assert remove_target(COMMENTED, "bobigny") == COMMENTED.replace(
        "# Bobigny, with a burst\n"
        "[[target]]\n"
        'name = "bobigny"\n'
        'system = "ezbooking"\n'
        'url = "https://www.seine-saint-denis.gouv.fr/booking/create/1003"\n'
        'burst = { windows = ["mon 08:00-09:00"], every = "60s" }\n'
        "# its desks: all\n"
        "\n",
        "",
    )


def test_remove_takes_a_sub_table_with_its_target() -> None:
    assert remove_target(COMMENTED, "geneve") == COMMENTED.replace(
        "# the consulate\n"
        "[[target]]\n"
        'name = "geneve"\n'
        'system = "html"\n'
        'url = "https://www.consulat-france-geneve.example/rendez-vous"\n'
        'none_text = ["aucun créneau disponible"]\n'
        "[target.burst]\n"
        'windows = ["tue 09:00-10:00"]\n'
        'every = "2m"\n'
        "# end of the consulate\n"
        "\n",
        "",
    )


NEW_TABLE = render_target(
    {"name": "bobigny-2", "system": "ezbooking", "url": "https://x.example/booking/create/7"},
    {"url": "seen by creneau add"},
)


def test_render_target_writes_the_fields_in_order_with_their_comments() -> None:
    assert NEW_TABLE == (
        "[[target]]\n"
        'name = "bobigny-2"\n'
        'system = "ezbooking"\n'
        'url = "https://x.example/booking/create/7"  # seen by creneau add\n'
    )


def test_add_goes_after_the_last_target_before_the_comments_of_what_follows() -> None:
    assert add_target(COMMENTED, NEW_TABLE) == COMMENTED.replace(
        "# end of the consulate\n\n# hosts, after the targets\n",
        "# end of the consulate\n\n" + NEW_TABLE + "\n# hosts, after the targets\n",
    )


def test_targets_split_by_another_table_are_not_edited() -> None:
    text = (
        '[creneau]\ncontact = "a@b.org"\n[[target]]\nname = "a"\n[hosts.x]\n'
        '[[target]]\nname = "b"\n'
    )
    with pytest.raises(ConfigError) as raised:
        set_values(text, "a", {"paused": value_item("true")}, "config.toml")
    assert raised.value.lines == [
        "config.toml: creneau cannot edit this file without changing its layout (its "
        "[[target]] tables are split by another table?): edit it by hand"
    ]


def test_add_to_a_file_without_targets_goes_at_its_end_after_a_blank_line() -> None:
    text = '[creneau]\ncontact = "a@b.org"  # me'
    assert add_target(text, NEW_TABLE) == text + "\n\n" + NEW_TABLE


def test_add_after_a_last_target_that_ends_the_file() -> None:
    text = '[creneau]\ncontact = "a@b.org"\n\n[[target]]\nname = "a"\n'
    assert add_target(text, NEW_TABLE) == text + "\n" + NEW_TABLE


def test_windows_line_endings_and_a_byte_order_mark_are_kept(tmp_path: Path) -> None:
    text = COMMENTED.replace("\n", "\r\n")
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    edit(path, lambda current: set_values(current, "bobigny", {"paused": value_item("true")}))
    expected = text.replace('every = "60s" }\r\n', 'every = "60s" }\r\npaused = true\r\n').encode(
        "utf-8"
    )
    assert path.read_bytes() == b"\xef\xbb\xbf" + expected
    edit(path, lambda current: add_target(current, NEW_TABLE))
    assert b'\r\n[[target]]\r\nname = "bobigny-2"\r\n' in path.read_bytes()
    assert b"\n" not in path.read_bytes().replace(b"\r\n", b"")


@pytest.mark.parametrize(
    ("raw", "written"),
    [
        ("10m", '"10m"'),
        ('"10m"', '"10m"'),
        ("5", "5"),
        ("48.85", "48.85"),
        ("true", "true"),
        ('["14007", "14012"]', '["14007", "14012"]'),
        ("2027-03-01", "2027-03-01"),
        ("${ANTS_TOKEN}", '"${ANTS_TOKEN}"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("", '""'),
    ],
)
def test_values_are_read_as_toml_else_text(raw: str, written: str) -> None:
    assert value_item(raw).as_string() == written


def test_an_unknown_target_is_one_line() -> None:
    with pytest.raises(ConfigError) as raised:
        set_values(COMMENTED, "paris", {"paused": value_item("true")}, "config.toml")
    assert raised.value.lines == [
        'config.toml: no target named "paris" (targets: nanterre, bobigny, geneve)'
    ]


def test_targets_in_an_inline_array_are_not_edited() -> None:
    text = 'target = [{ name = "a" }]\n[creneau]\ncontact = "a@b.org"\n'
    with pytest.raises(ConfigError) as raised:
        remove_target(text, "a", "config.toml")
    assert raised.value.lines == [
        "config.toml: target is not written as [[target]] tables: creneau edits only "
        "[[target]] tables (edit this file by hand)"
    ]


def test_a_file_tomlkit_cannot_read_is_one_line() -> None:
    with pytest.raises(ConfigError) as raised:
        target_names('[creneau\ncontact = "x"\n', "config.toml")
    assert len(raised.value.lines) == 1
    assert raised.value.lines[0].startswith("config.toml: ")
    assert raised.value.lines[0].endswith("(TOML syntax)")


def no_stray_files(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.name != "url-keys.secret")


def test_an_invalid_edit_names_the_file_and_writes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path)
    with pytest.raises(ConfigError) as raised:
        edit(path, lambda text: set_values(text, "nanterre", {"every": value_item("10s")}))
    assert raised.value.lines == [
        f'{path}: target "nanterre".every: must be at least 60s (got 10s)'
    ]
    assert path.read_bytes() == COMMENTED.encode("utf-8")
    assert no_stray_files(tmp_path) == ["config.toml"]


def test_removing_the_last_target_is_refused_as_at_start(tmp_path: Path) -> None:
    path = write(tmp_path, '[creneau]\ncontact = "a@b.org"\n[[target]]\nname = "a"\n')
    with pytest.raises(ConfigError) as raised:
        edit(path, lambda text: remove_target(text, "a"))
    assert raised.value.lines == [f"{path}: target: no target to watch (add a [[target]] table)"]
    assert path.read_text() == '[creneau]\ncontact = "a@b.org"\n[[target]]\nname = "a"\n'


def test_an_edit_keeps_the_permissions_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = write(tmp_path)
    path.chmod(0o600)
    done = edit(path, lambda text: set_values(text, "geneve", {"paused": value_item("true")}))
    assert done.changed
    assert [target.paused for target in done.config.targets] == [False, False, True]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert no_stray_files(tmp_path) == ["config.toml"]
    again = edit(path, lambda text: set_values(text, "geneve", {"paused": value_item("true")}))
    assert not again.changed


def test_a_file_changed_meanwhile_is_not_overwritten(tmp_path: Path) -> None:
    path = write(tmp_path)
    read = ConfigText.read(path)
    path.write_text(COMMENTED + "# someone else's line\n")
    with pytest.raises(ConfigError) as raised:
        config_file.save(read, set_values(read.text, "geneve", {"paused": value_item("true")}))
    assert raised.value.lines == [
        f"{path}: the file changed while creneau was editing it: nothing written, try again"
    ]
    assert path.read_text().endswith("# someone else's line\n")


def test_the_file_behind_a_symbolic_link_is_edited(tmp_path: Path) -> None:
    real = write(tmp_path)
    link = tmp_path / "linked.toml"
    os.symlink(real, link)
    edit(link, lambda text: set_values(text, "geneve", {"paused": value_item("true")}))
    assert link.is_symlink()
    assert "paused = true" in real.read_text()


@pytest.mark.parametrize(
    ("content", "line"),
    [
        (None, "no such file (start from config.example.toml)"),
        (b"[creneau]\n\xff\n", "not UTF-8 text (byte 0xff on line 2): save the file as UTF-8"),
    ],
)
def test_a_file_that_cannot_be_read_is_one_line(
    tmp_path: Path, content: bytes | None, line: str
) -> None:
    path = tmp_path / "config.toml"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ConfigError) as raised:
        ConfigText.read(path)
    assert raised.value.lines == [f"{path}: {line}"]
