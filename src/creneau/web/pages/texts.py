"""Every word the dashboard's pages say, in French and English, and how they write moments
and durations: "vérifié il y a 2 min" / "checked 2 min ago", "lun. 4 mars 09:20"."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from creneau.dates import day_in_words, long_datetime

STATUS_WORDS = {
    "fr": {
        "available": "créneaux libres",
        "none": "aucun créneau",
        "blocked": "bloqué",
        "overloaded": "surchargé",
        "closed": "fermé",
        "captcha": "CAPTCHA à résoudre",
        "error": "erreur",
        "unknown": "page inconnue",
        "never": "jamais vérifié",
    },
    "en": {
        "available": "slots free",
        "none": "no slot",
        "blocked": "blocked",
        "overloaded": "overloaded",
        "closed": "closed",
        "captcha": "CAPTCHA to solve",
        "error": "error",
        "unknown": "unknown page",
        "never": "never checked",
    },
}

OUTBOX_STATES = {
    "fr": {"pending": "en attente", "failed": "échec", "expired": "expirée", "sent": "envoyée"},
    "en": {"pending": "waiting", "failed": "failed", "expired": "expired", "sent": "sent"},
}

# The labels templates show as they are (`t.<key>`).
WORDS = {
    "fr": {
        "colon": " : ",
        "overview": "Cibles",
        "no_targets": "Aucune cible dans la configuration.",
        "slots_now": "Créneaux affichés",
        "no_slot_now": "Aucun créneau affiché.",
        "book": "réserver",
        "last_release": "Dernière mise en ligne",
        "next_release": "Prochaine mise en ligne",
        "no_release": "aucune encore",
        "host": "Site",
        "strip_day": "Dernières 24 h",
        "strip_week": "7 derniers jours",
        "hours_ago_24": "il y a 24 h",
        "days_ago_7": "il y a 7 j",
        "now": "maintenant",
        "solve_captcha": "Résoudre le CAPTCHA",
        "details": "détails",
        "by_guichet": "Créneaux affichés, par guichet",
        "timeline": "Vérifications",
        "recent_checks": "Dernières vérifications",
        "when": "quand",
        "status": "état",
        "detail": "détail",
        "releases": "Mises en ligne (30 derniers jours)",
        "no_releases": "Aucune mise en ligne sur cette période.",
        "seen_at": "vue à",
        "after_check": "après la vérification de",
        "guichet": "guichet",
        "slots": "créneaux",
        "dates_offered": "dates proposées",
        "all_gone_after": "tous partis après",
        "still_shown": "encore affichés",
        "heatmap": "Quand les créneaux sont mis en ligne",
        "heatmap_alt": "Probabilité de mise en ligne par jour de la semaine et par heure",
        "heatmap_open": "ouvrir l'image",
        "lifetimes": "Durée d'affichage des créneaux (90 derniers jours)",
        "no_lifetimes": "Aucun créneau sur cette période.",
        "gone": "partis",
        "censored": "encore affichés",
        "median": "médiane",
        "p90": "p90",
        "uptime": "Réponses du site par jour (14 derniers jours)",
        "no_uptime": "Aucune vérification sur cette période.",
        "day": "jour",
        "checks": "vérifications",
        "clear_answer": "réponse claire",
        "site_says": "Ce que dit le site de ses mises en ligne",
        "evidence": "Export de preuves",
        "evidence_help": (
            "Un relevé daté et vérifiable de toutes les vérifications de la période, en "
            "un fichier zip (résumé HTML et CSV, pages reçues, MANIFEST.sha256)."
        ),
        "since": "du",
        "until": "au (inclus)",
        "see_coverage": "Voir la couverture",
        "evidence_choose": (
            "Choisissez une période : creneau montre ce qu'elle couvre avant que vous "
            "téléchargiez le dossier."
        ),
        "coverage_title": "Couverture de la période",
        "period": "Période",
        "attempts_made": "Tentatives",
        "weeks_covered": "Semaines ISO distinctes",
        "days_tried": "Jours essayés",
        "hours_tried": "Heures de la journée essayées",
        "slot_offered": "Un créneau proposé",
        "calendar": "Calendrier",
        "thin_record": "Attention :",
        "download_dossier": "Télécharger le dossier (zip)",
        "back_to_target": "Retour à la cible",
        "site_page": "page du site",
        "outbox": "Alertes",
        "outbox_empty": "Aucune alerte en attente, en échec ou expirée.",
        "unsent": "En attente, en échec ou expirées",
        "recently_sent": "Envoyées ces dernières 24 h",
        "none_sent": "Aucune alerte envoyée ces dernières 24 h.",
        "created": "créée",
        "state": "état",
        "target": "cible",
        "alert": "alerte",
        "channel": "canal",
        "attempts": "essais",
        "next_try": "prochain essai",
        "last_error": "dernière erreur",
        "sent_at": "envoyée",
        "retry": "Renvoyer",
        "hosts": "Sites",
        "no_hosts": "Aucun site.",
        "budget": "Budget",
        "breaker": "Disjoncteur",
        "failures": "Échecs consécutifs",
        "retry_after": "Retry-After",
        "robots": "robots.txt",
        "targets": "cibles",
        # adding a target by its link, pausing, resuming, removing one (web/admin.py)
        "add": "Ajouter",
        "add_title": "Ajouter une cible",
        "paste_link": "Collez le lien que vous utilisez pour réserver",
        "link_help": "L'adresse de la page de rendez-vous, telle que votre navigateur l'affiche.",
        "name_optional": "Nom (facultatif)",
        "name_help": "Laissé vide, creneau en propose un d'après la page.",
        "every_optional": "Vérifier toutes les (facultatif)",
        "every_help": "Par exemple « 10m » ; 5m par défaut.",
        "notify_optional": "Alerter par (facultatif)",
        "notify": "Alerter par",
        "notify_help": "Si aucun canal n'est coché, les alertes partent par tous.",
        "check_once": "Vérifier une fois et voir",
        "check_once_help": (
            "creneau vérifie la page une fois, poliment, et montre ce qu'il y voit ; rien "
            "n'est écrit avant que vous confirmiez."
        ),
        "edit_unavailable": (
            "Ce tableau de bord ne sait pas quel fichier de configuration modifier : ajouter, "
            "mettre en pause ou retirer une cible n'est pas possible ici (en ligne de commande : "
            "creneau add URL)."
        ),
        "preview_title": "Ce que creneau voit",
        "system": "Système",
        "link": "Lien",
        "page_read": "Page lue",
        "desk_id": "id",
        "desk_label": "libellé",
        "choose_some": "Cochez ceux à surveiller ; si aucun n'est coché, tous le sont.",
        "phrases_found": "Phrases de la page disant qu'il n'y a rien",
        "options_title": "Que chercher sur cette page",
        "options_help": "Choisissez la lecture qui correspond à ce que vous voyez sur la page.",
        "reads": "lit",
        "to_write": "Ce qui sera ajouté au fichier de configuration",
        "name": "Nom",
        "every": "Vérifier toutes les",
        "save": "Ajouter cette cible",
        "start_again": "Recommencer avec un autre lien",
        "already_watched": "Ce lien est déjà surveillé par la cible",
        "expired": "Cet aperçu a expiré : collez le lien à nouveau.",
        "page_unread": (
            "La page n'a pas pu être lue : creneau ne peut rien proposer d'y chercher. "
            "Réessayez plus tard."
        ),
        "nothing_to_read": (
            "creneau n'a trouvé sur cette page ni éléments qui se répètent avec une date et "
            "une heure, ni phrase disant qu'il n'y a pas de créneau : ajoutez-la en ligne de "
            'commande, creneau add URL --set slot_selector="…" (voir docs/systems/html.md).'
        ),
        "choose_option": "Choisissez ce que creneau doit chercher sur la page.",
        "too_long": "Le nom ou l'intervalle est trop long.",
        "csrf_refused": "Jeton CSRF absent ou faux : rechargez la page et recommencez.",
        "watching": "Surveillance",
        "waiting_first_check": "En attente de sa première vérification.",
        "paused_note": "En pause : creneau ne vérifie pas cette cible.",
        "paused": "en pause",
        "pause": "Mettre en pause",
        "resume": "Reprendre",
        "remove": "Retirer cette cible…",
        "remove_question": (
            "Retirer cette cible du fichier de configuration ? Son historique reste dans la "
            "base de données."
        ),
        "remove_confirm": "Retirer",
    },
    "en": {
        "colon": ": ",
        "overview": "Targets",
        "no_targets": "No target in the configuration.",
        "slots_now": "Slots shown",
        "no_slot_now": "No slot shown.",
        "book": "book",
        "last_release": "Last release",
        "next_release": "Next release",
        "no_release": "none yet",
        "host": "Host",
        "strip_day": "Last 24 h",
        "strip_week": "Last 7 days",
        "hours_ago_24": "24 h ago",
        "days_ago_7": "7 d ago",
        "now": "now",
        "solve_captcha": "Solve the CAPTCHA",
        "details": "details",
        "by_guichet": "Slots shown, by guichet",
        "timeline": "Checks",
        "recent_checks": "Latest checks",
        "when": "when",
        "status": "status",
        "detail": "detail",
        "releases": "Releases (last 30 days)",
        "no_releases": "No release in this period.",
        "seen_at": "seen at",
        "after_check": "after the check at",
        "guichet": "guichet",
        "slots": "slots",
        "dates_offered": "dates offered",
        "all_gone_after": "all gone after",
        "still_shown": "still shown",
        "heatmap": "When slots are released",
        "heatmap_alt": "Release probability by weekday and hour",
        "heatmap_open": "open the image",
        "lifetimes": "How long slots stay (last 90 days)",
        "no_lifetimes": "No slot in this period.",
        "gone": "gone",
        "censored": "still shown",
        "median": "median",
        "p90": "p90",
        "uptime": "What the site answered, per day (last 14 days)",
        "no_uptime": "No check in this period.",
        "day": "day",
        "checks": "checks",
        "clear_answer": "clear answer",
        "site_says": "What the site says of its releases",
        "evidence": "Evidence export",
        "evidence_help": (
            "A dated, verifiable record of every check of the period, as one zip file "
            "(HTML and CSV summary, the pages as received, MANIFEST.sha256)."
        ),
        "since": "from",
        "until": "to (included)",
        "see_coverage": "See the coverage",
        "evidence_choose": (
            "Choose a period: creneau shows what it covers before you download the dossier."
        ),
        "coverage_title": "Coverage of the period",
        "period": "Period",
        "attempts_made": "Attempts",
        "weeks_covered": "Distinct ISO weeks",
        "days_tried": "Days tried",
        "hours_tried": "Hours of the day tried",
        "slot_offered": "A slot offered",
        "calendar": "Calendar",
        "thin_record": "Warning:",
        "download_dossier": "Download the dossier (zip)",
        "back_to_target": "Back to the target",
        "site_page": "the site's page",
        "outbox": "Outbox",
        "outbox_empty": "No alert waiting, failed or expired.",
        "unsent": "Waiting, failed or expired",
        "recently_sent": "Sent in the last 24 h",
        "none_sent": "No alert sent in the last 24 h.",
        "created": "created",
        "state": "state",
        "target": "target",
        "alert": "alert",
        "channel": "channel",
        "attempts": "attempts",
        "next_try": "next try",
        "last_error": "last error",
        "sent_at": "sent",
        "retry": "Retry",
        "hosts": "Hosts",
        "no_hosts": "No host.",
        "budget": "Budget",
        "breaker": "Breaker",
        "failures": "Consecutive failures",
        "retry_after": "Retry-After",
        "robots": "robots.txt",
        "targets": "targets",
        # adding a target by its link, pausing, resuming, removing one (web/admin.py)
        "add": "Add",
        "add_title": "Add a target",
        "paste_link": "Paste the link you use to book",
        "link_help": "The address of the booking page, as your browser shows it.",
        "name_optional": "Name (optional)",
        "name_help": "Left empty, creneau proposes one from the page.",
        "every_optional": "Check every (optional)",
        "every_help": 'For example "10m"; 5m by default.',
        "notify_optional": "Alert through (optional)",
        "notify": "Alert through",
        "notify_help": "When no channel is ticked, alerts go through all of them.",
        "check_once": "Check once and preview",
        "check_once_help": (
            "creneau checks the page once, politely, and shows what it sees; nothing is "
            "written before you confirm."
        ),
        "edit_unavailable": (
            "This dashboard does not know which config file to edit: adding, pausing or "
            "removing a target is not available here (on the command line: creneau add URL)."
        ),
        "preview_title": "What creneau sees",
        "system": "System",
        "link": "Link",
        "page_read": "Page read",
        "desk_id": "id",
        "desk_label": "label",
        "choose_some": "Tick those to watch; when none is ticked, all of them are.",
        "phrases_found": "Phrases on the page saying there is nothing",
        "options_title": "What to look for on this page",
        "options_help": "Choose the reading that matches what you see on the page.",
        "reads": "reads",
        "to_write": "What will be added to the config file",
        "name": "Name",
        "every": "Check every",
        "save": "Add this target",
        "start_again": "Start again with another link",
        "already_watched": "This link is already watched by target",
        "expired": "This preview expired: paste the link again.",
        "page_unread": (
            "The page could not be read: creneau cannot propose what to look for on it. "
            "Try again later."
        ),
        "nothing_to_read": (
            "creneau found on this page neither elements that repeat with a date and time "
            "nor a phrase saying there is no slot: add it on the command line, creneau add "
            'URL --set slot_selector="…" (see docs/systems/html.md).'
        ),
        "choose_option": "Choose what creneau should look for on the page.",
        "too_long": "The name or the interval is too long.",
        "csrf_refused": "Missing or wrong CSRF token: reload the page and try again.",
        "watching": "Watching",
        "waiting_first_check": "Waiting for its first check.",
        "paused_note": "Paused: creneau does not check this target.",
        "paused": "paused",
        "pause": "Pause",
        "resume": "Resume",
        "remove": "Remove this target…",
        "remove_question": (
            "Remove this target from the config file? Its history stays in the database."
        ),
        "remove_confirm": "Remove",
    },
}

# What a booking page offers to choose from, by the setting that narrows to some (adding/links.py).
OFFERED_WORDS = {
    "fr": {
        "desks": "Guichets",
        "lieux": "Lieux",
        "organisations": "Organisations",
        "meeting_points": "Points de rendez-vous",
    },
    "en": {
        "desks": "Desks",
        "lieux": "Places",
        "organisations": "Organisations",
        "meeting_points": "Meeting points",
    },
}

# Why a step of adding or editing a target stops, by the code the link readers (adding/links.py),
# the config editor (adding/config_file.py) and the add form (web/admin.py) give; `{…}` are their
# values. The command line says the same in its own words (the exceptions' text).
PROBLEMS = {
    "fr": {
        # adding/links.py
        "not_a_link": "Ce n'est pas une adresse web : attendu https://… (reçu « {given} »).",
        "ants_place_missing": (
            "{link} : le hub de l'ANTS cherche autour d'un lieu pour un motif, et ce lien ne "
            "dit pas {missing}. Ajoutez la cible en ligne de commande : creneau add URL {how} "
            '(et le jeton du hub, token = "{token}").'
        ),
        # adding/config_file.py
        "no_file": "{file} : fichier introuvable (partez de config.example.toml).",
        "cannot_read": "{file} : lecture impossible ({reason}).",
        "not_utf8": (
            "{file} : ce n'est pas du texte UTF-8 (octet {byte} à la ligne {line}) : "
            "enregistrez le fichier en UTF-8."
        ),
        "toml_syntax": "{file} : erreur de syntaxe TOML ({error}).",
        "layout_would_change": (
            "{file} : creneau ne peut pas modifier ce fichier sans changer sa mise en page "
            "(ses tables [[target]] sont-elles séparées par une autre table ?) : modifiez-le "
            "à la main."
        ),
        "not_target_tables": (
            "{file} : les cibles n'y sont pas écrites en tables [[target]], les seules que "
            "creneau modifie : modifiez ce fichier à la main."
        ),
        "table_end_unclear": (
            "{file} : creneau ne sait pas où finit une table [[target]] ici : modifiez le "
            "fichier à la main."
        ),
        "no_such_target": "{file} : aucune cible nommée « {target} » (cibles : {known}).",
        "cannot_edit_target": (
            "{file} : creneau ne peut pas modifier la cible « {target} » : modifiez-la à la main."
        ),
        "cannot_write_beside": ("{file} : impossible d'écrire à côté pour le vérifier ({reason})."),
        "changed_meanwhile": (
            "{file} : le fichier a changé pendant que creneau le modifiait : rien n'a été "
            "écrit, réessayez."
        ),
        "cannot_write": "{file} : écriture impossible ({reason}).",
        # web/admin.py
        "link_needed": "Collez le lien de la page de rendez-vous (https://…).",
        "link_too_long": "Le lien dépasse {limit} caractères.",
        "every_not_a_duration": (
            "Vérifier toutes les : attendu une durée comme « 90s », « 5m » ou « 1h » "
            "(reçu « {given} »)."
        ),
        "every_too_long": "Vérifier toutes les : durée bien trop longue (au plus {longest}).",
        "checked_just_now": (
            "{link} : pas vérifié, cette page vient de l'être ; creneau la vérifie au plus "
            "une fois toutes les {floor} : réessayez dans un moment."
        ),
        "not_fetched": "Lien refusé, rien n'a été demandé au site : {reason}.",
        "host_unknown": "{link} : le nom du site ne correspond à aucune adresse ({reason}).",
        "unknown_channel": "Aucun canal d'alerte nommé « {channel} » (canaux : {known}).",
        "config_not_valid": "Le fichier de configuration n'est pas valide.",
    },
    "en": {
        "not_a_link": 'Not a web address: expected https://… (got "{given}").',
        "ants_place_missing": (
            "{link}: the ANTS hub searches around a place for a reason, and this link does "
            "not say {missing}. Add the target on the command line: creneau add URL {how} "
            '(and the hub\'s token, token = "{token}").'
        ),
        "no_file": "{file}: no such file (start from config.example.toml).",
        "cannot_read": "{file}: cannot read it ({reason}).",
        "not_utf8": (
            "{file}: not UTF-8 text (byte {byte} on line {line}): save the file as UTF-8."
        ),
        "toml_syntax": "{file}: TOML syntax error ({error}).",
        "layout_would_change": (
            "{file}: creneau cannot edit this file without changing its layout (are its "
            "[[target]] tables split by another table?): edit it by hand."
        ),
        "not_target_tables": (
            "{file}: its targets are not written as [[target]] tables, the only ones creneau "
            "edits: edit this file by hand."
        ),
        "table_end_unclear": (
            "{file}: creneau cannot tell where a [[target]] table ends here: edit the file by hand."
        ),
        "no_such_target": '{file}: no target named "{target}" (targets: {known}).',
        "cannot_edit_target": '{file}: creneau cannot edit target "{target}": edit it by hand.',
        "cannot_write_beside": "{file}: cannot write beside it to check it ({reason}).",
        "changed_meanwhile": (
            "{file}: the file changed while creneau was editing it: nothing written, try again."
        ),
        "cannot_write": "{file}: cannot write it ({reason}).",
        "link_needed": "Paste the link of the booking page (https://…).",
        "link_too_long": "The link is longer than {limit} characters.",
        "every_not_a_duration": (
            'Check every: expected a duration such as "90s", "5m" or "1h" (got "{given}").'
        ),
        "every_too_long": "Check every: far too long (at most {longest}).",
        "checked_just_now": (
            "{link}: not checked, this page was just checked; creneau checks it at most once "
            "every {floor}: try again in a moment."
        ),
        "not_fetched": "Link refused, nothing was asked of the site: {reason}.",
        "host_unknown": "{link}: the host name resolves to no address ({reason}).",
        "unknown_channel": 'No alert channel named "{channel}" (channels: {known}).',
        "config_not_valid": "The config file is not valid.",
    },
}


def problem_line(code: str, values: Mapping[str, str], language: str) -> str:
    """The line saying why, in the language (an empty value, e.g. no target, shows "—")."""
    return PROBLEMS[language][code].format_map({k: v or "—" for k, v in values.items()})


_SHORT_UNITS = {"fr": ("s", "min", "h", "j"), "en": ("s", "min", "h", "d")}


def short_duration(value: timedelta, language: str) -> str:
    """'45 s', '2 min', '3 h', '2 j' / '2 d': a rough duration, rounded down."""
    seconds, (second, minute, hour, day) = int(value.total_seconds()), _SHORT_UNITS[language]
    if seconds < 60:
        return f"{max(seconds, 0)} {second}"
    if seconds < 3600:
        return f"{seconds // 60} {minute}"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} {hour}"
    return f"{seconds // 86400} {day}"


def checked_ago(at: datetime, now: datetime, language: str) -> str:
    """'vérifié il y a 2 min' / 'checked 2 min ago'."""
    ago = short_duration(now - at, language)
    return f"vérifié il y a {ago}" if language == "fr" else f"checked {ago} ago"


def next_check_text(at: datetime | None, now: datetime, zone: ZoneInfo, language: str) -> str:
    """'prochaine vérification dans 3 min (09:25)' / 'next check in 3 min (09:25)'; '' when
    none is planned."""
    if at is None:
        return ""
    clock = short_moment(at, now, zone, language)
    if at <= now:
        return (
            f"prochaine vérification : maintenant ({clock})"
            if language == "fr"
            else f"next check: due now ({clock})"
        )
    wait = short_duration(at - now, language)
    if language == "fr":
        return f"prochaine vérification dans {wait} ({clock})"
    return f"next check in {wait} ({clock})"


SHORT_DAYS = {
    "fr": ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}
SHORT_MONTHS = {
    "fr": ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
           "nov.", "déc."),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}  # fmt: skip


def short_moment(at: datetime, now: datetime, zone: ZoneInfo, language: str) -> str:
    """'09:20' today; 'lun. 4 mars 09:20' / 'Mon 4 Mar 09:20' another day this year, with
    the year another year. Local time."""
    local = at.astimezone(zone)
    if local.date() == now.astimezone(zone).date():
        return f"{local:%H:%M}"
    return f"{day_text(at, now, zone, language)} {local:%H:%M}"


def day_text(at: datetime, now: datetime, zone: ZoneInfo, language: str) -> str:
    """'lun. 4 mars' / 'Mon 4 Mar' (with the year when it is not this one): a local day."""
    local = at.astimezone(zone)
    weekday, month = SHORT_DAYS[language][local.weekday()], SHORT_MONTHS[language][local.month - 1]
    year = "" if local.year == now.astimezone(zone).year else f" {local.year}"
    return f"{weekday} {local.day} {month}{year}"


def slots_count(count: int, language: str) -> str:
    if language == "fr":
        return f"{count} créneau{'x' if count > 1 else ''}"
    return f"{count} slot{'s' if count != 1 else ''}"


def percent(share: float) -> str:
    return f"{share:.0%}" if share in (0, 1) else f"{share:.1%}"


# --- the evidence preview (/targets/<name>/evidence) -------------------------------------------


def of_total(count: int, total: int, language: str) -> str:
    """'2 sur 5' / '2 of 5'."""
    return f"{count} {'sur' if language == 'fr' else 'of'} {total}"


def period_words(start: datetime, end: datetime, zone: ZoneInfo, language: str) -> str:
    """'du mercredi 4 mars 2030 au vendredi 6 mars 2030 inclus (Europe/Paris)': a bound at
    local midnight is a whole day, any other bound its exact time."""
    first = _bound(start, zone, language, end_of_day=False)
    last = _bound(end, zone, language, end_of_day=True)
    if end - start == timedelta(days=1) and _midnight(start, zone) and _midnight(end, zone):
        return f"{'le' if language == 'fr' else 'on'} {first} ({zone.key})"  # one whole day
    if language == "fr":
        return f"du {first} au {last} ({zone.key})"
    return f"from {first} to {last} ({zone.key})"


def _bound(at: datetime, zone: ZoneInfo, language: str, *, end_of_day: bool) -> str:
    if not _midnight(at, zone):
        return long_datetime(at, zone, language)
    local = at.astimezone(zone)
    day = local.date() - timedelta(days=1) if end_of_day else local.date()
    words = f"{day_in_words(day, zone, language)} {day.year}"
    if not end_of_day:
        return words
    return f"{words} inclus" if language == "fr" else f"{words} included"


def _midnight(at: datetime, zone: ZoneInfo) -> bool:
    return at.astimezone(zone).time() == time(0)


def slot_offered_words(offered: bool, slots: int, guichets: Sequence[str], language: str) -> str:
    """'non, aucun sur la période' / 'oui : 3 créneaux vus (guichets : A, B)'."""
    if not offered:
        return "non, aucun sur la période" if language == "fr" else "no, none in the period"
    said = "oui" if language == "fr" else "yes"
    if not slots:
        return said
    where = ", ".join(guichets)
    if language == "fr":
        return f"{said} : {slots_count(slots, language)} vu{'s' if slots > 1 else ''} ({where})"
    return f"{said}: {slots_count(slots, language)} seen ({where})"
