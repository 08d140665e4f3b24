"""Whether a person's site session will be (or was) ready for an announced release, as the
dashboard and `creneau status` say it (issue 26): a target whose site needs a person's
session (a CAPTCHA solved) and whose pending announcement is near.

From T − `prepare` to T, while the last check met a CAPTCHA: solve it before
`expected.solve_captcha_before` (the prepare alert's instant, in its words). From T, when
the daemon recorded that no session was ready at T (`Announcement.session_ready` False):
it says so, until the announcement stops being followed (FOLLOWED_FOR). Otherwise nothing.
Decided here from what was read (`session_notice`, pure); the screens only render it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from creneau import sources
from creneau.expected import FOLLOWED_FOR, Announcement, solve_captcha_before
from creneau.results import Status

if TYPE_CHECKING:
    from creneau.config import Config
    from creneau.store import Store
    from creneau.targets import TargetBase

NoticeKind = Literal["solve_captcha", "not_ready"]


@dataclass(frozen=True)
class SessionNotice:
    """`solve_captcha`: solve it before `solve_before` so that creneau looks from `at`;
    `not_ready`: no session was ready at `at`, and creneau checked anyway."""

    kind: NoticeKind
    at: datetime
    solve_before: datetime | None = None


def session_notice(
    followed: Announcement | None,
    *,
    needs_session: bool,
    last_status: str | None,
    prepare: timedelta,
    now: datetime,
) -> SessionNotice | None:
    """What to say of a target's site session for its latest announcement at `now`."""
    if followed is None or not needs_session:
        return None
    at = followed.at
    if now < at:
        waiting = followed.outcome == "pending" and last_status == Status.CAPTCHA
        if waiting and now >= at - prepare:
            return SessionNotice("solve_captcha", at, solve_captcha_before(at, prepare))
        return None
    if followed.session_ready is False and now <= at + FOLLOWED_FOR:
        return SessionNotice("not_ready", at)
    return None


def needs_session(system: str) -> bool:
    """Whether the booking system's checks need a person's site session (a CAPTCHA)."""
    try:
        return sources.get(system).session_lifetime is not None
    except KeyError:
        return False


def target_notice(
    target: TargetBase,
    followed: Mapping[str, Announcement],
    statuses: Mapping[str, str],
    now: datetime,
) -> SessionNotice | None:
    """`session_notice` of one configured target, from the records read of several."""
    return session_notice(
        followed.get(target.name),
        needs_session=needs_session(target.system),
        last_status=statuses.get(target.name),
        prepare=target.prepare,
        now=now,
    )


def session_notices(store: Store, config: Config, now: datetime) -> dict[str, SessionNotice | None]:
    """Each configured target's notice at `now`, read from the store."""
    followed = store.latest_announcements([target.name for target in config.targets])
    statuses = {row.target: row.status for row in store.latest_checks()}
    return {
        target.name: target_notice(target, followed, statuses, now) for target in config.targets
    }
