"""How the alerts of a release a site announced read (kind `release_announced`), and the
"prepare" alert before one (a CAPTCHA to solve in advance): templates merged into
`messages.DEFAULTS`, with the same filters. `day` writes "mardi 9 décembre", `week` the
day a week starts ("15 décembre"), `clock` the time, all in the configured zone. `said`, the
site's own sentence when a page showed one, is quoted as page text (escaped like any value).
"""

from __future__ import annotations

# The prepare alert's sentence, which the dashboard and `creneau status` show too
# (usecases.release_texts): `at` and `solve_before` are clock times.
PREPARE_SENTENCE = {
    "fr": (
        "Mise en ligne annoncée à {at} — résolvez le CAPTCHA avant {solve_before} pour que "
        "creneau regarde dès {at}"
    ),
    "en": (
        "Release announced at {at} — solve the CAPTCHA before {solve_before} so that "
        "creneau looks from {at}"
    ),
}
_PREPARE = {
    language: sentence.format(at="{{ at | clock }}", solve_before="{{ solve_before | clock }}")
    for language, sentence in PREPARE_SENTENCE.items()
}

FR: dict[str, dict[str, str]] = {
    "release_announced": {
        "title": "Mise en ligne annoncée {{ at | day }} à {{ at | clock }} — {{ target }}",
        "body": (
            "{{ target | strong }}\n"
            "Le site annonce une mise en ligne {{ at | day }} à {{ at | clock }}"
            "{% if week %}, pour des créneaux de la semaine du {{ week | week }}{% endif %}.\n"
            "{% if said %}Le site : « {{ said }} »\n{% endif %}"
            "creneau regardera dès {{ at | clock }} et vous préviendra des créneaux qui "
            "apparaîtront.\n\n{{ url | link }}"),
    },
    "release_changed": {
        "title": "Mise en ligne déplacée au {{ at | day }} à {{ at | clock }} — {{ target }}",
        "body": (
            "{{ target | strong }}\n"
            "Le site a changé la mise en ligne annoncée : {{ at | day }} à {{ at | clock }}"
            "{% if week %}, pour des créneaux de la semaine du {{ week | week }}{% endif %}, "
            "au lieu du {{ before | day }} à {{ before | clock }}."
            "{% if said %}\nLe site : « {{ said }} »{% endif %}\n\n{{ url | link }}"),
    },
    "release_withdrawn": {
        "title": "Mise en ligne retirée — {{ target }}",
        "body": (
            "{{ target | strong }}\n"
            "Le site n'annonce plus la mise en ligne du {{ at | day }} à {{ at | clock }}. "
            "creneau continue de surveiller comme d'habitude.\n\n{{ url | link }}"),
    },
    "prepare_captcha": {
        "title": "CAPTCHA à résoudre avant {{ solve_before | clock }} — {{ target }}",
        "body": (
            "{{ target | strong }}\n"
            + _PREPARE["fr"] + ".\n"
            "{% if captcha_page %}{{ captcha_page | link('Résoudre le CAPTCHA') }}\n(ou, dans "
            "un terminal, lancez {{ ('creneau captcha ' ~ target) | code }})"
            "{% else %}Lancez {{ ('creneau captcha ' ~ target) | code }} et recopiez le code "
            "de l'image.{% endif %}\n\n{{ url | link }}"),
    },
}  # fmt: skip

EN: dict[str, dict[str, str]] = {
    "release_announced": {
        "title": "Release announced for {{ at | day }} at {{ at | clock }} — {{ target }}",
        "body": (
            "{{ target | strong }}\n"
            "The site announces a release on {{ at | day }} at {{ at | clock }}"
            "{% if week %}, for slots in the week of {{ week | week }}{% endif %}.\n"
            "{% if said %}The site says: \"{{ said }}\"\n{% endif %}"
            "creneau will look from {{ at | clock }} and tell you of the slots that "
            "appear.\n\n{{ url | link }}"),
    },
    "release_changed": {
        "title": "Release moved to {{ at | day }} at {{ at | clock }} — {{ target }}",
        "body": (
            "{{ target | strong }}\n"
            "The site changed the release it announced: {{ at | day }} at {{ at | clock }}"
            "{% if week %}, for slots in the week of {{ week | week }}{% endif %}, "
            "instead of {{ before | day }} at {{ before | clock }}."
            "{% if said %}\nThe site says: \"{{ said }}\"{% endif %}\n\n{{ url | link }}"),
    },
    "release_withdrawn": {
        "title": "Release withdrawn — {{ target }}",
        "body": (
            "{{ target | strong }}\n"
            "The site no longer announces the release of {{ at | day }} at {{ at | clock }}. "
            "creneau goes on watching as usual.\n\n{{ url | link }}"),
    },
    "prepare_captcha": {
        "title": "CAPTCHA to solve before {{ solve_before | clock }} — {{ target }}",
        "body": (
            "{{ target | strong }}\n"
            + _PREPARE["en"] + ".\n"
            "{% if captcha_page %}{{ captcha_page | link('Solve the CAPTCHA') }}\n(or, in a "
            "terminal, run {{ ('creneau captcha ' ~ target) | code }})"
            "{% else %}Run {{ ('creneau captcha ' ~ target) | code }} and type the code from "
            "the image.{% endif %}\n\n{{ url | link }}"),
    },
}  # fmt: skip

RELEASE_KINDS = {
    "release_announced": "release_announced",
    "release_changed": "release_announced",
    "release_withdrawn": "release_announced",
    "prepare_captcha": "trouble",
}
MOMENTS = ("at", "before", "solve_before")  # the events' instants, as ISO text
