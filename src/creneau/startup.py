"""The config made ready to run, once it is read (creneau.config reads it, purely): the
template overrides compile, Apprise reads each channel URL (in a child process), the file's
secrets are registered for masking, and what is accepted but worth a word becomes the config's
warnings. Its mistakes are config mistakes like the file's own: one line each naming the file,
the place and the problem. The CLI, the daemon's reload and the config editor start here."""

from __future__ import annotations

import re
from pathlib import Path

from creneau import redact
from creneau.alerts import channels
from creneau.config import Config, load_config, mistakes
from creneau.targets import one_line

APPRISE_WIKI = "https://github.com/caronc/apprise/wiki"
TLS_UNCHECKED = (
    "verify=no: Apprise will not check this service's TLS certificate, so anyone on the "
    "network path can read or forge these alerts (remove it unless the service's "
    "certificate is self-signed and you accept that)"
)


def prepare_config(path: Path) -> Config:
    """`load_config`, then the checks that need more than the file; raises ConfigError."""
    config = load_config(path)
    name = str(path)
    for secret in config.secrets:
        redact.register(secret)
    problems = template_problems(config)
    if problems:
        raise mistakes(name, problems, config.secrets)
    refused, warnings = check_channel_urls(config)
    if refused:
        raise mistakes(name, refused, config.secrets)
    config._warnings = [one_line(f"{name}: {line}") for line in warnings]
    return config


def template_problems(config: Config) -> list[str]:
    """The template overrides that do not compile or name no message, "templates.…" lines."""
    if not config.templates:
        return []
    # Jinja2 is loaded only by a config that overrides a template, as by a round that sends.
    from creneau.alerts.messages import check_overrides

    return [f"templates.{problem}" for problem in check_overrides(config.templates)]


def check_channel_urls(config: Config) -> tuple[list[str], list[str]]:
    """Each Apprise URL as Apprise itself reads it: (mistakes, warnings), one line each
    naming the place, never the URL (it holds secrets). Apprise reads them in a child process
    (creneau.alerts.channels), which keeps each reading for the sender."""
    if not config.notify:
        return [], []
    places = [
        (f'notify "{channel.name}".urls[{j}]', url)
        for channel in config.notify
        for j, url in enumerate(channel.secret_urls)
    ]
    try:
        readings = channels.read_urls([url for _, url in places])
    except channels.WorkerFailed as failure:
        return [f"notify: the URLs could not be read: {failure}"], []
    refused: list[str] = []
    warnings: list[str] = []
    for (place, _), reading in zip(places, readings, strict=True):
        if not reading.readable:
            refused.append(f"{place}: {_unreadable(reading)}")
        elif not reading.checks_tls:
            warnings.append(f"{place}: {TLS_UNCHECKED}")
    return refused, warnings


def _unreadable(reading: channels.UrlReading) -> str:
    """Why Apprise rejected a URL, in words that never quote it."""
    scheme = reading.scheme
    if not re.fullmatch(r"[a-z][a-z0-9+.-]{0,31}", scheme):
        return (
            "Apprise cannot read this URL: it must start with a service's scheme:// "
            f"(see {APPRISE_WIKI})"
        )
    if scheme in ("http", "https"):
        return (
            "Apprise does not recognise this web address as a service it can notify: use the "
            f"service's own scheme, such as ntfy:// or json:// (see {APPRISE_WIKI})"
        )
    if not reading.scheme_known:
        return f'Apprise does not recognise this URL\'s scheme "{scheme}" (see {APPRISE_WIKI})'
    if not reading.scheme_enabled:
        return (
            f'Apprise cannot use "{scheme}" here: it needs a package or a desktop that this '
            "machine lacks"
        )
    return (
        f'Apprise cannot read this "{scheme}" URL: a part it needs is missing or malformed '
        f"(see the service's page in {APPRISE_WIKI})"
    )
