"""Parse throughput on one core: pages per second for each system's saved pages, and the
memory a parse allocates at its peak (tracemalloc)."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

from bench.figures import Figure
from creneau import sources
from creneau.page import Page

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
HTML_TARGETS = {  # the html system reads with a target's settings (see fixtures/html)
    "prefecture": {
        "none_text": ["Aucun rendez-vous n'est disponible"],
        "slot_selector": "table.rdv-disponibles tbody tr",
        "slot_time_selector": "td.horaire",
        "slot_time_format": "%A %d %B %Y à %Hh%M",
        "guichet_selector": "td.guichet",
    },
}
SECONDS_PER_SYSTEM = 3.0


def pages_of(system: str) -> list[Page]:
    folder = FIXTURES / system
    return [
        Page.from_file(path)
        for path in sorted(folder.iterdir())
        if path.suffix in (".html", ".json")
    ]


def throughput(system: str) -> tuple[float, float, int]:
    source = sources.get(system)
    target = None
    if system == "html":
        target = source.Target.model_validate(
            {"name": "bench", "url": "https://example.org/", **HTML_TARGETS["prefecture"]}
        )
    pages = pages_of(system)
    for page in pages:  # warm up (imports, caches)
        source.parse_page(Page(page.url, page.status, page.body, page.headers), target)
    parsed, started = 0, time.process_time()
    while time.process_time() - started < SECONDS_PER_SYSTEM:
        for page in pages:
            # A fresh Page each time: its decoded text and hash are cached per instance.
            source.parse_page(Page(page.url, page.status, page.body, page.headers), target)
            parsed += 1
    rate = parsed / (time.process_time() - started)
    peaks = []
    for page in pages:
        tracemalloc.start()
        source.parse_page(Page(page.url, page.status, page.body, page.headers), target)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    return rate, sum(peaks) / len(peaks) / 1024, len(pages)


def measure() -> list[Figure]:
    figures = []
    for system in sources.SYSTEMS:
        rate, peak_kib, count = throughput(system)
        limit = system == "ezbooking"
        figures.append(
            Figure(
                "parse",
                f"{system}: pages parsed per second, one core ({count} saved pages)",
                round(rate),
                "pages/s",
                target="≥ 500" if limit else "",
                ok=rate >= 500 if limit else None,
            )
        )
        figures.append(
            Figure("parse", f"{system}: memory allocated at peak, per page", round(peak_kib), "KiB")
        )
    return figures
