"""The daemon's retention job: raw checks are kept for the retention period, older ones
become hourly counts (and, with keep_pages, their kept pages are forgotten)."""

from __future__ import annotations

import logging

from creneau.daemon.context import DaemonContext
from creneau.store import STORE_FAILURES, Superseded
from creneau.store import pages as archive

log = logging.getLogger("creneau")


async def roll_up(context: DaemonContext) -> None:
    settings = context.config.creneau
    cutoff = context.now() - settings.retention
    try:
        rolled = await context.db(context.store.roll_up, cutoff)
        pruned = 0
        if settings.keep_pages:
            pruned = await context.db(archive.prune_kept, settings.pages_dir, cutoff)
    except Superseded as superseded:
        context.guard.lose(str(superseded))
        return
    except STORE_FAILURES as failure:
        log.error("retention: could not roll up old checks (%s)", type(failure).__name__)
        return
    if rolled or pruned:
        log.info(
            "retention: %d checks before %s rolled into hourly counts, %d pages forgotten",
            rolled,
            cutoff.date(),
            pruned,
        )
