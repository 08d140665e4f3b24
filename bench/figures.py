"""A measured figure, as `make bench` prints and stores it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Figure:
    section: str
    name: str
    value: float
    unit: str
    target: str = ""  # the limit it must meet, if any, in words
    ok: bool | None = None  # None: no limit to meet
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
