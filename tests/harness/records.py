"""Store records made in a test, without a store: a check as `creneau.store` reads it back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from creneau.results import Status
from creneau.store.records import CheckRecord


def check_record(
    at: datetime,
    status: Status | str,
    *,
    number: int = 1,
    target: str = "nanterre",
    http_status: int | None = 200,
    page_sha256: str | None = None,
    slot_count: int = 0,
    pages: list[dict[str, Any]] | None = None,
) -> CheckRecord:
    return CheckRecord(
        id=number,
        target=target,
        system="ezbooking",
        started_at=at.astimezone(UTC),
        duration_ms=300,
        status=str(status),
        http_status=http_status,
        detail="",
        detail_code=None,
        detail_params=None,
        page_sha256=page_sha256,
        slot_count=slot_count,
        requests=1,
        facts=None,
        pages=pages,
    )
