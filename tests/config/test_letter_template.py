"""[creneau] letter_template, an association's own letter for `creneau evidence`, and tsa /
tsa_ca, the authority that time-stamps every export and its root. A file exists when the
config is read, relative to the config file unless absolute; the authority is an http(s)
link; anything else is the config's one-line mistake (and `creneau` exits 2 on it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from creneau.cli import cli
from creneau.config import ConfigError, load_config

CONFIG = """[creneau]
contact = "a@b.org"
{setting}
[[target]]
name = "t"
system = "ezbooking"
url = "https://www.example.gouv.fr/booking/create/1"
"""


def config_with(folder: Path, setting: str) -> Path:
    path = folder / "config.toml"
    path.write_text(CONFIG.format(setting=setting), encoding="utf-8")
    return path


def mistakes_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as failure:
        load_config(path)
    return failure.value.lines


def test_without_it_creneau_uses_its_own_letter(tmp_path: Path) -> None:
    assert load_config(config_with(tmp_path, "")).creneau.letter_template is None


def test_a_relative_path_is_relative_to_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "lettres").mkdir()
    (tmp_path / "lettres" / "cimade.txt.j2").write_text("{{ target }}\n", encoding="utf-8")
    monkeypatch.chdir("/")
    config = load_config(config_with(tmp_path, 'letter_template = "lettres/cimade.txt.j2"'))
    assert config.creneau.letter_template == tmp_path / "lettres" / "cimade.txt.j2"


def test_an_absolute_path_is_kept(tmp_path: Path) -> None:
    own = tmp_path / "elsewhere.txt.j2"
    own.write_text("{{ target }}\n", encoding="utf-8")
    folder = tmp_path / "etc"
    folder.mkdir()
    config = load_config(config_with(folder, f'letter_template = "{own}"'))
    assert config.creneau.letter_template == own


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("5", "must be a file, as text in quotes (got 5)"),
        ('""', 'must be a file, as text in quotes (got "")'),
        ("true", "must be a file, as text in quotes (got True)"),
    ],
)
def test_a_value_that_is_no_path_is_one_line(tmp_path: Path, value: str, problem: str) -> None:
    path = config_with(tmp_path, f"letter_template = {value}")
    assert mistakes_of(path) == [f"{path}: creneau.letter_template: {problem}"]


def test_a_missing_file_or_a_folder_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    path = config_with(tmp_path, 'letter_template = "d/absente.j2"')
    assert mistakes_of(path) == [
        f'{path}: creneau.letter_template: no such file: "{tmp_path}/d/absente.j2"'
    ]
    path = config_with(tmp_path, 'letter_template = "d"')
    assert mistakes_of(path) == [
        f'{path}: creneau.letter_template: must be a file, not a folder (got "{tmp_path}/d")'
    ]


def test_the_command_line_exits_2_on_a_missing_template(tmp_path: Path) -> None:
    path = config_with(tmp_path, 'letter_template = "absente.j2"')
    out = tmp_path / "export"
    done = CliRunner().invoke(
        cli, ["evidence", "t", "--config", str(path), "--since", "2026-11-01", "--out", str(out)]
    )
    assert done.exit_code == 2, done.output
    assert done.stderr.splitlines()[-1] == (
        f'{path}: creneau.letter_template: no such file: "{tmp_path}/absente.j2"'
    )
    assert not out.exists()


# --- [creneau] tsa and tsa_ca: the authority every evidence export asks -----------------------


def test_the_authority_and_its_root_relative_to_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "roots").mkdir()
    (tmp_path / "roots" / "tsa.pem").write_text("a root\n", encoding="utf-8")
    monkeypatch.chdir("/")
    setting = 'tsa = " https://tsa.example/tsr "\ntsa_ca = "roots/tsa.pem"'
    config = load_config(config_with(tmp_path, setting))
    assert (config.creneau.tsa, config.creneau.tsa_ca) == (
        "https://tsa.example/tsr",
        tmp_path / "roots" / "tsa.pem",
    )
    assert load_config(config_with(tmp_path, "")).creneau.tsa is None


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ('tsa = "ftp://tsa.example/"', 'must be an http:// or https:// link, in quotes (got "ftp://tsa.example/")'),
        ("tsa = 3", "must be an http:// or https:// link, in quotes (got 3)"),
        ('tsa_ca = "missing.pem"', 'no such file: "'),
    ],
)  # fmt: skip
def test_a_bad_authority_or_root_is_one_line(tmp_path: Path, setting: str, said: str) -> None:
    [line] = mistakes_of(config_with(tmp_path, setting))
    assert said in line
