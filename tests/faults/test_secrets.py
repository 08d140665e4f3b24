"""Secrets never leave the config: a token from the environment, one written in a URL and a
database password appear in no log line, no command's output, no evidence export, no crash
message and nowhere in the database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from creneau import cli as cli_module
from creneau import redact
from creneau.simulator.phone import Phone
from creneau.simulator.server import SimulatorServer
from creneau.sources.ezbooking.simulator import Prefecture
from processes import StderrLines

ENV_TOKEN = "ENVtoken-7d41f0c2e9"
URL_TOKEN = "URLtoken-b83a55e104"
DB_PASSWORD = "DBpassword-0c9e7a21"


def run(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "creneau", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    return done.stdout + done.stderr


@pytest.mark.slow
def test_no_secret_anywhere(
    simulator: SimulatorServer, prefecture: Prefecture, tmp_path: Path
) -> None:
    phone = Phone().start()
    phone.up = False  # every delivery fails: errors get logged and stored
    port = phone.apprise_url.split(":")[2].strip("/")
    config = tmp_path / "config.toml"
    config.write_text(f"""
[creneau]
contact = "secrets@example.org"
database = "sqlite:///creneau.db"
data_dir = "{tmp_path / "data"}"
keep_pages = true
[[notify]]
name = "phone"
urls = ["json://127.0.0.1:{port}/hook?token=${{PHONE_TOKEN}}",
        "json://user:{URL_TOKEN}@127.0.0.1:{port}/other"]
[[target]]
name = "nanterre"
system = "ezbooking"
url = "{simulator.booking_url("1001")}"
every = "500ms"
jitter = "0s"
[hosts."127.0.0.1"]
per_minute = 600
burst = 60
""")
    env = {**os.environ, "PHONE_TOKEN": ENV_TOKEN, "COLUMNS": "200"}
    prefecture.release("1001", "14007", 2)
    daemon = subprocess.Popen(
        [sys.executable, "-m", "creneau", "-v", "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    stderr = StderrLines(daemon)
    stderr.wait_for("does not take alerts")  # the failure was logged…
    daemon.send_signal(signal.SIGTERM)
    daemon.wait(timeout=30)
    assert daemon.stdout is not None
    logs = daemon.stdout.read() + stderr.rest()
    outputs = [logs]
    for command in (
        ["status"],
        ["outbox", "--all"],
        ["history", "releases"],
        ["history", "summary"],
        ["history", "uptime", "--json"],
        ["notify-test"],
        ["check", "--json"],
    ):
        outputs.append(run(*command, "--config", str(config), env=env))
    export = tmp_path / "export"
    outputs.append(
        run(
            "evidence",
            "nanterre",
            "--since",
            "2020-01-01",
            "--out",
            str(export),
            "--config",
            str(config),
            env=env,
        )
    )
    bad_database = tmp_path / "bad.toml"
    bad_database.write_text(
        config.read_text().replace(
            'database = "sqlite:///creneau.db"',
            'database = "postgresql+psycopg://creneau:${DB_PASSWORD}@127.0.0.1:9/creneau"',
        )
    )
    outputs.append(
        run("status", "--config", str(bad_database), env={**env, "DB_PASSWORD": DB_PASSWORD})
    )
    phone.stop()
    files = [
        path
        for folder in (export, tmp_path / "data")
        for path in folder.rglob("*")
        if path.is_file()
    ] + [tmp_path / "creneau.db"]
    blobs = outputs + [path.read_bytes().decode("latin-1") for path in files]
    for secret in (ENV_TOKEN, URL_TOKEN, DB_PASSWORD):
        leaks = [
            blob[max(0, blob.find(secret) - 80) : blob.find(secret) + 20]
            for blob in blobs
            if secret in blob
        ]
        assert leaks == [], f"{secret} leaked: {leaks}"
    assert "***" in logs or "***" in "".join(outputs)  # …with its secret masked


def test_a_crash_message_holds_no_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    redact.register(ENV_TOKEN)

    def crash(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError(f"could not reach json://127.0.0.1/hook?token={ENV_TOKEN}")

    from creneau.cli import status as status_command  # a lazy command: not loaded until run

    monkeypatch.setattr(status_command, "read_config", crash)
    monkeypatch.setattr(sys, "argv", ["creneau", "status"])
    with pytest.raises(SystemExit) as stopped:
        cli_module.main()
    printed = capsys.readouterr().err
    assert stopped.value.code == 1
    assert "internal error" in printed
    assert ENV_TOKEN not in printed
    assert "token=***" in printed
