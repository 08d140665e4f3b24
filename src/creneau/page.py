"""A fetched response as the parsers see it: status, headers, body. No network here."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([\w-]+)""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"charset=([\w-]+)", re.IGNORECASE)


@dataclass(frozen=True)
class Page:
    url: str
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names

    @classmethod
    def from_file(cls, path: Path, url: str = "") -> Page:
        """A saved page, as if served with 200 OK (for offline parsing and fixtures)."""
        body = path.read_bytes()
        kind = "application/json" if path.suffix == ".json" else "text/html"
        return cls(
            url=url or path.resolve().as_uri(),
            status=200,
            body=body,
            headers={"content-type": kind},
        )

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    @cached_property
    def text(self) -> str:
        return self.body.decode(self._charset(), errors="replace")

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    @property
    def is_json(self) -> bool:
        return "json" in self.header("content-type") or self.body.lstrip()[:1] in (b"{", b"[")

    def _charset(self) -> str:
        found = _HEADER_CHARSET.search(self.header("content-type"))
        if found is None:
            meta = _META_CHARSET.search(self.body[:2048])
            found_name = meta.group(1).decode("ascii") if meta else "utf-8"
        else:
            found_name = found.group(1)
        try:
            "".encode(found_name)
        except LookupError:
            return "utf-8"
        return found_name
