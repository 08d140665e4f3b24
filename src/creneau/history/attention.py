"""Which targets need a person first, for the lists a person reads (the dashboard's overview,
`creneau status`): slots to book, then a CAPTCHA to solve, then trouble (the site blocked,
overloaded, closed, failing, or a page creneau no longer recognises); the rest after (no slot,
never checked, paused: a paused target is not checked, its last answer is old news). Within
a group, the order of the config."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

from creneau.results import Status
from creneau.targets import TargetBase

SLOTS_TO_BOOK = 0
CAPTCHA_TO_SOLVE = 1
TROUBLE = 2
THE_REST = 3

GROUPS = {
    Status.AVAILABLE.value: SLOTS_TO_BOOK,
    Status.CAPTCHA.value: CAPTCHA_TO_SOLVE,
    Status.BLOCKED.value: TROUBLE,
    Status.OVERLOADED.value: TROUBLE,
    Status.CLOSED.value: TROUBLE,
    Status.ERROR.value: TROUBLE,
    Status.UNKNOWN.value: TROUBLE,
}

Target = TypeVar("Target", bound=TargetBase)


def attention_group(status: str | None, paused: bool = False) -> int:
    """The group of a target whose last check said `status` (None: never checked)."""
    if paused or status is None:
        return THE_REST
    return GROUPS.get(status, THE_REST)


def needing_a_person_first(
    targets: Sequence[Target], last_status: Mapping[str, str]
) -> list[Target]:
    """The targets by group, in config order within each; `last_status`: each target's last
    check's status, by name (a target without one was never checked)."""
    return sorted(
        targets, key=lambda target: attention_group(last_status.get(target.name), target.paused)
    )
