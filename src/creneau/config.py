"""The configuration file: TOML, validated by pydantic, `${ENV_VAR}` secrets interpolated.

Every mistake becomes one line naming the file, the place and the problem, e.g.
`config.toml: target "paris-etudiant".every: must be at least 60s (got 10s)`."""

from __future__ import annotations

import os
import re
import tomllib
from datetime import time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from platformdirs import user_data_path
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from creneau import redact, sources
from creneau.diff import HYSTERESIS
from creneau.http import HostBudget
from creneau.targets import Duration, TargetBase, is_loopback

ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
MAX_PUBLIC_PER_MINUTE = 30.0


def default_data_dir() -> Path:
    """$XDG_DATA_HOME/creneau (~/.local/share/creneau on Linux; /data/creneau in Docker)."""
    return user_data_path("creneau")


def default_database_url() -> str:
    return f"sqlite:///{default_data_dir() / 'creneau.db'}"


class ConfigError(Exception):
    """One or more config mistakes, each already formatted as one line."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Settings(_Strict):
    database: str = Field(default_factory=default_database_url)
    timezone: str = "Europe/Paris"
    contact: str = Field(min_length=3, description="goes into the User-Agent")
    data_dir: Path = Field(default_factory=default_data_dir)
    language: Literal["fr", "en"] = "fr"
    hysteresis: Duration = HYSTERESIS  # a slot gone and back within this is not new again
    failing_after: Duration | None = timedelta(hours=2)  # one alert when no clear answer
    heartbeat: str | None = None  # "HH:MM": a daily "still watching" message
    alert_expiry: Duration = timedelta(hours=6)  # a slot alert older than this is not sent
    retention: Duration = timedelta(days=90)  # raw checks older than this become hourly counts
    keep_pages: bool = False  # keep every page as received (deduplicated), for evidence

    @field_validator("heartbeat")
    @classmethod
    def _clock_time(cls, value: str | None) -> str | None:
        if value is not None:
            _parse_clock(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f'unknown time zone "{name}" (e.g. "Europe/Paris")') from None
        return name

    @field_validator("database")
    @classmethod
    def _database_url(cls, url: str) -> str:
        try:
            make_url(url)
        except ArgumentError:
            raise ValueError('must be an SQLAlchemy URL such as "sqlite:///creneau.db"') from None
        return url

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def pages_dir(self) -> Path:
        """Where unrecognised pages are kept (see archive.py)."""
        return self.data_dir.expanduser() / "pages"


class Channel(_Strict):
    name: str = Field(min_length=1, max_length=100)
    urls: list[SecretStr] = Field(min_length=1)
    kinds: list[Literal["slots", "trouble", "heartbeat"]] = Field(
        default_factory=lambda: ["slots", "trouble", "heartbeat"],  # type: ignore[arg-type]
        min_length=1,  # (pydantic's stubs cannot match the lambda to the Literal list)
    )
    quiet: str | None = None  # "23:00-07:00": hold delivery, then send one digest
    wake_for_slots: bool = False  # during quiet hours, send slot alerts at once anyway

    @field_validator("quiet")
    @classmethod
    def _quiet_hours(cls, value: str | None) -> str | None:
        if value is not None:
            quiet_hours(value)
        return value

    @property
    def quiet_hours(self) -> tuple[time, time] | None:
        return quiet_hours(self.quiet) if self.quiet else None

    @property
    def secret_urls(self) -> list[str]:
        """The URLs with their secrets: for the sender only, never for display."""
        return [url.get_secret_value() for url in self.urls]

    @field_validator("urls")
    @classmethod
    def _apprise_urls(cls, urls: list[SecretStr]) -> list[SecretStr]:
        for url in urls:
            if "://" not in url.get_secret_value():
                raise ValueError("each URL must look like scheme://… (see Apprise's URL list)")
        return urls


class HostSettings(_Strict):
    per_minute: float = Field(default=6.0, gt=0)
    burst: int = Field(default=10, ge=1, le=60)


if TYPE_CHECKING:
    TargetConfig = TargetBase
else:  # one model per system, told apart by `system`: built from the registry
    TargetConfig = Annotated[
        Union[tuple(sources.target_models())],  # noqa: UP007
        Field(discriminator="system"),
    ]


class Config(_Strict):
    creneau: Settings
    notify: list[Channel] = Field(default_factory=list)
    target: list[TargetConfig] = Field(default_factory=list)
    hosts: dict[str, HostSettings] = Field(default_factory=dict)
    templates: dict[str, dict[str, str]] = Field(default_factory=dict)

    @property
    def targets(self) -> list[TargetBase]:
        return list(self.target)

    def channel(self, name: str) -> Channel:
        return next(channel for channel in self.notify if channel.name == name)

    def channels_for(self, target: TargetBase) -> list[Channel]:
        """The target's channels; a target that names none uses every channel."""
        if not target.notify:
            return list(self.notify)
        return [self.channel(name) for name in target.notify]

    def budget_for(self, host: str) -> HostBudget:
        if host in self.hosts:
            settings = self.hosts[host]
            return HostBudget(settings.per_minute, settings.burst)
        budget: HostBudget = sources.host_budgets().get(host, HostBudget())
        return budget


def _parse_clock(text: str) -> time:
    try:
        hours, minutes = (int(part) for part in text.strip().split(":"))
        return time(hours, minutes)
    except ValueError:
        raise ValueError(f'expected a time such as "09:00" (got "{text}")') from None


def quiet_hours(text: str) -> tuple[time, time]:
    """'23:00-07:00' → (23:00, 07:00); a range may run past midnight."""
    start, sep, end = text.partition("-")
    try:
        begins, ends = _parse_clock(start), _parse_clock(end)
    except ValueError:
        raise ValueError(f'expected hours such as "23:00-07:00" (got "{text}")') from None
    if not sep:
        raise ValueError(f'expected hours such as "23:00-07:00" (got "{text}")')
    if begins == ends:
        raise ValueError(f'"{text}" is empty: start and end are equal')
    return begins, ends


def load_config(path: Path) -> Config:
    """Read, interpolate and validate; raise ConfigError with one line per mistake."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{name}: no such file (start from config.example.toml)"]) from None
    except (OSError, UnicodeDecodeError) as failure:
        raise ConfigError([f"{name}: cannot read: {failure}"]) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as failure:
        raise ConfigError([f"{name}: {_toml_problem(failure)}"]) from None
    data, problems = _interpolate(raw, ())
    if problems:
        raise ConfigError([f"{name}: {_place(loc, raw)}: {why}" for loc, why in problems])
    data = _resolve_database(data, path.parent)
    try:
        config = Config.model_validate(data)
    except ValidationError as failure:
        raise ConfigError([f"{name}: {line}" for line in describe_errors(failure, data)]) from None
    problems_found = _cross_check(config)
    if problems_found:
        raise ConfigError([f"{name}: {line}" for line in problems_found])
    for channel in config.notify:
        for url in channel.urls:
            redact.register(url.get_secret_value())
    return config


def describe_errors(failure: ValidationError, data: Any) -> list[str]:
    lines = []
    for error in failure.errors(include_url=False, include_input=False):
        loc = error["loc"]
        if error["type"] == "union_tag_invalid":
            loc = (*loc, "system")  # pydantic places it on the table; the key is at fault
        place = _place(loc, data)
        lines.append(f"{place}: {_problem(error)}" if place else _problem(error))
    return lines


def _problem(error: Any) -> str:
    kind, message, context = error["type"], error["msg"], error.get("ctx") or {}
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "union_tag_invalid":
        return f'unknown system "{context.get("tag")}" (known: {", ".join(sources.SYSTEMS)})'
    if kind == "union_tag_not_found":
        return f"system is required (one of: {', '.join(sources.SYSTEMS)})"
    return str(message).removeprefix("Value error, ").removeprefix("Assertion failed, ")


def _place(loc: tuple[Any, ...], data: Any) -> str:
    """('target', 0, 'ezbooking', 'every') → 'target "paris-etudiant".every'."""
    parts: list[str] = []
    node = data
    for element in loc:
        if isinstance(element, int) and isinstance(node, list):
            item = node[element] if 0 <= element < len(node) else None
            label = item.get("name") if isinstance(item, dict) else None
            suffix = f' "{label}"' if isinstance(label, str) and label else f"[{element}]"
            parts[-1] = parts[-1] + suffix if parts else suffix
            node = item
            continue
        key = str(element)
        if isinstance(node, dict) and key not in node and node.get("system") == key:
            continue  # the discriminator's own name, not a place in the file
        parts.append(key if re.fullmatch(r"[A-Za-z_][\w-]*", key) else f'"{key}"')
        node = node.get(key) if isinstance(node, dict) else None
    return ".".join(parts)


def _toml_problem(failure: tomllib.TOMLDecodeError) -> str:
    message = str(failure)
    found = re.search(r"\(at line (\d+), column (\d+)\)", message)
    if found:
        message = message[: found.start()].strip()
        return f"line {found.group(1)}, column {found.group(2)}: {message} (TOML syntax)"
    return f"{message} (TOML syntax)"


def _interpolate(node: Any, loc: tuple[Any, ...]) -> tuple[Any, list[tuple[tuple[Any, ...], str]]]:
    """Replace ${NAME} by the environment's value everywhere; collect missing names."""
    problems: list[tuple[tuple[Any, ...], str]] = []
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            out[key], found = _interpolate(value, (*loc, key))
            problems += found
        return out, problems
    if isinstance(node, list):
        items = []
        for index, value in enumerate(node):
            item, found = _interpolate(value, (*loc, index))
            items.append(item)
            problems += found
        return items, problems
    if not isinstance(node, str) or "${" not in node:
        return node, problems

    def substitute(match: re.Match[str]) -> str:
        value = os.environ.get(match.group(1))
        if value is None:
            problems.append((loc, f"environment variable {match.group(1)} is not set"))
            return ""
        redact.register(value)
        return value

    return ENV_REFERENCE.sub(substitute, node), problems


def _resolve_database(data: Any, base: Path) -> Any:
    """A relative SQLite path is relative to the config file, not to the working directory."""
    settings = data.get("creneau") if isinstance(data, dict) else None
    url = settings.get("database") if isinstance(settings, dict) else None
    if not isinstance(url, str) or not url.startswith("sqlite:///") or url == "sqlite:///":
        return data
    file = url.removeprefix("sqlite:///")
    if file.startswith(("/", ":memory:")):
        return data
    assert isinstance(settings, dict)  # it held the URL
    resolved = {**settings, "database": f"sqlite:///{(base / file).resolve()}"}
    return {**data, "creneau": resolved}


def _cross_check(config: Config) -> list[str]:
    """Mistakes that involve several places: names, references, budgets."""
    lines = []
    channels = [channel.name for channel in config.notify]
    for name in {n for n in channels if channels.count(n) > 1}:
        lines.append(f'notify "{name}": the name is used twice')
    names = [target.name for target in config.targets]
    for name in sorted({n for n in names if names.count(n) > 1}):
        lines.append(f'target "{name}": the name is used twice')
    if not config.targets:
        lines.append("target: no target to watch (add a [[target]] table)")
    for target in config.targets:
        for wanted in target.notify:
            if wanted not in channels:
                known = ", ".join(channels) or "none defined"
                lines.append(
                    f'target "{target.name}".notify: no channel named "{wanted}" '
                    f"(channels: {known})"
                )
    if config.templates:
        from creneau.messages import check_overrides

        lines += [f"templates.{problem}" for problem in check_overrides(config.templates)]
    for host, settings in config.hosts.items():
        if settings.per_minute > MAX_PUBLIC_PER_MINUTE and not is_loopback(f"http://{host}/"):
            lines.append(
                f'hosts."{host}".per_minute: must be at most '
                f"{MAX_PUBLIC_PER_MINUTE:g} for a public host (got {settings.per_minute:g})"
            )
    return lines
