"""The heatmap drawn as a standalone SVG file (`creneau history heatmap --svg`): hours across,
weekdays down, each cell shaded by its probability. Text from the store or a page (a guichet
in the title) is escaped."""

from __future__ import annotations

from creneau.dates import SHORT_WEEKDAYS
from creneau.history.heatmap import HeatCell, Heatmap, shade
from creneau.terminal import html_text

CELL_W, CELL_H = 44, 34
LEFT, TOP = 48, 56  # room for the weekday names and the hours


def heatmap_svg(grid: Heatmap, title: str) -> str:
    """The heatmap as a standalone SVG: hours across, weekdays down, each cell shaded by its
    probability, with the probability and the observed hours written in it and a tooltip."""
    width, height = LEFT + 24 * CELL_W + 12, TOP + 7 * CELL_H + 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{LEFT}" y="22" font-size="15" font-weight="bold">{html_text(title)}</text>',
        *_labels(),
        *(_cell(cell) for cell in grid.cells),
        f'<text x="{LEFT}" y="{height - 16}">Each cell: share of observed hours with a '
        f"release, and the number of observed hours (checked with a clear answer). Grey: "
        f"never observed. {grid.releases} releases, {grid.observed_hours} observed hours, "
        f"{html_text(grid.zone)} time.{html_text(grid.unplaced_text())}</text>",
        "</svg>",
    ]
    return "\n".join(parts) + "\n"


def _labels() -> list[str]:
    hours = [
        f'<text x="{LEFT + (hour + 0.5) * CELL_W}" y="{TOP - 8}" '
        f'text-anchor="middle">{hour:02d}h</text>'
        for hour in range(24)
    ]
    days = [
        f'<text x="{LEFT - 8}" y="{TOP + (weekday + 0.5) * CELL_H + 4}" '
        f'text-anchor="end">{name}</text>'
        for weekday, name in enumerate(SHORT_WEEKDAYS)
    ]
    return hours + days


def _cell(cell: HeatCell) -> str:
    x, y = LEFT + cell.hour * CELL_W, TOP + cell.weekday * CELL_H
    w, h = CELL_W, CELL_H
    name = f"{SHORT_WEEKDAYS[cell.weekday]} {cell.hour:02d}:00–{(cell.hour + 1) % 24:02d}:00"
    if cell.probability is None:
        tooltip = f"{name}: never observed"
        fill, ink, label, under = "#e0e0e0", "#777777", "–", ""
    else:
        tooltip = (
            f"{name}: {cell.probability:.0%} ({cell.release_hours} of {cell.observed_hours} "
            f"observed hours had a release; {cell.releases} releases)"
        )
        red, green, blue = shade(cell.probability)
        fill = f"#{red:02x}{green:02x}{blue:02x}"
        ink = "#ffffff" if cell.probability >= 0.5 else "#000000"
        label, under = f"{cell.probability:.0%}", f"{cell.observed_hours}h"
    middle = x + w / 2
    return (
        f"<g><title>{html_text(tooltip)}</title>"
        f'<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{fill}" stroke="#ffffff"/>'
        f'<text x="{middle}" y="{y + 15}" text-anchor="middle" fill="{ink}">'
        f"{html_text(label)}</text>"
        f'<text x="{middle}" y="{y + 27}" text-anchor="middle" fill="{ink}" font-size="8">'
        f"{html_text(under)}</text></g>"
    )
