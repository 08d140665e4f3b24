"""Every word the dashboard's pages say, in French and English, and how they write moments
and durations: "vérifié il y a 2 min" / "checked 2 min ago", "lun. 4 mars 09:20"."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

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
        "download": "Télécharger le zip",
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
    },
    "en": {
        "colon": ": ",
        "overview": "Targets",
        "no_targets": "No target in the configuration.",
        "slots_now": "Slots shown",
        "no_slot_now": "No slot shown.",
        "book": "book",
        "last_release": "Last release",
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
        "download": "Download the zip",
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
    },
}

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


def checks_count(count: int, language: str) -> str:
    if language == "fr":
        return f"{count} vérification{'s' if count > 1 else ''}"
    return f"{count} check{'s' if count != 1 else ''}"


def slots_count(count: int, language: str) -> str:
    if language == "fr":
        return f"{count} créneau{'x' if count > 1 else ''}"
    return f"{count} slot{'s' if count != 1 else ''}"


def percent(share: float) -> str:
    return f"{share:.0%}" if share in (0, 1) else f"{share:.1%}"
