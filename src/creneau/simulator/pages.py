"""HTML and JSON of the simulated ezbooking site, shaped like the real pages."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

from creneau.dates import FRENCH_DAYS, FRENCH_MONTHS

PARIS = ZoneInfo("Europe/Paris")
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


def calendar(booking_id: str, title: str, planning: str) -> str:
    return layout(
        title,
        f"""
<form name="create" method="post" id="FormBookingCreate" action="/booking/create/{booking_id}/4">
<input type="button" value="Première plage horaire libre" class="Bbutton">
<div id="planning_content"></div>
</form>
<script>load('/ezjscore/call/bookingserver::planning::assign::{booking_id}::{planning}::0');</script>""",
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


def week_grid(booking_id: str, monday: date, free: set[int]) -> str:
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
                    f'<td class="status-1 free"><a href="/booking/create/{booking_id}'
                    f'/5/{epoch}">{time_label}</a></td>'
                )
            else:
                cells.append(f'<td class="status-0 busy">{time_label}</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    table = (
        f'<table><thead><tr><th colspan="7">{label}</th></tr><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
    return json.dumps({"error_text": "", "content": table}, ensure_ascii=False)


def grid_error(message: str) -> str:
    return json.dumps({"error_text": message, "content": ""}, ensure_ascii=False)


def _long(day: date) -> str:
    return f"{FRENCH_DAYS[day.weekday()]} {day:%d} {FRENCH_MONTHS[day.month - 1]} {day.year}"


def nginx_error(code: int, reason: str) -> str:
    return (
        f"<html>\n<head><title>{code} {reason}</title></head>\n<body>\n"
        f"<center><h1>{code} {reason}</h1></center>\n<hr><center>nginx</center>\n"
        "</body>\n</html>\n"
    )


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
