"""Adding a target by the link a person books with, and editing or removing one: the steps
`creneau add/pause/resume/remove/set` and the dashboard's add form and buttons both take. The
link recognised, one polite check of it under a provisional name, what creneau proposes from
what it saw, the `[[target]]` written; every change validated as at start (adding/config_file.py
keeps every comment of the file). Errors are typed, each with its code and values, so that each
side words them its own way."""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from creneau.adding import config_file, links
from creneau.check.record import NotRecorded
from creneau.usecases.check_once import check_once

if TYPE_CHECKING:
    from pathlib import Path

    from creneau.adding.config_file import ConfigText, Edited
    from creneau.adding.links import Link, Preview
    from creneau.config import Config
    from creneau.results import CheckResult
    from creneau.runtime import Runtime
    from creneau.targets import TargetBase

log = logging.getLogger(__name__)
# Written beside `guarded = true`: why a target added from the dashboard passes the SSRF guard.
GUARDED_COMMENT = "added from the dashboard: every request passes the SSRF guard"


class SettingsMissing(ValueError):
    """The link lacks settings its system needs and they were not given: the command line's
    line, and the same as a code and its values (`problem`) for the dashboard's words."""

    def __init__(self, link: Link, missing: Sequence[str]) -> None:
        self.problem = links.missing_problem(link, missing)
        super().__init__(str(self.problem))


class OptionUnknown(ValueError):
    """The way to read an html page chosen is none of those proposed."""


# --- the link, and the target as it is checked before it is added -----------------------------


def read_link(url: str, every: str | None) -> Link:
    """The link recognised, and the interval asked checked. Raises LinkProblem, or ValueError
    (DurationTooLong among them) for the interval."""
    link = links.recognise(url)
    links.durations(every)
    return link


def require_settings(link: Link, given: Mapping[str, Any]) -> None:
    """Raises SettingsMissing when the link lacks settings that `given` does not hold."""
    if missing := links.missing_settings(link, given):
        raise SettingsMissing(link, missing)


@dataclass(frozen=True)
class Draft:
    """The target as its one check is made: the file as read, the target names it holds, the
    name the check is made under, and the config with the target (validated; not written)."""

    file: ConfigText
    taken: list[str]
    checked_as: str
    config: Config

    @property
    def target(self) -> TargetBase:
        return next(each for each in self.config.targets if each.name == self.checked_as)

    @property
    def config_to_check_in(self) -> Config:
        """The config the check runs in: without the target (it is checked ad hoc)."""
        return config_file.without_target(self.config, self.checked_as)

    def already_watching(self) -> list[str]:
        """The other targets that watch the same URL."""
        watching = already_watching(self.config, self.target.url)
        return [name for name in watching if name != self.checked_as]


def draft(
    path: Path,
    link: Link,
    name: str | None,
    *,
    every: str | None,
    notify: Sequence[str] = (),
    settings: Mapping[str, Any] | None = None,
) -> Draft:
    """The draft of the target `link` makes in the file at `path`: under `name`, else a name
    from the link that the file does not hold yet. Raises ConfigError."""
    file = config_file.ConfigText.read(path)
    taken = config_file.target_names(file.text, str(path))
    checked_as = name or links.unique_name(links.name_from_link(link, settings), taken)
    fields = links.provisional_fields(
        link, checked_as, every=every, notify=notify, settings=settings
    )
    return Draft(file, taken, checked_as, config_file.with_target(file, fields)[1])


async def preview(
    runtime: Runtime,
    draft: Draft,
    link: Link,
    *,
    name: str | None = None,
    settings: Mapping[str, Any] | None = None,
) -> Preview:
    """One polite check of the draft through `runtime` (made in `draft.config_to_check_in`),
    and what creneau proposes from what it saw. Raises TooSoon."""
    result = await _check_link(runtime, draft.target)
    zone = links.site_zone(draft.target)
    return links.preview(link, result, draft.taken, zone=zone, name=name, settings=settings)


async def _check_link(runtime: Runtime, target: TargetBase) -> CheckResult:
    """One polite check of a target the config does not name yet, through `runtime` (its
    client's budgets, breakers, Retry-After and robots.txt, seeded from the store), recorded
    under the page's public link as `creneau check` records an ad-hoc one. Raises TooSoon."""
    try:
        return (await check_once(runtime, target)).result
    except NotRecorded as failure:
        log.warning("the check was made but could not be recorded: %s", failure.failure)
        return failure.result


def already_watching(config: Config, url: str) -> list[str]:
    """The configured targets that watch `url`."""
    return [target.name for target in config.targets if target.url == url]


# --- what is written ------------------------------------------------------------------------


def chosen_settings(found: Preview, option: int | None, chosen: Collection[str]) -> dict[str, Any]:
    """The settings picked on the preview: the way to read an html page (`option`, from 1),
    and among what the page offers the ids `chosen` (none: all). Raises OptionUnknown."""
    settings: dict[str, Any] = {}
    if found.options:
        if option is None or not 1 <= option <= len(found.options):
            raise OptionUnknown(option)
        settings.update(found.options[option - 1].settings)
    if found.offered is not None:
        picked = [choice.id for choice in found.offered.choices if choice.id in chosen]
        if picked:
            settings[found.offered.key] = picked
    return settings


@dataclass(frozen=True)
class TargetTable:
    """The `[[target]]` to write: its keys in order, and its text with its comments."""

    fields: dict[str, Any]
    text: str

    @property
    def name(self) -> str:
        return str(self.fields["name"])


def table(
    found: Preview,
    *,
    every: str | None,
    notify: Sequence[str] = (),
    settings: Mapping[str, Any] | None = None,
    guarded: bool = False,
) -> TargetTable:
    """The `[[target]]` table as written, with its comments; `guarded`: checked through the
    SSRF guard (a target added from the dashboard)."""
    fields = found.fields(every=every, notify=notify, settings=settings)
    comments = found.comments(fields)
    if guarded:
        fields, comments = {**fields, "guarded": True}, {**comments, "guarded": GUARDED_COMMENT}
    return TargetTable(fields, config_file.render_target(fields, comments))


@dataclass(frozen=True)
class Addition:
    """The file with a target's table added, validated as at start, not written yet."""

    file: ConfigText
    text: str
    config: Config

    def save(self) -> None:
        """Write it, atomically; refused when the file changed since it was read."""
        config_file.save(self.file, self.text)


def addition(file: ConfigText, table: TargetTable) -> Addition:
    """`table` added to the file as read. Raises ConfigError, nothing written."""
    text = config_file.add_target(file.text, table.text, str(file.path))
    return Addition(file, text, config_file.validate(file, text))


def add(path: Path, table: TargetTable) -> Config:
    """`table` added to the file at `path` and written. Raises ConfigError, nothing written."""
    added = addition(config_file.ConfigText.read(path), table)
    added.save()
    return added.config


# --- one target's table edited ----------------------------------------------------------------


def pause(path: Path, name: str) -> Edited:
    """Stop checking the target, keeping it (paused = true). Raises ConfigError."""
    value = config_file.value_item("true")
    return config_file.edit(
        path, lambda text: config_file.set_values(text, name, {"paused": value}, str(path))
    )


def resume(path: Path, name: str) -> Edited:
    """Check the target again (its paused = true removed). Raises ConfigError."""
    return config_file.edit(
        path, lambda text: config_file.set_values(text, name, {"paused": None}, str(path))
    )


def remove(path: Path, name: str) -> Edited:
    """Remove the target's table (its history stays). Raises ConfigError."""
    return config_file.edit(path, lambda text: config_file.remove_target(text, name, str(path)))


def set_settings(path: Path, name: str, values: Mapping[str, Any]) -> Edited:
    """Set the target's own settings (a value None removes one). Raises ConfigError."""
    return config_file.edit(
        path, lambda text: config_file.set_values(text, name, values, str(path))
    )
