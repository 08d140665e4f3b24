"""The configuration file: TOML, validated by pydantic, `${ENV_VAR}` secrets interpolated.
A plain value: reading it starts nothing and registers nothing (creneau.startup does, once it
is read: Apprise's reading of the channel URLs, the template overrides, the secrets).

Every mistake becomes one line naming the file, the place and the problem, e.g.
`config.toml: target "paris-etudiant".every: must be at least 60s (got 10s)`."""

from __future__ import annotations

import logging
import os
import re
import tomllib
from collections.abc import Sequence
from datetime import time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from platformdirs import user_data_path
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from creneau import redact, sources
from creneau.alert_kinds import DEFAULT_KINDS, AlertKind
from creneau.changes import HYSTERESIS
from creneau.database_url import database_problem, sqlite_folder
from creneau.host_budget import HostBudget
from creneau.targets import (
    NAME_CHARACTERS,
    NAME_PATTERN,
    DurationWithin,
    Flag,
    TargetBase,
    is_loopback,
    one_line,
    shown,
)

ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
CLOCK = re.compile(r"([0-9]{1,2}):([0-9]{2})")  # at most 2 digits: int() cannot overflow time()
MAX_PUBLIC_PER_MINUTE = 30.0
# The databases creneau is built and tested on: (SQLAlchemy dialect, driver).
# The bounds of each setting's duration, and why:
# a slot gone and back after more than a day is a new release for anyone watching;
Hysteresis = Annotated[timedelta, BeforeValidator(DurationWithin(timedelta(0), timedelta(days=1)))]
# below 5 minutes one slow check (up to 120 s, retries included) would raise the alert, and
# a week of silence left unannounced defeats its purpose;
FailingAfter = Annotated[
    timedelta, BeforeValidator(DurationWithin(timedelta(minutes=5), timedelta(days=7)))
]
# a slot alert needs time for a retry or two (30 s, then doubling), and one a week late is
# noise: slots rarely last a day;
AlertExpiry = Annotated[
    timedelta, BeforeValidator(DurationWithin(timedelta(minutes=1), timedelta(days=7)))
]
# raw checks are rolled up every 6 hours, so keeping less than a day of them makes the
# history hourly at once; ten years is beyond any use of the evidence.
Retention = Annotated[
    timedelta, BeforeValidator(DurationWithin(timedelta(days=1), timedelta(days=3650)))
]


def _existing_file(value: object) -> object:
    """A file creneau reads, written as text in quotes; it must exist when the config is read
    (a relative path is relative to the config file: see `_resolve_files`)."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"must be a file, as text in quotes (got {shown(value)})")
    path = Path(value).expanduser()
    if path.is_dir():
        raise ValueError(f'must be a file, not a folder (got "{one_line(str(path))}")')
    if not path.is_file():
        raise ValueError(f'no such file: "{one_line(str(path))}"')
    return path


def _web_link(value: object) -> object:
    """An http(s) link, as text in quotes (what the link may reach is the client's guard's to
    judge when it is used)."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip().startswith(("http://", "https://")):
        raise ValueError(f"must be an http:// or https:// link, in quotes (got {shown(value)})")
    return value.strip()


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
    data_dir: Path = Field(default_factory=default_data_dir)  # see _data_dir_beside_database
    language: Literal["fr", "en"] = "fr"
    hysteresis: Hysteresis = HYSTERESIS  # a slot gone and back within this is not new again
    failing_after: FailingAfter | None = timedelta(hours=2)  # one alert when no clear answer
    heartbeat: str | None = None  # "HH:MM": a daily "still watching" message
    alert_expiry: AlertExpiry = timedelta(hours=6)  # a slot alert older than this is not sent
    retention: Retention = timedelta(days=90)  # raw checks older than this become hourly counts
    keep_pages: Flag = False  # keep every page as received (deduplicated), for evidence
    # an association's own letter for `creneau evidence` (lettre.txt), instead of creneau's
    letter_template: Annotated[Path | None, BeforeValidator(_existing_file)] = None
    # an RFC 3161 time-stamping authority for every evidence export (the command's --tsa
    # default, the dashboard's zip), and its root certificate when not in the system's store
    tsa: Annotated[str | None, BeforeValidator(_web_link)] = None
    tsa_ca: Annotated[Path | None, BeforeValidator(_existing_file)] = None

    @model_validator(mode="before")
    @classmethod
    def _data_dir_beside_database(cls, data: Any) -> Any:
        """data_dir, unless given: the SQLite database's folder (kept pages and CAPTCHA images
        next to the checks they belong to), else the user's data directory."""
        if not isinstance(data, dict) or "data_dir" in data:
            return data
        folder = sqlite_folder(data.get("database"))
        return {**data, "data_dir": folder} if folder else data

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
        if problem := database_problem(url):
            raise ValueError(problem)
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
    kinds: list[AlertKind] = Field(default_factory=lambda: list(DEFAULT_KINDS), min_length=1)
    quiet: str | None = None  # "23:00-07:00": hold delivery, then send one digest
    wake_for_slots: Flag = False  # during quiet hours, send slot alerts at once anyway

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
    per_minute: float = Field(default=6.0, gt=0, allow_inf_nan=False)
    burst: int = Field(default=10, ge=1, le=60)


if TYPE_CHECKING:
    TargetConfig = TargetBase
else:  # one model per system, told apart by `system`: built from the registry
    TargetConfig = Annotated[
        Union[tuple(sources.target_models())],  # noqa: UP007
        Field(discriminator="system"),
    ]


DEFAULT_WEB_LISTEN = "127.0.0.1:8765"


class WebSettings(_Strict):
    """The dashboard: served by `creneau run` (and `creneau web`), on 127.0.0.1 unless told."""

    enabled: Flag = True
    listen: str = DEFAULT_WEB_LISTEN  # "host:port"
    public_url: str | None = None  # the address alerts link to (behind a reverse proxy)
    root_path: str = ""  # served under a sub-path, e.g. "/creneau"
    password: SecretStr | None = None  # "${CRENEAU_WEB_PASSWORD}", or a hash-password hash
    api_token: SecretStr | None = None  # Authorization: Bearer … for /api/v1
    metrics_token: SecretStr | None = None  # Authorization: Bearer … for /metrics
    public: Flag = False  # also serve /public/…: release history, nothing personal
    trusted_proxy_auth: Flag = False  # a reverse proxy in front authenticates people
    allow_private_targets: Flag = False  # links added through the web may be on a LAN

    @field_validator("listen")
    @classmethod
    def _host_and_port(cls, listen: str) -> str:
        host, port = split_listen(listen)
        if not host or not 0 < port < 65536:
            raise ValueError(
                f'expected "host:port" such as "{DEFAULT_WEB_LISTEN}" (got "{listen}")'
            )
        return listen

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, url: str | None) -> str | None:
        if url is not None:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                example = "https://creneau.example.org"
                raise ValueError(f'must be an http(s) address such as "{example}" (got "{url}")')
        return url

    @field_validator("root_path")
    @classmethod
    def _root_path(cls, path: str) -> str:
        if path and (not path.startswith("/") or path.endswith("/")):
            raise ValueError(
                f'must start with "/" and not end with one, e.g. "/creneau" (got "{path}")'
            )
        return path

    @property
    def host(self) -> str:
        return split_listen(self.listen)[0]

    @property
    def port(self) -> int:
        return split_listen(self.listen)[1]


def split_listen(listen: str) -> tuple[str, int]:
    """'127.0.0.1:8765' → ('127.0.0.1', 8765); '[::1]:8765' → ('::1', 8765); (host, 0) when
    the port is missing or not a number."""
    host, _, port = listen.rpartition(":")
    host = host.strip("[]")
    return host, int(port) if port.isdigit() else 0


class Config(_Strict):
    creneau: Settings
    web: WebSettings = Field(default_factory=WebSettings)
    notify: list[Channel] = Field(default_factory=list)
    target: list[TargetConfig] = Field(default_factory=list)
    hosts: dict[str, HostSettings] = Field(default_factory=dict)
    templates: dict[str, dict[str, str]] = Field(default_factory=dict)
    _warnings: list[str] = PrivateAttr(default_factory=list)
    _secrets: tuple[str, ...] = PrivateAttr(default=())

    @property
    def targets(self) -> list[TargetBase]:
        return list(self.target)

    @property
    def warnings(self) -> list[str]:
        """What the start-up step accepted but the user should know (an Apprise URL with TLS
        checks off), one line each, naming file and place like the errors: for the CLI to
        log at start."""
        return list(self._warnings)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret the file holds, to mask wherever text is shown: the ${VAR} values,
        the credentials in target URLs, the channel URLs."""
        return self._secrets

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
    found = CLOCK.fullmatch(text.strip())
    try:
        if found is None:
            raise ValueError
        return time(int(found.group(1)), int(found.group(2)))
    except ValueError:  # no match, or 24:00, 09:60
        raise ValueError(f'expected a time such as "09:00" (got {shown(text)})') from None


def quiet_hours(text: str) -> tuple[time, time]:
    """'23:00-07:00' → (23:00, 07:00); a range may run past midnight."""
    start, sep, end = text.partition("-")
    try:
        begins, ends = _parse_clock(start), _parse_clock(end)
    except ValueError:
        raise ValueError(f'expected hours such as "23:00-07:00" (got {shown(text)})') from None
    if not sep:
        raise ValueError(f'expected hours such as "23:00-07:00" (got {shown(text)})')
    if begins == ends:
        raise ValueError(f'"{text}" is empty: start and end are equal')
    return begins, ends


def load_config(path: Path) -> Config:
    """Read, interpolate and validate; raise ConfigError with one line per mistake, and
    nothing else whatever the file holds (a caller never sees a traceback: the CLI exits 2,
    the daemon keeps the config it runs). The secrets the file holds are masked in the
    mistakes, and kept in `Config.secrets` for the start-up step to register."""
    secrets: list[str] = []
    try:
        return _load(path, secrets)
    except ConfigError:
        raise
    except RecursionError:
        raise ConfigError([f"{path}: nested too deeply for creneau to read"]) from None
    except Exception as failure:  # a case no check above foresaw: still one line
        logging.getLogger(__name__).debug("loading %s failed", path, exc_info=True)
        said = redact.redact(f"{type(failure).__name__}: {failure}")
        raise mistakes(str(path), [f"cannot be loaded ({one_line(said)})"], secrets) from None


def _load(path: Path, secrets: list[str]) -> Config:
    name = str(path)
    try:
        # utf-8-sig: a byte order mark, which some Windows editors write, is not a mistake
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError([f"{name}: no such file (start from config.example.toml)"]) from None
    except UnicodeDecodeError as failure:
        line = failure.object[: failure.start].count(b"\n") + 1
        byte = failure.object[failure.start]
        raise ConfigError(
            [f"{name}: not UTF-8 text (byte {byte:#04x} on line {line}): save the file as UTF-8"]
        ) from None
    except OSError as failure:
        raise ConfigError([f"{name}: cannot read: {failure.strerror or failure}"]) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as failure:
        raise ConfigError([f"{name}: {_toml_problem(failure)}"]) from None
    except RecursionError:
        raise ConfigError([f"{name}: {too_deep(text)}"]) from None
    data, problems = _interpolate(raw, (), secrets)
    if problems:
        raise mistakes(name, [f"{_place(loc, raw)}: {why}" for loc, why in problems], secrets)
    secrets += _target_credentials(data)
    data = _resolve_database(data, path.parent)
    data = _resolve_files(data, path.parent)
    try:
        config = Config.model_validate(data)
    except ValidationError as failure:
        raise mistakes(name, describe_errors(failure, data), secrets) from None
    problems_found = _cross_check(config)
    if problems_found:
        raise mistakes(name, problems_found, secrets)
    urls = [url.get_secret_value() for channel in config.notify for url in channel.urls]
    config._secrets = tuple(dict.fromkeys([*secrets, *urls]))
    return config


def _target_credentials(data: Any) -> list[str]:
    """A target URL's `user:password@` is a secret like a ${VAR} value: masked wherever a
    message quotes the URL (an error from the site, the config's own mistakes)."""
    targets = data.get("target") if isinstance(data, dict) else None
    return [
        secret
        for target in (targets if isinstance(targets, list) else [])
        if isinstance(target, dict) and isinstance(target.get("url"), str)
        for secret in redact.link_secrets(target["url"])
    ]


def mistakes(name: str, lines: list[str], secrets: Sequence[str] = ()) -> ConfigError:
    """The file's mistakes, one line each naming the file, its secrets masked."""
    return ConfigError([redact.masked(one_line(f"{name}: {line}"), secrets) for line in lines])


def describe_errors(failure: ValidationError, data: Any) -> list[str]:
    lines = []
    for error in failure.errors(include_url=False):
        loc = error["loc"]
        if error["type"] == "union_tag_invalid":
            loc = (*loc, "system")  # pydantic places it on the table; the key is at fault
        place = _place(loc, data)
        problem = _problem(error)
        lines.append(one_line(f"{place}: {problem}" if place else problem))
    return lines


# Where the value itself may be a secret, a message never shows it.
SECRET_KEYS = frozenset({"urls", "token", "database"})
NUMBER_COMPARISONS = {
    "greater_than": ("more than", "gt"),
    "greater_than_equal": ("at least", "ge"),
    "less_than": ("less than", "lt"),
    "less_than_equal": ("at most", "le"),
}


def _problem(error: Any) -> str:
    """pydantic's error, as a person would say it (the value as written, when not secret)."""
    kind, context = error["type"], error.get("ctx") or {}
    loc = error["loc"]
    secret = any(isinstance(key, str) and key in SECRET_KEYS for key in loc)
    got = "" if secret or "input" not in error else f" (got {shown(error['input'])})"
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "union_tag_invalid":
        return f'unknown system "{context.get("tag")}" (known: {", ".join(sources.SYSTEMS)})'
    if kind == "union_tag_not_found":
        return f"system is required (one of: {', '.join(sources.SYSTEMS)})"
    if kind in ("value_error", "assertion_error"):
        return str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind in NUMBER_COMPARISONS:
        words, bound = NUMBER_COMPARISONS[kind]
        return f"must be {words} {_number(context.get(bound))}{got}"
    value = None if secret else error.get("input")
    return _type_problem(kind, context, loc, got, value) or _fallback(str(error["msg"]), got)


def _number(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _type_problem(
    kind: str, context: dict[str, Any], loc: tuple[Any, ...], got: str, value: object
) -> str:
    """The wrong kind of value, or the right kind in the wrong shape; "" if not known here.
    `got` is " (got <value as written>)", or "" where the value is not to be shown."""
    if kind in ("bool_type", "bool_parsing"):
        return f"must be true or false, without quotes{got}"
    if kind in ("int_type", "int_parsing", "int_from_float", "int_parsing_size"):
        return f"must be a whole number, without quotes{got}"
    if kind in ("float_type", "float_parsing"):
        return f"must be a number, without quotes{got}"
    if kind == "finite_number":
        return f"must be a finite number{got}"
    if kind in ("string_type", "string_sub_type"):
        return f"must be text in quotes{got}"
    if kind == "string_too_short":
        least = context.get("min_length", 1)
        return "must not be empty" if least == 1 else f"must be at least {least} characters"
    if kind == "string_too_long":
        return f"must be at most {context.get('max_length')} characters"
    if kind == "string_pattern_mismatch":
        if context.get("pattern") == NAME_PATTERN:
            return f"may contain only {NAME_CHARACTERS}{got}"
        return f"is not written the way this setting expects{got}"
    if kind == "literal_error":
        expected = str(context.get("expected", "")).replace("'", '"')
        return f"must be {expected}{got}"
    if kind == "too_short":
        least, actual = context.get("min_length", 1), context.get("actual_length", 0)
        return "must not be empty" if least == 1 else f"must list at least {least} (got {actual})"
    if kind == "too_long":
        return f"must list at most {context.get('max_length')} (got {context.get('actual_length')})"
    if kind == "list_type":
        if loc in (("target",), ("notify",)):
            return f"write [[{loc[0]}]], with two brackets: there may be several"
        example = shown(value) if isinstance(value, str) and got else '"…"'
        return f"must be a list in brackets, such as [{example}]{got}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        if loc == ("creneau",):
            return "write [creneau], a table with one bracket"
        return f"must be a table (keys and values), not a single value{got}"
    if kind.startswith("date"):  # date_parsing, date_from_datetime_parsing…: why, if said
        why = f": {context['error']}" if context.get("error") else ""
        return f"must be a date such as 2027-03-01{got[:-1] + why + ')' if got else why}"
    if kind.startswith("url"):
        return "must be a web address such as https://example.org/…"
    if kind == "path_type":
        return f"must be a folder, as text in quotes{got}"
    return ""


def _fallback(message: str, got: str) -> str:
    """An error type not listed above: pydantic's words, made to read like the others."""
    message = re.sub(r"^Input should be", "must be", message)
    message = re.sub(r"^Value should have", "must have", message)
    return f"{message}{got}"


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


def too_deep(text: str) -> str:
    """Where the TOML text nests deepest, for a parser that gave up (RecursionError)."""
    depth, offset = _deepest_bracket(text)
    if not depth:
        return "nested too deeply to read (TOML syntax)"
    line = text.count("\n", 0, offset) + 1
    column = offset - text.rfind("\n", 0, offset)
    return (
        f"line {line}, column {column}: lists or tables nested {depth} deep, too deep to read "
        "(TOML syntax)"
    )


_TOKEN = re.compile(r"""\"\"\"|'''|["'#\[\]{}]""")
_CLOSING = {
    '"""': re.compile(r'(?:[^"\\]|\\.|"(?!""))*"""', re.DOTALL),
    "'''": re.compile(r"(?:[^']|'(?!''))*'''"),
    '"': re.compile(r'(?:[^"\\\n]|\\.)*"'),
    "'": re.compile(r"[^'\n]*'"),
    "#": re.compile(r"[^\n]*"),
}


def _deepest_bracket(text: str) -> tuple[int, int]:
    """(depth, offset of the outermost bracket) of the deepest nesting of `[` and `{`
    outside strings and comments. One pass: a string or a comment is skipped to its end;
    one never closed ends the scan."""
    depth = deepest = at = position = outermost = 0
    while (token := _TOKEN.search(text, position)) is not None:
        kind, position = token.group(), token.end()
        if kind in ("[", "{"):
            outermost = token.start() if depth == 0 else outermost
            depth += 1
            if depth > deepest:
                deepest, at = depth, outermost
        elif kind in ("]", "}"):
            depth = max(depth - 1, 0)
        else:
            closed = _CLOSING[kind].match(text, position)
            if closed is None:
                break
            position = closed.end()
    return deepest, at


def _toml_problem(failure: tomllib.TOMLDecodeError) -> str:
    message = str(failure)
    found = re.search(r"\(at line (\d+), column (\d+)\)", message)
    if found:
        message = message[: found.start()].strip()
        return f"line {found.group(1)}, column {found.group(2)}: {message} (TOML syntax)"
    return f"{message} (TOML syntax)"


def _interpolate(
    node: Any, loc: tuple[Any, ...], secrets: list[str]
) -> tuple[Any, list[tuple[tuple[Any, ...], str]]]:
    """Replace ${NAME} by the environment's value everywhere, each value kept in `secrets`;
    collect missing names."""
    problems: list[tuple[tuple[Any, ...], str]] = []
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            out[key], found = _interpolate(value, (*loc, key), secrets)
            problems += found
        return out, problems
    if isinstance(node, list):
        items = []
        for index, value in enumerate(node):
            item, found = _interpolate(value, (*loc, index), secrets)
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
        secrets.append(value)
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


FILE_SETTINGS = ("letter_template", "tsa_ca")


def _resolve_files(data: Any, base: Path) -> Any:
    """A relative file path (letter_template, tsa_ca) is relative to the config file, as the
    database's."""
    settings = data.get("creneau") if isinstance(data, dict) else None
    if not isinstance(settings, dict):
        return data
    resolved = dict(settings)
    for name in FILE_SETTINGS:
        file = settings.get(name)
        if isinstance(file, str) and file.strip() and not Path(file).expanduser().is_absolute():
            resolved[name] = str(base / file)
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
    for host, settings in config.hosts.items():
        if settings.per_minute > MAX_PUBLIC_PER_MINUTE and not is_loopback(f"http://{host}/"):
            lines.append(
                f'hosts."{host}".per_minute: must be at most '
                f"{MAX_PUBLIC_PER_MINUTE:g} for a public host (got {settings.per_minute:g})"
            )
    web = config.web
    exposed = not is_loopback(f"http://{_bracketed(web.host)}/")
    if web.enabled and exposed and web.password is None and not web.trusted_proxy_auth:
        lines.append(
            f'web.listen: "{web.listen}" opens the dashboard beyond this machine without a '
            'password: set web.password (e.g. "${CRENEAU_WEB_PASSWORD}"), or '
            "web.trusted_proxy_auth = true behind a reverse proxy that authenticates people"
        )
    return lines


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host
