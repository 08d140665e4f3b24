"""Check once: the only way a check is recorded. The daemon's periodic check, `creneau check`,
the check right after a CAPTCHA and a link's first check all come here with their runtime,
so that each is made and recorded with the same settings (its routing, the pages kept, the
SSRF guard, the store's thread)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from creneau.check.record import Recorded, watch_once
from creneau.redact import public_link

if TYPE_CHECKING:
    from creneau.runtime import Runtime
    from creneau.targets import TargetBase


async def check_once(runtime: Runtime, target: TargetBase) -> Recorded:
    """One check of `target` through the runtime's polite client, recorded, its alerts
    queued (not sent). A target the config does not name (an ad-hoc check, a link being
    added) is recorded under its public link and alerts no one. Raises what
    `check.record.watch_once` raises (TooSoon, NotRecorded)."""
    configured = target.name in runtime.routes
    return await watch_once(
        target,
        runtime.client,
        runtime.store,
        runtime.routing(target),
        db=runtime.db,
        pages_dir=runtime.pages_dir,
        keep_pages=runtime.keep_pages,
        now=runtime.now,
        name_in_store=None if configured else public_link(target.url),
        guard=runtime.guard(target),
    )
