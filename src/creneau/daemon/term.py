"""The term this daemon leads, if any: whether it may act now (fetch, write, send), the gates
that refuse a request or a message once it may not, and the leading of one term from its
start to its end (`daemon.leader` holds the lease meanwhile)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from creneau.alerts.deliver import Send
from creneau.daemon.leader import ActiveTerm, Leadership
from creneau.fetch.client import MayNotFetch
from creneau.fetch.politeness import Spend
from creneau.store import STORE_FAILURES, Store, StoreCall, Superseded

log = logging.getLogger("creneau")


class TermGuard:
    def __init__(self, store: Store, db: StoreCall) -> None:
        self.store = store
        self.db = db
        self.leadership: Leadership | None = None
        self.term: ActiveTerm | None = None  # the term this daemon leads; None: standing by
        self.abrupt = False  # the term was lost: nothing more is written, even "interrupted"

    def lose(self, reason: str) -> None:
        if self.term is not None:
            self.term.lose(reason)

    def may_act(self) -> bool:
        return self.term is not None and self.term.may_act()

    async def before_request(self, spend: Spend) -> None:
        """PostgreSQL: a request leaves only while this daemon leads, and once what it
        spends (the host's bucket, the target's floor) is written under the term's fence:
        a daemon that was paused, or whose term is over, sends nothing."""
        if not self.may_act():
            raise MayNotFetch("this daemon is not the active one")
        try:
            await self.db(self.store.save_spend, spend)
        except Superseded as superseded:
            self.lose(str(superseded))
            raise MayNotFetch(str(superseded)) from None
        except STORE_FAILURES as failure:
            raise MayNotFetch(
                f"what the request spends cannot be written ({type(failure).__name__})"
            ) from None
        if not self.may_act():
            raise MayNotFetch("this daemon's term ended while the request waited")

    def only_while_active(self, send: Send) -> Send:
        """The sender's channel call: nothing goes out unless this daemon leads (the
        outbox row stays claimed until a daemon that takes over drops the claim)."""

        async def send_while_active(url: str, title: str, body: str, form: str) -> tuple[bool, str]:
            if not self.may_act():
                raise MayNotFetch("this daemon is not the active one: not sent")
            return await send(url, title, body, form)

        return send_while_active

    def read_only_reason(self) -> str | None:
        """None while this daemon leads; else why its dashboard changes nothing."""
        if self.may_act():
            return None
        me = self.store.me.instance
        leader = self.leadership.leader if self.leadership is not None else None
        active = f"{leader.instance} is active" if leader and leader.instance else "none is active"
        return (
            f"this creneau ({me}) stands by and changes nothing: {active}; make changes on "
            "the active daemon's dashboard"
        )

    async def lead(
        self,
        term: ActiveTerm,
        stop: asyncio.Event,
        begin: Callable[[ActiveTerm], Awaitable[bool]],
        end: Callable[[bool], Awaitable[None]],
    ) -> None:
        """Lead `term` from `begin` (False: the store could not be read, the term is lost)
        until it is lost or `stop` is set, then `end(abrupt)`; the lease is held meanwhile
        and released after."""
        assert self.leadership is not None
        self.term = term
        self.store.fence(term.epoch)
        _say_leading(self.store.me.instance, term)
        holder = asyncio.create_task(self.leadership.hold(term))
        started = False
        try:
            started = await begin(term)
            if started:
                await _first_of(stop, term.lost)
        finally:
            if started:
                await end(term.lost.is_set())
            holder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await holder
            self.store.fence(None)
            self.term = None
            if term.lost.is_set():
                log.error("stopped checking at once: %s; standing by", term.reason)
            await self.leadership.release(term)


def _say_leading(me: str, term: ActiveTerm) -> None:
    if term.took_over_from:
        log.warning(
            "active: this daemon (%s) leads term %d, taking over from %s, which did not "
            "step down (its lease lapsed)",
            me,
            term.epoch,
            term.took_over_from,
        )
    else:
        log.info("active: this daemon (%s) leads term %d", me, term.epoch)


async def _first_of(*events: asyncio.Event) -> None:
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
