"""`creneau evidence` is a group whose first argument, when it names none of its commands, is
the export's: every command line written before `verify` existed does what it did; a target
named like a command is reached through `creneau evidence export NAME`."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from creneau.cli import cli
from creneau.cli.evidence import ExportByDefault, evidence


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, object]]]:
    """Which command ran, with what: the commands' callbacks replaced by recorders."""
    calls: list[tuple[str, dict[str, object]]] = []
    for command_name in ("export", "verify"):
        command = evidence.commands[command_name]

        def recorder(_command: str = command_name, **values: object) -> None:
            calls.append((_command, values))

        monkeypatch.setattr(command, "callback", recorder)
    return calls


def invoke(*args: str) -> tuple[int, str]:
    done = CliRunner().invoke(cli, ["evidence", *args])
    return done.exit_code, done.output


def test_a_target_name_first_is_the_export(seen: list[tuple[str, dict[str, object]]]) -> None:
    code, output = invoke("nanterre", "--since", "2026-11-01", "--out", "dir")
    assert code == 0, output
    assert [(name, values["name"], values["out_dir"]) for name, values in seen] == [
        ("export", "nanterre", Path("dir"))
    ]


def test_options_first_are_the_export_too(seen: list[tuple[str, dict[str, object]]]) -> None:
    code, output = invoke("--since", "2026-11-01", "nanterre", "--out", "dir", "--tsa", "http://t/")
    assert code == 0, output
    assert [(name, values["name"], values["tsa_url"]) for name, values in seen] == [
        ("export", "nanterre", "http://t/")
    ]


def test_verify_is_the_command_and_a_target_named_verify_is_still_reachable(
    seen: list[tuple[str, dict[str, object]]],
) -> None:
    assert invoke("verify", "dir", "--ca", "root.pem")[0] == 0
    assert invoke("export", "verify", "--since", "2026-11-01", "--out", "dir")[0] == 0
    assert invoke("export", "export", "--since", "2026-11-01", "--out", "dir")[0] == 0
    assert [(name, values.get("name"), values.get("folder")) for name, values in seen] == [
        ("verify", None, Path("dir")),
        ("export", "verify", None),
        ("export", "export", None),
    ]


def test_help_lists_both_commands_and_usage_errors_exit_2() -> None:
    code, output = invoke("--help")
    assert code == 0
    assert "export" in output
    assert "verify" in output
    code, output = invoke("nanterre", "--out", "dir")  # no --since
    assert code == 2
    assert "Missing option '--since'" in output
    code, output = invoke("verify")
    assert code == 2
    assert "Missing argument 'FOLDER'" in output


def test_the_group_is_generic() -> None:
    @click.group(cls=ExportByDefault)
    def group() -> None:
        pass

    @group.command("export")
    @click.argument("word")
    def export(word: str) -> None:
        click.echo(f"export {word}")

    assert CliRunner().invoke(group, ["hello"]).output == "export hello\n"
    assert CliRunner().invoke(group, ["export", "export"]).output == "export export\n"
