"""HTML and JSON of the simulated ezbooking site, shaped like the real pages."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from html import escape

from creneau.dates import FRENCH_DAYS, FRENCH_MONTHS
from creneau.simulator.pages import PARIS

GRID_TIMES = [f"{h:02d}:{m:02d}" for h in (9, 10, 11, 14, 15, 16) for m in (0, 15, 30, 45)]


def layout(title: str, body: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8">
<title>{escape(title)} - Préfecture simulée</title></head>
<body><div id="page">
<p class="bandeau">Préfecture simulée par creneau — aucun vrai rendez-vous ici</p>
<h1>{escape(title)}</h1>
{body}
</div></body></html>
"""


def conditions(booking_id: str, title: str) -> str:
    return layout(
        title,
        f"""
<form name="create" method="post" id="FormBookingCreate" action="/booking/create/{booking_id}/0">
<p>Veuillez cocher la case pour accepter les conditions d'utilisation avant de continuer.</p>
<input type="checkbox" name="condition" id="condition" value="on">
<label for="condition">J'accepte les conditions d'utilisation</label>
<input type="submit" value="Effectuer une demande de rendez-vous" name="nextButton" class="Bbutton">
</form>""",
    )


def desk_choice(booking_id: str, title: str, desks: list[tuple[str, str]]) -> str:
    lines = "\n".join(
        f'<p class="Bligne"><input type="radio" class="radio" name="planning" '
        f'id="planning{desk_id}" value="{desk_id}"><label for="planning{desk_id}">'
        f"{escape(label)}</label></p>"
        for desk_id, label in desks
    )
    return layout(
        title,
        f"""
<form name="create" method="post" id="FormBookingCreate" action="/booking/create/{booking_id}/1">
<fieldset id="fchoix_Booking" class="Bfieldset"><legend>Choix de la nature du rendez-vous</legend>
{lines}
</fieldset>
<input type="submit" value="Etape suivante" name="nextButton" class="Bbutton">
</form>""",
    )


def no_slot(booking_id: str, title: str) -> str:
    return layout(
        title,
        f"""
<form name="create" method="post" id="FormBookingCreate" action="/booking/create/{booking_id}/2">
<p>Il n'existe plus de plage horaire libre pour votre demande de rendez-vous.
Veuillez recommencer ultérieurement.</p>
<input type="submit" value="Terminer" name="finishButton" class="Bbutton">
</form>""",
    )


def information(booking_id: str, title: str) -> str:
    return layout(
        title,
        f"""
<form name="create" method="post" id="FormBookingCreate" action="/booking/create/{booking_id}/3">
<p>Munissez-vous de votre récépissé et de votre passeport.</p>
<input type="submit" value="Etape suivante" name="nextButton" class="Bbutton">
</form>""",
    )


def calendar(booking_id: str, title: str, planning: str, *, names_planning: bool = True) -> str:
    """Step 4. Its week grid is loaded by the page's script through ezjscore's io-ez, which
    names the planning (a reconstruction: no calendar page is public, see SOURCES.md)."""
    call = (
        f"'bookingserver::planning::assign::{booking_id}::{planning}::'"
        if names_planning
        else "window.planningCall"  # a page that does not name its planning
    )
    script = (
        f"<script>\nYUI().use('io-ez', 'node', function (Y) {{\n  var offset = 0;\n"
        f"  Y.io.ez({call} + offset, {{ on: {{ success: function (id, r) {{\n"
        f"    Y.one('#planning_content').setContent(r.responseJSON.content); }} }} }});\n"
        f"}});\n</script>"
    )
    return layout(
        title,
        f"""
<form name="create" method="post" id="FormBookingCreate" action="/booking/create/{booking_id}/4">
<p><img src="/design/images/etape_4r.png" alt="Étape 4"></p>
<div id="inner_Booking"><div id="planning_content"></div></div>
<input type="submit" value="Première plage horaire libre" name="nextButton" class="Bbutton">
<input type="submit" value="Etape précédente" name="previousButton" class="Bbutton">
</form>
{script}""",
    )


def captcha(booking_id: str, title: str) -> str:
    return layout(
        title,
        f"""
<form name="create" method="post" id="FormBookingCreate" action="/booking/create/{booking_id}/6">
<p>Recopiez le code de sécurité de l'image.</p>
<img src="/booking/captcha/{booking_id}" alt="captcha">
<input type="text" name="captchaFormulaireExtInput">
<input type="submit" value="Etape suivante" name="nextButton">
</form>""",
    )


def week_table(booking_id: str, monday: date, free: set[int]) -> str:
    """One week of a planning, as the bots read it: a `th colspan="7"` naming the week, each
    free slot a link to step 5 ending in its epoch, whose text is "libre"; a legend after
    the table. No class marks a free cell (none is confirmed)."""
    sunday = monday + timedelta(days=6)
    label = f"Semaine du {_long(monday)} au {_long(sunday)}"
    head = "".join(
        f"<th>{FRENCH_DAYS[i][:3]}. {monday + timedelta(days=i):%d/%m}</th>" for i in range(7)
    )
    rows = []
    for time_label in GRID_TIMES:
        hour, minute = map(int, time_label.split(":"))
        cells = []
        for offset in range(7):
            day = monday + timedelta(days=offset)
            epoch = int(
                datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS).timestamp()
            )
            if epoch in free:
                cells.append(
                    f'<td><a href="/booking/create/{booking_id}/5/{epoch}" '
                    f'title="{time_label}">libre</a></td>'
                )
            else:
                cells.append("<td></td>")
        rows.append(f"<tr><th>{time_label}</th>{''.join(cells)}</tr>")
    return (
        f'<table><thead><tr><th></th><th colspan="7">{label}</th></tr>'
        f"<tr><th></th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        "<p>Légende : <span>libre</span> <span>complet</span></p>"
    )


def envelope(content: str, error_text: str = "") -> str:
    """ezjscore's JSON answer (modules/ezjscore/call.php, when the request asks for JSON)."""
    return json.dumps({"error_text": error_text, "content": content}, ensure_ascii=False)


def _long(day: date) -> str:
    return f"{FRENCH_DAYS[day.weekday()]} {day:%d} {FRENCH_MONTHS[day.month - 1]} {day.year}"


OVERLOADED = layout(
    "Service surchargé",
    "<p><strong>Service surchargé</strong></p><p>Veuillez réessayer ultérieurement.</p>",
)
CLOSED = layout(
    "Prise de rendez-vous",
    "<p><strong>Attention : Cette page n'est pas disponible pour le moment !</strong></p>",
)
MAINTENANCE = layout("Maintenance", "<p>Le site est actuellement en maintenance.</p>")
CHANGED = layout(
    "Prendre un rendez-vous",
    '<div id="app-rdv" data-demarche="1"></div>'
    "<noscript>Ce service nécessite JavaScript.</noscript>",
)
