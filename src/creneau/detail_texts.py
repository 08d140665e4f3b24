"""Every detail a check can give, in French and English: the catalogue `details.render` reads.
Each code is a Jinja2 template per language, as alerts are (`alerts/messages.py`); its
parameters are the Detail's. Filters: `q` quotes a text as the language does ("…" / « … »),
`day` writes a day 31/12/2026, `moment` an instant "31/12/2026 à 09:00:00" in French and
"2026-12-31 09:00:00" in English (already in the reader's zone), `weekday` its day of the week
("lundi" / "Monday"), `clock` its time of day ("09:00"), `number` a decimal (1.5 /
1,5), `counted(n, one, many)` "3 créneaux".

The English texts are those creneau has always written (the saved pages' expected readings
compare them); each French one says the same. tests/test_details.py checks that every code
has a text in both languages, naming the same parameters."""

from __future__ import annotations

from typing import Literal

Code = Literal[
    # put together
    "joined",
    "labelled",
    # what every system may meet (sources/common.py, and the checker)
    "page_says",
    "captcha_asked",
    "unexpected_page",
    "not_checked_halted",
    "http_forbidden",
    "http_rate_limited",
    "http_server_error",
    "http_not_found",
    "http_status",
    "site_overloaded",
    "site_closed",
    "internal_error",
    # why an alert of the outbox was not sent (alerts/deliver.py)
    "outbox.channel_gone",
    "outbox.slots_gone",
    "outbox.too_old",
    "outbox.withdrawn_clear",
    "outbox.withdrawn_other_state",
    "outbox.withdrawn_host_up",
    "outbox.withdrawn_with_down",
    "outbox.withdrawn_release_changed",
    "outbox.withdrawn_release_withdrawn",
    "outbox.withdrawn_release_passed",
    "slots_not_kept",
    "none_among_read",
    "page_too_large",
    "ezbooking.desk_slots",
    "rdvsp.referent_no_slot",
    "rdvsp.week_closed",
    "ants.radius_refused",
    "interrupted",
    # the polite client (fetch/) and the host's breaker
    "fetch.cooling_down",
    "fetch.too_soon",
    "fetch.unsafe_link",
    "fetch.too_large",
    "fetch.redirect_loop",
    "fetch.robots_disallows",
    "fetch.robots_unreachable",
    "fetch.resolve_timeout",
    "fetch.unresolved",
    "fetch.deadline",
    "fetch.no_answer",
    "fetch.connection_failed",
    # the SSRF guard (fetch/guard.py): why a link given through the web is not fetched
    "guard.spaces",
    "guard.control",
    "guard.backslash",
    "guard.invalid",
    "guard.scheme",
    "guard.userinfo",
    "guard.percent",
    "guard.no_host",
    "guard.port_zero",
    "guard.two_parsers",
    "guard.written",
    "guard.non_standard",
    "guard.address",
    "guard.no_address",
    "guard.not_an_address",
    "guard.resolves_to",
    "address.embedded",
    "address.unspecified",
    "address.loopback",
    "address.link_local",
    "address.multicast",
    "address.cgnat",
    "address.relay_6to4",
    "address.documentation",
    "address.private",
    "address.reserved",
    "address.not_global",
    "breaker.retry_after",
    "breaker.retry_after_503",
    "breaker.probe_failed",
    "breaker.probe_running",
    "breaker.failures_in_a_row",
    "breaker.answers_again",
    # html
    "html.no_target",
    "html.not_recognised",
    "html.no_slot_words",
    "html.slots",
    "html.banner_too",
    "html.no_slot_for_guichet",
    "html.times_not_read",
    # ezbooking
    "ezbooking.grid_not_json",
    "ezbooking.grid_no_envelope",
    "ezbooking.grid_error",
    "ezbooking.grid_empty",
    "ezbooking.week_no_slot",
    "ezbooking.week",
    "ezbooking.slots_no_header",
    "ezbooking.desks_offered",
    "ezbooking.no_desk",
    "ezbooking.no_free_slot",
    "ezbooking.finish_only",
    "ezbooking.information",
    "ezbooking.unknown_step",
    "ezbooking.terms",
    "ezbooking.calendar_slots",
    "ezbooking.calendar_opened",
    "ezbooking.desk_not_offered",
    "ezbooking.no_planning_id",
    "ezbooking.back_to_desks",
    "ezbooking.week_trouble",
    "ezbooking.opened_but",
    "ezbooking.first_slot_beyond",
    "ezbooking.opened_then",
    "ezbooking.desks",
    "ezbooking.no_form",
    "ezbooking.unknown_error_page",
    # rdvpref
    "rdvpref.home",
    "rdvpref.unknown_page",
    "rdvpref.image_captcha",
    "rdvpref.recaptcha",
    "rdvpref.hcaptcha",
    "rdvpref.turnstile",
    "rdvpref.bot_wall",
    "rdvpref.interstitial",
    "rdvpref.wrong_code",
    "rdvpref.session_ended",
    "rdvpref.sent_home",
    "rdvpref.free_slots",
    "rdvpref.none_readable",
    "rdvpref.first_free_day",
    "rdvpref.no_free_day",
    "rdvpref.week_empty",
    "rdvpref.no_slot_phrase",
    "rdvpref.no_captcha_at",
    "rdvpref.form_without_image",
    "rdvpref.captcha_without_image",
    "rdvpref.not_an_image",
    "rdvpref.image_unreadable",
    "rdvpref.captcha_service",
    "rdvpref.no_captcha_id",
    "rdvpref.service_gave_none",
    "rdvpref.after_code",
    # rdvsp
    "rdvsp.no_slot_search",
    "rdvsp.no_slot_invitation",
    "rdvsp.motifs_offered",
    "rdvsp.unknown_page",
    "rdvsp.maintenance",
    "rdvsp.unreadable_links",
    "rdvsp.week_slots",
    "rdvsp.next_link",
    "rdvsp.empty_week",
    "rdvsp.places",
    "rdvsp.organisations",
    "rdvsp.ants_count_refused",
    "rdvsp.ants_count_asked",
    "rdvsp.with_ants_count",
    "rdvsp.motif_needed",
    "rdvsp.ants_count_still_asked",
    "rdvsp.left_search",
    "rdvsp.next_only_announced",
    "rdvsp.week_not_read",
    "rdvsp.refused_or_failed",
    "rdvsp.max_lieux",
    "rdvsp.next_unreadable",
    "rdvsp.next_only_known",
    "rdvsp.place_not_listed",
    "rdvsp.organisation_not_listed",
    "rdvsp.summary",
    # ants
    "ants.not_json",
    "ants.invalid_json",
    "ants.api_error",
    "ants.shape",
    "ants.shape.not_a_list",
    "ants.shape.not_object",
    "ants.shape.no_usable",
    "ants.shape.no_slot_list",
    "ants.shape.not_a_datetime",
    "ants.where.point_number",
    "ants.where.point",
    "ants.where.slot",
    "ants.json.object",
    "ants.json.list",
    "ants.json.string",
    "ants.json.boolean",
    "ants.json.null",
    "ants.json.number",
    "ants.free_slots",
    "ants.points_without_slot",
    "ants.no_point",
    "ants.watched",
    "ants.not_listed",
    "ants.no_token",
    "ants.hub_refused",
    "ants.unexpected_status",
    "ants.with_message",
    "ants.point",
    # handing a CAPTCHA to a person (usecases/captcha.py)
    "captcha.not_an_image",
    "captcha.session_not_saved",
    # expected releases (creneau.learned)
    "release.learned",
]

_BROWSER_ONLY_EN = (
    "creneau cannot hand it to you (it is not an image and a code): only a browser on the "
    "site can pass it. creneau does not retry it; it looks again at the next check"
)
_BROWSER_ONLY_FR = (
    "creneau ne peut pas vous le transmettre (ce n'est pas une image à recopier) : seul un "
    "navigateur sur le site peut le passer. creneau ne réessaie pas ; il regarde de nouveau "
    "à la prochaine vérification"
)
_OPENED_EN = "the calendar opened (the desk has a free slot)"
_OPENED_FR = "le calendrier s'est ouvert (le guichet a un créneau libre)"

_EN: dict[Code, str] = {
    "joined": "{{ items | join('; ') }}",
    "labelled": "{{ label }}: {{ detail }}",
    "page_says": "the page says {{ phrase | q }}",
    "captcha_asked": "the site asks for a CAPTCHA",
    "unexpected_page": "unexpected {{ kind }} page",
    "not_checked_halted": "not checked: the site refused or failed",
    "http_forbidden": "HTTP 403: the site refuses our requests",
    "http_rate_limited": "HTTP 429: too many requests",
    "http_server_error": "HTTP {{ status }} from the site",
    "http_not_found": "HTTP 404: no such page (check the URL)",
    "http_status": "HTTP {{ status }}",
    "site_overloaded": "the site says it is overloaded",
    "site_closed": "the site says: {{ phrase | q }}",
    "internal_error": "internal error: {{ kind }}: {{ message }}",
    "slots_not_kept": "{{ count }} more on the page, not read (at most {{ cap }} are)",
    "none_among_read": "no slot among the {{ cap }} read; others on the page were not",
    "page_too_large": "the page is too large: its first {{ elements }} elements show no slot",
    "ezbooking.desk_slots": "{{ count }} free slot(s)",
    "rdvsp.referent_no_slot": "the site says the referent has no free slot",
    "rdvsp.week_closed": (
        "no slot to book in the week shown; its later days are closed to booking "
        '("Date fermée à la reservation")'),
    "ants.radius_refused": (
        "HTTP 403: the hub does not offer the target's radius_km ({{ refusal | q }}): set "
        "radius_km to one it offers ({{ choices | join(', ') }} km when creneau was written)"),
    "outbox.channel_gone": "channel {{ channel | q }} no longer has this URL in the config",
    "outbox.slots_gone": (
        "not sent: every slot it announced was gone before it could be delivered"),
    "outbox.too_old": "not sent: older than {{ age }}",
    "outbox.withdrawn_clear": "withdrawn: {{ target }} has given a clear answer since",
    "outbox.withdrawn_other_state": (
        "withdrawn: {{ target }} is now in another state ({{ state }}), alerted anew"),
    "outbox.withdrawn_host_up": "withdrawn: {{ host }} answers again",
    "outbox.withdrawn_with_down": "withdrawn: the alert that the site was down was withdrawn",
    "outbox.withdrawn_release_changed": (
        "withdrawn: the site changed the release it announced at {{ at | moment }} for "
        "{{ target }}, told anew"),
    "outbox.withdrawn_release_withdrawn": (
        "withdrawn: the site no longer announces a release at {{ at | moment }} for "
        "{{ target }}"),
    "outbox.withdrawn_release_passed": (
        "not sent: the release announced at {{ at | moment }} for {{ target }} has passed"),
    "interrupted": "interrupted: creneau stopped during the check",
    "fetch.cooling_down": (
        "{{ host }} is cooling down ({{ reason }}); next attempt at {{ until | moment }}"),
    "fetch.too_soon": (
        "last checked {{ elapsed }} ago; at most one check per {{ floor }} (wait {{ wait }})"),
    "fetch.unsafe_link": "not fetched: {{ reason }}",
    "fetch.too_large": "response body larger than {{ kib }} KiB: not read further",
    "fetch.redirect_loop": "redirect loop: more than {{ hops }} redirects (last to {{ url }})",
    "fetch.robots_disallows": (
        "{{ host }}/robots.txt disallows {{ path }} for creneau (the target's respect_robots "
        "= false overrides it)"),
    "fetch.robots_unreachable": "robots.txt unreachable: {{ why }}",
    "fetch.resolve_timeout": "{{ host }} did not resolve within {{ seconds | number }}s",
    "fetch.unresolved": "{{ host }} does not resolve: {{ error }}",
    "fetch.deadline": "the check spent more than {{ seconds | number }}s waiting for the site",
    "fetch.no_answer": "no complete answer from {{ url }} within {{ seconds | number }}s",
    "fetch.connection_failed": "{{ kind }}: {{ message or 'connection failed' }}",
    "guard.spaces": "the link has spaces or line breaks around it",
    "guard.control": "the link contains control characters",
    "guard.backslash": "the link contains a backslash (URL parsers disagree on where its host is)",
    "guard.invalid": "not a valid link ({{ error }})",
    "guard.scheme": (
        "only http and https links are fetched (not {{ scheme or 'a relative link' }})"),
    "guard.userinfo": "the link carries a user name or password (user@host): not allowed",
    "guard.percent": "the link's host is percent-encoded: not allowed",
    "guard.no_host": "the link has no host",
    "guard.port_zero": "the link's port is 0",
    "guard.two_parsers": (
        "the link's host is read differently by two URL parsers ({{ written }}, {{ host }})"),
    "guard.written": "{{ host }} (written {{ written }})",
    "guard.non_standard": "{{ host }} is an address in a non-standard form: write it a.b.c.d",
    "guard.address": "{{ host }} is {{ why }} ([web] allow_private_targets = true allows it)",
    "guard.no_address": "{{ host }} resolves to no address",
    "guard.not_an_address": "{{ host }} resolves to '{{ answer }}', which is not an address",
    "guard.resolves_to": (
        "{{ host }} resolves to {{ address }}, {{ why }} ([web] allow_private_targets = true "
        "allows it)"),
    "address.embedded": "the {{ form }} form of {{ address }}, {{ why }}",
    "address.unspecified": "the unspecified address",
    "address.loopback": "a loopback address",
    "address.link_local": "a link-local address",
    "address.multicast": "a multicast address",
    "address.cgnat": "an address of 100.64.0.0/10, carrier-grade NAT",
    "address.relay_6to4": "an address of 192.88.99.0/24, old 6to4 relays",
    "address.documentation": "an address of 3fff::/20, kept for documentation",
    "address.private": "a private address",
    "address.reserved": "a reserved address",
    "address.not_global": "not a globally reachable address",
    "breaker.retry_after": "Retry-After",
    "breaker.retry_after_503": "HTTP 503 with Retry-After",
    "breaker.probe_failed": "the probe check failed",
    "breaker.probe_running": "a probe check is in progress",
    "breaker.failures_in_a_row": "{{ count }} failed checks in a row",
    "breaker.answers_again": "answers again",
    "html.no_target": "the html system needs a target's selectors and phrases to read a page",
    "html.not_recognised": (
        "{% if selector is defined %}no element matches slot_selector {{ selector | q }}"
        "{% if phrases %} and {% endif %}{% endif %}"
        "{% if phrases %}none of the none_text phrases is on the page "
        "({{ phrases | map('q') | join(', ') }}){% endif %}: the layout may have changed"),
    "html.no_slot_words": (
        "the elements slot_selector matches say there is no slot ({{ said | q }}), but no "
        "none_text phrase names it: add that phrase to none_text"),
    "html.slots": (
        "{{ slots }} slot{{ '' if slots == 1 else 's' }}"
        "{% if guichets > 1 %} at {{ guichets }} guichets{% endif %}"),
    "html.banner_too": "a banner is on the page too, not decisive beside slots ({{ banner }})",
    "html.no_slot_for_guichet": "no slot listed for this guichet",
    "html.times_not_read": (
        "{{ count }} slot{{ 's' if count > 1 else '' }} without a readable time: "
        "{{ first | q }}{% if count > 1 %} (and {{ count - 1 }} more){% endif %}"),
    "ezbooking.grid_not_json": "week grid is not valid JSON",
    "ezbooking.grid_no_envelope": "JSON without ezjscore's error_text/content envelope",
    "ezbooking.grid_error": "week grid error: {{ message }}",
    "ezbooking.grid_empty": "week grid without a table or any slot link",
    "ezbooking.week_no_slot": "{{ week or 'a week without its header' }}: no free slot",
    "ezbooking.week": "{{ week }}",
    "ezbooking.slots_no_header": "{{ count }} free slot(s), no week header",
    "ezbooking.desks_offered": "{{ count }} desks offered",
    "ezbooking.no_desk": "desk choice without any desk",
    "ezbooking.no_free_slot": "the page says there is no free slot",
    "ezbooking.finish_only": "the no-slot step (only a 'Terminer' button)",
    "ezbooking.information": "information before the calendar",
    "ezbooking.unknown_step": "unrecognised booking step {{ step or '?' }}",
    "ezbooking.terms": "terms to accept",
    "ezbooking.calendar_slots": "the calendar step shows {{ count }} free slot(s)",
    "ezbooking.calendar_opened": "the calendar step opened: the desk has a free slot",
    "ezbooking.desk_not_offered": (
        "desk {{ desk }} is not offered (offered: {{ offered | join(', ') }})"),
    "ezbooking.no_planning_id": (
        f"{_OPENED_EN} but its page names no planning id for the week grid; set "
        "desks = [\"<id>\"] to the id your browser's developer tools show in "
        "/ezjscore/call/bookingserver::planning::assign::<booking>::<id>"),
    "ezbooking.back_to_desks": "the site sent us back to the desk choice: no free slot",
    "ezbooking.week_trouble": "week {{ week }}: {{ trouble }}",
    "ezbooking.opened_but": f"{_OPENED_EN} but {{{{ trouble }}}}",
    "ezbooking.first_slot_beyond": (
        f"{_OPENED_EN} but no free slot was found in the {{{{ weeks }}}} week(s) read: the "
        "first one lies beyond"),
    "ezbooking.opened_then": (
        f"{_OPENED_EN}; no free slot in the {{{{ weeks }}}} week(s) read, then "
        "{{ trouble }}"),
    "ezbooking.desks": "{{ count }} desks: {{ detail }}",
    "ezbooking.no_form": "no booking form on the page",
    "ezbooking.unknown_error_page": "unrecognised error page",
    "rdvpref.home": "the démarche's home page",
    "rdvpref.unknown_page": "not a page of RDV Préfecture we know",
    "rdvpref.image_captcha": (
        'the site asks for its image CAPTCHA (the "code de sécurité"): creneau can hand it '
        "to you — run `creneau captcha {{ name }}` and type the code"),
    "rdvpref.recaptcha": (
        f"the site asks for a Google reCAPTCHA (\"I'm not a robot\"): {_BROWSER_ONLY_EN}"),
    "rdvpref.hcaptcha": f"the site asks for an hCaptcha challenge: {_BROWSER_ONLY_EN}",
    "rdvpref.turnstile": (
        f"the site answers with a Cloudflare Turnstile challenge: {_BROWSER_ONLY_EN}"),
    "rdvpref.bot_wall": (
        f"an anti-bot wall ({{{{ vendor }}}}) answered instead of the site: {_BROWSER_ONLY_EN}"),
    "rdvpref.interstitial": (
        "the site shows a verification page creneau does not recognise: creneau cannot hand "
        "it to you; open the page in a browser. creneau does not retry it; it looks again at "
        "the next check"),
    "rdvpref.wrong_code": "the code typed was not accepted: the site shows a new CAPTCHA",
    "rdvpref.session_ended": "the site session has ended (the site says errorSessionInvalide)",
    "rdvpref.sent_home": (
        "the site sent us back to the démarche's page: the site session is gone"),
    "rdvpref.free_slots": (
        "{{ count }} free slot(s) shown"
        "{% if unreadable %} ({{ unreadable }} more could not be read){% endif %}"),
    "rdvpref.none_readable": "{{ count }} slot(s) shown but none readable",
    "rdvpref.first_free_day": (
        "no slot in the week shown; the site says the first free day is {{ day | day }}"),
    "rdvpref.no_free_day": (
        "the site says no day is free from {{ since | day }}"
        "{% if until is defined %} to {{ until | day }}{% endif %} (no first free day)"),
    "rdvpref.week_empty": (
        'the page says the week shown has no slot ("Aucun créneau disponible sur cette '
        'semaine") but not whether a later week has one'),
    "rdvpref.no_slot_phrase": "slot page without slots nor the no-slot phrase",
    "rdvpref.no_captcha_at": "{{ url }} shows no CAPTCHA: {{ detail }}",
    "rdvpref.form_without_image": "CAPTCHA form without an image",
    "rdvpref.captcha_without_image": "the CAPTCHA has no image",
    "rdvpref.not_an_image": "not an image",
    "rdvpref.image_unreadable": "the CAPTCHA image could not be read: {{ detail }}",
    "rdvpref.captcha_service": "the CAPTCHA service: {{ detail }}",
    "rdvpref.no_captcha_id": "no CAPTCHA id in the answer",
    "rdvpref.service_gave_none": "the CAPTCHA service gave no CAPTCHA: {{ detail }}",
    "rdvpref.after_code": "after the code was sent, {{ detail }}",
    "rdvsp.no_slot_search": "the site says no slot matches the search",
    "rdvsp.no_slot_invitation": "the site says no slot matches the invitation",
    "rdvsp.motifs_offered": "{{ count }} motifs offered",
    "rdvsp.unknown_page": "no place, slot or no-slot sentence on the page",
    "rdvsp.maintenance": "the site shows its maintenance page",
    "rdvsp.unreadable_links": "{{ count }} slot links without a readable time",
    "rdvsp.week_slots": (
        "{{ count }} slots in the week shown"
        "{% if unreadable %} ({{ unreadable }} more links without a readable time){% endif %}"),
    "rdvsp.next_link": "no slot this week; the site links to its next availability",
    "rdvsp.empty_week": "a week of slots with no slot and no next availability",
    "rdvsp.places": "{{ count }} places with an availability",
    "rdvsp.organisations": "{{ count }} organisations with an availability",
    "rdvsp.ants_count_refused": (
        "the site refused the number of ANTS pre-applications ({{ param }}): it accepts "
        "{{ least }} to {{ most }}"),
    "rdvsp.ants_count_asked": (
        "the site asks how many ANTS pre-applications ({{ param }}) to search for"),
    "rdvsp.with_ants_count": "{{ detail }} ({{ param }}={{ count }})",
    "rdvsp.motif_needed": (
        "the URL stops at the choice of a motif: add {{ param }}= one of "
        "{{ offered | map('q') | join(', ') }}"),
    "rdvsp.ants_count_still_asked": (
        "the site still asks for the number of ANTS pre-applications after "
        "{{ param }}={{ count }}: it accepts {{ least }} to {{ most }} (set "
        "ants_pre_demandes_count in the target)"),
    "rdvsp.left_search": (
        "the site sent the search to {{ where }} instead of showing it"
        "{% if public_link is defined %}: on rdv.anct.gouv.fr a search starts from the "
        "mairie's public link (/org/…); copy the address with {{ public_link }}=… once the "
        "motif is chosen{% endif %}"),
    "rdvsp.next_only_announced": (
        "the site announces a next availability but shows no slot in its week"),
    "rdvsp.week_not_read": "week not read: {{ why }}",
    "rdvsp.refused_or_failed": "the site refused or failed",
    "rdvsp.max_lieux": "max_lieux = {{ count }}",
    "rdvsp.next_unreadable": "{{ why }}; its next availability could not be read",
    "rdvsp.next_only_known": "{{ why }}; only its next availability is known",
    "rdvsp.place_not_listed": (
        "not listed: the site lists only places with an availability "
        "(listed: {{ listed | join(', ') or 'none' }})"),
    "rdvsp.organisation_not_listed": (
        "not listed: the site lists only organisations with an availability "
        "(listed: {{ listed | join(', ') or 'none' }})"),
    "rdvsp.summary": "{{ places }} places, {{ slots }} slots",
    "ants.not_json": "the API answered with something other than JSON",
    "ants.invalid_json": "the API's answer is not valid JSON",
    "ants.api_error": "the API answered an error: {{ message | q }}",
    "ants.shape": "unexpected answer shape: {{ problem }}",
    "ants.shape.not_a_list": "expected a list of meeting points, got {{ got }}",
    "ants.shape.not_object": "{{ where }} is {{ got }}, not an object",
    "ants.shape.no_usable": "{{ where }} has no usable {{ key | q }}",
    "ants.shape.no_slot_list": "{{ where }} has no {{ key | q }} list",
    "ants.shape.not_a_datetime": "{{ where }}: {{ text | q }} is not a date and time",
    "ants.where.point_number": "meeting point #{{ number }}",
    "ants.where.point": "meeting point {{ point }}",
    "ants.where.slot": "meeting point {{ point }}, slot #{{ number }}",
    "ants.json.object": "an object",
    "ants.json.list": "a list",
    "ants.json.string": "a string",
    "ants.json.boolean": "a boolean",
    "ants.json.null": "null",
    "ants.json.number": "a number",
    "ants.free_slots": (
        "{{ slots }} free slot(s) at {{ with_slots }} of {{ points }} meeting point(s)"),
    "ants.points_without_slot": "{{ points }} meeting point(s), none with a free slot",
    "ants.no_point": "the API lists no meeting point with a free slot",
    "ants.watched": "{{ slots }} free slot(s) at the {{ points }} meeting point(s) watched",
    "ants.not_listed": (
        "not in the API's answer, which lists only meeting points with free slots"),
    "ants.no_token": "no token: set the target's token ({{ header }})",
    "ants.hub_refused": "HTTP 401: the hub refused the target's token ({{ header }})",
    "ants.unexpected_status": "HTTP {{ status }} from the API",
    "ants.with_message": "{{ detail }} ({{ message | q }})",
    "ants.point": (
        "{{ (slots ~ ' free slot(s)') if slots else 'no free slot listed' }}"
        "{% if distance_km is defined %} · {{ distance_km | number }} km{% endif %}"
        "{% if where is defined %} · {{ where }}{% endif %}"
        "{% if booking is defined %} · book on {{ booking }}"
        "{% elif website is defined %} · {{ website }}{% endif %}"),
    "captcha.not_an_image": (
        "the site's CAPTCHA is not a PNG, JPEG or GIF image: creneau does not pass it on"),
    "captcha.session_not_saved": (
        "the site accepted the code, but the session could not be saved: {{ error }}"),
    "release.learned": (
        "{{ at | weekday }}s around {{ at | clock }} ±{{ window }} min, "
        "{{ hits }} of the last {{ weeks }} weeks"),
}  # fmt: skip

_FR: dict[Code, str] = {
    "joined": "{{ items | join(' ; ') }}",
    "labelled": "{{ label }} : {{ detail }}",
    "page_says": "la page dit {{ phrase | q }}",
    "captcha_asked": "le site demande un CAPTCHA",
    "unexpected_page": "page inattendue ({{ kind }})",
    "not_checked_halted": "non vérifié : le site a refusé ou échoué",
    "http_forbidden": "HTTP 403 : le site refuse nos requêtes",
    "http_rate_limited": "HTTP 429 : trop de requêtes",
    "http_server_error": "HTTP {{ status }} renvoyé par le site",
    "http_not_found": "HTTP 404 : page introuvable (vérifiez l'adresse)",
    "http_status": "HTTP {{ status }}",
    "site_overloaded": "le site se dit surchargé",
    "site_closed": "le site indique : {{ phrase | q }}",
    "internal_error": "erreur interne : {{ kind }} : {{ message }}",
    "slots_not_kept": (
        "et {{ count | counted('autre créneau', 'autres créneaux') }} sur la page, non lus "
        "(creneau en lit {{ cap }} au plus)"),
    "none_among_read": (
        "aucun créneau parmi les {{ cap }} lus ; les autres créneaux de la page ne l'ont pas été"),
    "page_too_large": (
        "la page est trop grande : ses {{ elements }} premiers éléments ne montrent aucun créneau"),
    "ezbooking.desk_slots": "{{ count | counted('créneau libre', 'créneaux libres') }}",
    "rdvsp.referent_no_slot": "le site indique que le référent n'a aucun créneau libre",
    "rdvsp.week_closed": (
        "aucun créneau à réserver dans la semaine affichée ; ses jours suivants sont fermés à "
        "la réservation (« Date fermée à la reservation »)"),
    "ants.radius_refused": (
        "HTTP 403 : le hub n'offre pas le radius_km de la cible ({{ refusal | q }}) : choisissez "
        "un rayon qu'il offre ({{ choices | join(', ') }} km quand creneau a été écrit)"),
    "outbox.channel_gone": "le canal {{ channel | q }} n'a plus cette URL dans la configuration",
    "outbox.slots_gone": (
        "non envoyée : tous les créneaux qu'elle annonçait étaient partis avant qu'elle "
        "puisse l'être"),
    "outbox.too_old": "non envoyée : plus ancienne que {{ age }}",
    "outbox.withdrawn_clear": "retirée : {{ target }} a donné une réponse claire depuis",
    "outbox.withdrawn_other_state": (
        "retirée : {{ target }} est maintenant dans un autre état ({{ state }}), signalé à "
        "nouveau"),
    "outbox.withdrawn_host_up": "retirée : {{ host }} répond à nouveau",
    "outbox.withdrawn_with_down": (
        "retirée : l'alerte disant que le site était hors service a été retirée"),
    "outbox.withdrawn_release_changed": (
        "retirée : le site a changé la mise en ligne annoncée le {{ at | moment }} pour "
        "{{ target }}, signalée à nouveau"),
    "outbox.withdrawn_release_withdrawn": (
        "retirée : le site n'annonce plus de mise en ligne le {{ at | moment }} pour "
        "{{ target }}"),
    "outbox.withdrawn_release_passed": (
        "non envoyée : la mise en ligne annoncée le {{ at | moment }} pour {{ target }} est "
        "passée"),
    "interrupted": "interrompue : creneau s'est arrêté pendant la vérification",
    "fetch.cooling_down": (
        "{{ host }} est en pause ({{ reason }}) ; prochain essai le {{ until | moment }}"),
    "fetch.too_soon": (
        "dernière vérification il y a {{ elapsed }} ; au plus une vérification toutes les "
        "{{ floor }} (attendre {{ wait }})"),
    "fetch.unsafe_link": "page non demandée : {{ reason }}",
    "fetch.too_large": "réponse de plus de {{ kib }} Kio : lecture arrêtée",
    "fetch.redirect_loop": (
        "boucle de redirections : plus de {{ hops }} redirections (la dernière vers "
        "{{ url }})"),
    "fetch.robots_disallows": (
        "{{ host }}/robots.txt interdit {{ path }} à creneau (respect_robots = false dans la "
        "cible passe outre)"),
    "fetch.robots_unreachable": "robots.txt injoignable : {{ why }}",
    "fetch.resolve_timeout": "{{ host }} n'a pas été résolu en {{ seconds | number }} s",
    "fetch.unresolved": "{{ host }} ne se résout pas : {{ error }}",
    "fetch.deadline": (
        "la vérification a attendu le site plus de {{ seconds | number }} s au total"),
    "fetch.no_answer": "pas de réponse complète de {{ url }} en {{ seconds | number }} s",
    "fetch.connection_failed": "{{ kind }} : {{ message or 'échec de la connexion' }}",
    "guard.spaces": "le lien a des espaces ou des retours à la ligne autour de lui",
    "guard.control": "le lien contient des caractères de contrôle",
    "guard.backslash": (
        "le lien contient une barre oblique inverse (les lecteurs d'URL ne s'accordent pas "
        "sur son hôte)"),
    "guard.invalid": "ce n'est pas un lien valide ({{ error }})",
    "guard.scheme": (
        "seuls les liens http et https sont demandés (pas {{ scheme or 'un lien relatif' }})"),
    "guard.userinfo": "le lien porte un nom d'utilisateur ou un mot de passe (user@hôte) : refusé",
    "guard.percent": "l'hôte du lien est encodé en pourcentage : refusé",
    "guard.no_host": "le lien n'a pas d'hôte",
    "guard.port_zero": "le port du lien est 0",
    "guard.two_parsers": (
        "deux lecteurs d'URL lisent l'hôte du lien différemment ({{ written }}, {{ host }})"),
    "guard.written": "{{ host }} (écrit {{ written }})",
    "guard.non_standard": (
        "{{ host }} est une adresse écrite sous une forme non standard : écrivez-la a.b.c.d"),
    "guard.address": "{{ host }} est {{ why }} ([web] allow_private_targets = true l'autorise)",
    "guard.no_address": "{{ host }} ne correspond à aucune adresse",
    "guard.not_an_address": "{{ host }} correspond à {{ answer | q }}, qui n'est pas une adresse",
    "guard.resolves_to": (
        "{{ host }} correspond à {{ address }}, {{ why }} ([web] allow_private_targets = "
        "true l'autorise)"),
    "address.embedded": "la forme {{ form }} de {{ address }}, {{ why }}",
    "address.unspecified": "l'adresse non spécifiée",
    "address.loopback": "une adresse de bouclage (loopback)",
    "address.link_local": "une adresse lien-local",
    "address.multicast": "une adresse multicast",
    "address.cgnat": "une adresse de 100.64.0.0/10, NAT d'opérateur",
    "address.relay_6to4": "une adresse de 192.88.99.0/24, anciens relais 6to4",
    "address.documentation": "une adresse de 3fff::/20, réservée à la documentation",
    "address.private": "une adresse privée",
    "address.reserved": "une adresse réservée",
    "address.not_global": "une adresse qui n'est pas joignable sur Internet",
    "breaker.retry_after": "Retry-After",
    "breaker.retry_after_503": "HTTP 503 avec Retry-After",
    "breaker.probe_failed": "la vérification d'essai a échoué",
    "breaker.probe_running": "une vérification d'essai est en cours",
    "breaker.failures_in_a_row": "{{ count }} vérifications en échec d'affilée",
    "breaker.answers_again": "répond de nouveau",
    "html.no_target": (
        "le système html a besoin des sélecteurs et des phrases d'une cible pour lire une page"),
    "html.not_recognised": (
        "{% if selector is defined %}aucun élément ne correspond à slot_selector "
        "{{ selector | q }}{% if phrases %} et {% endif %}{% endif %}"
        "{% if phrases %}aucune des phrases de none_text n'est sur la page "
        "({{ phrases | map('q') | join(', ') }}){% endif %} : la page a peut-être changé"),
    "html.no_slot_words": (
        "les éléments que désigne slot_selector disent qu'il n'y a pas de créneau "
        "({{ said | q }}), mais aucune phrase de none_text ne le dit : ajoutez cette phrase "
        "à none_text"),
    "html.slots": (
        "{{ slots | counted('créneau', 'créneaux') }}"
        "{% if guichets > 1 %} à {{ guichets }} guichets{% endif %}"),
    "html.banner_too": (
        "un bandeau est aussi sur la page, sans effet à côté des créneaux ({{ banner }})"),
    "html.no_slot_for_guichet": "aucun créneau affiché pour ce guichet",
    "html.times_not_read": (
        "{{ count | counted('créneau', 'créneaux') }} sans heure lisible : {{ first | q }}"
        "{% if count > 1 %} (et {{ (count - 1) | counted('autre', 'autres') }}){% endif %}"),
    "ezbooking.grid_not_json": "la grille de la semaine n'est pas un JSON valide",
    "ezbooking.grid_no_envelope": "JSON sans l'enveloppe error_text/content d'ezjscore",
    "ezbooking.grid_error": "erreur de la grille de la semaine : {{ message }}",
    "ezbooking.grid_empty": "grille de la semaine sans tableau ni lien de créneau",
    "ezbooking.week_no_slot": (
        "{{ week or 'une semaine sans son en-tête' }} : aucun créneau libre"),
    "ezbooking.week": "{{ week }}",
    "ezbooking.slots_no_header": (
        "{{ count | counted('créneau libre', 'créneaux libres') }}, semaine sans en-tête"),
    "ezbooking.desks_offered": "{{ count | counted('guichet proposé', 'guichets proposés') }}",
    "ezbooking.no_desk": "choix du guichet sans aucun guichet",
    "ezbooking.no_free_slot": "la page indique qu'il n'y a aucun créneau libre",
    "ezbooking.finish_only": "l'étape « aucun créneau » (seulement un bouton « Terminer »)",
    "ezbooking.information": "informations avant le calendrier",
    "ezbooking.unknown_step": "étape de réservation non reconnue : {{ step or '?' }}",
    "ezbooking.terms": "conditions à accepter",
    "ezbooking.calendar_slots": (
        "l'étape du calendrier affiche "
        "{{ count | counted('créneau libre', 'créneaux libres') }}"),
    "ezbooking.calendar_opened": (
        "l'étape du calendrier s'est ouverte : le guichet a un créneau libre"),
    "ezbooking.desk_not_offered": (
        "le guichet {{ desk }} n'est pas proposé (proposés : {{ offered | join(', ') }})"),
    "ezbooking.no_planning_id": (
        f"{_OPENED_FR} mais sa page ne nomme aucun identifiant de planning pour la grille de "
        "la semaine ; mettez desks = [\"<id>\"], l'identifiant que les outils de "
        "développement de votre navigateur montrent dans "
        "/ezjscore/call/bookingserver::planning::assign::<booking>::<id>"),
    "ezbooking.back_to_desks": "le site nous a renvoyés au choix du guichet : aucun créneau libre",
    "ezbooking.week_trouble": "semaine {{ week }} : {{ trouble }}",
    "ezbooking.opened_but": f"{_OPENED_FR} mais {{{{ trouble }}}}",
    "ezbooking.first_slot_beyond": (
        f"{_OPENED_FR} mais aucun créneau libre dans "
        "{{ weeks | counted('semaine lue', 'semaines lues') }} : le premier est au-delà"),
    "ezbooking.opened_then": (
        f"{_OPENED_FR} ; aucun créneau libre dans "
        "{{ weeks | counted('semaine lue', 'semaines lues') }}, puis {{ trouble }}"),
    "ezbooking.desks": "{{ count }} guichets : {{ detail }}",
    "ezbooking.no_form": "aucun formulaire de réservation sur la page",
    "ezbooking.unknown_error_page": "page d'erreur non reconnue",
    "rdvpref.home": "la page d'accueil de la démarche",
    "rdvpref.unknown_page": "une page de RDV Préfecture que creneau ne connaît pas",
    "rdvpref.image_captcha": (
        "le site demande son CAPTCHA en image (le « code de sécurité ») : creneau peut vous "
        "le transmettre — lancez `creneau captcha {{ name }}` et recopiez le code"),
    "rdvpref.recaptcha": (
        f"le site demande un reCAPTCHA de Google (« Je ne suis pas un robot ») : "
        f"{_BROWSER_ONLY_FR}"),
    "rdvpref.hcaptcha": f"le site demande un test hCaptcha : {_BROWSER_ONLY_FR}",
    "rdvpref.turnstile": (
        f"le site répond par une vérification Cloudflare Turnstile : {_BROWSER_ONLY_FR}"),
    "rdvpref.bot_wall": (
        f"un contrôle anti-robots ({{{{ vendor }}}}) a répondu à la place du site : "
        f"{_BROWSER_ONLY_FR}"),
    "rdvpref.interstitial": (
        "le site affiche une page de vérification que creneau ne reconnaît pas : creneau ne "
        "peut pas vous la transmettre ; ouvrez la page dans un navigateur. creneau ne "
        "réessaie pas ; il regarde de nouveau à la prochaine vérification"),
    "rdvpref.wrong_code": (
        "le code saisi n'a pas été accepté : le site affiche un nouveau CAPTCHA"),
    "rdvpref.session_ended": (
        "la session sur le site a pris fin (le site indique errorSessionInvalide)"),
    "rdvpref.sent_home": (
        "le site nous a renvoyés à la page de la démarche : la session sur le site est perdue"),
    "rdvpref.free_slots": (
        "{{ count | counted('créneau libre affiché', 'créneaux libres affichés') }}"
        "{% if unreadable %} ({{ unreadable | counted('autre illisible', 'autres illisibles') "
        "}}){% endif %}"),
    "rdvpref.none_readable": (
        "{{ count | counted('créneau affiché', 'créneaux affichés') }}, aucun lisible"),
    "rdvpref.first_free_day": (
        "aucun créneau dans la semaine affichée ; le site indique que le premier jour libre "
        "est le {{ day | day }}"),
    "rdvpref.no_free_day": (
        "le site indique qu'aucun jour n'est libre "
        "{% if until is defined %}du {{ since | day }} au {{ until | day }}"
        "{% else %}à partir du {{ since | day }}{% endif %} (pas de premier jour libre)"),
    "rdvpref.week_empty": (
        "la page indique que la semaine affichée n'a pas de créneau (« Aucun créneau "
        "disponible sur cette semaine ») mais pas si une semaine suivante en a"),
    "rdvpref.no_slot_phrase": "page des créneaux sans créneau ni la phrase « aucun créneau »",
    "rdvpref.no_captcha_at": "{{ url }} n'affiche aucun CAPTCHA : {{ detail }}",
    "rdvpref.form_without_image": "formulaire de CAPTCHA sans image",
    "rdvpref.captcha_without_image": "le CAPTCHA n'a pas d'image",
    "rdvpref.not_an_image": "ce n'est pas une image",
    "rdvpref.image_unreadable": "l'image du CAPTCHA n'a pas pu être lue : {{ detail }}",
    "rdvpref.captcha_service": "le service de CAPTCHA : {{ detail }}",
    "rdvpref.no_captcha_id": "pas d'identifiant de CAPTCHA dans la réponse",
    "rdvpref.service_gave_none": "le service de CAPTCHA n'a donné aucun CAPTCHA : {{ detail }}",
    "rdvpref.after_code": "après l'envoi du code, {{ detail }}",
    "rdvsp.no_slot_search": "le site indique qu'aucun créneau ne correspond à la recherche",
    "rdvsp.no_slot_invitation": "le site indique qu'aucun créneau ne correspond à l'invitation",
    "rdvsp.motifs_offered": "{{ count | counted('motif proposé', 'motifs proposés') }}",
    "rdvsp.unknown_page": "ni lieu, ni créneau, ni phrase « aucun créneau » sur la page",
    "rdvsp.maintenance": "le site affiche sa page de maintenance",
    "rdvsp.unreadable_links": (
        "{{ count | counted('lien de créneau', 'liens de créneaux') }} sans heure lisible"),
    "rdvsp.week_slots": (
        "{{ count | counted('créneau', 'créneaux') }} dans la semaine affichée"
        "{% if unreadable %} ({{ unreadable | counted('autre lien', 'autres liens') }} sans "
        "heure lisible){% endif %}"),
    "rdvsp.next_link": (
        "aucun créneau cette semaine ; le site renvoie à sa prochaine disponibilité"),
    "rdvsp.empty_week": "une semaine de créneaux sans créneau ni prochaine disponibilité",
    "rdvsp.places": "{{ count | counted('lieu', 'lieux') }} avec une disponibilité",
    "rdvsp.organisations": (
        "{{ count | counted('organisation', 'organisations') }} avec une disponibilité"),
    "rdvsp.ants_count_refused": (
        "le site a refusé le nombre de pré-demandes ANTS ({{ param }}) : il accepte de "
        "{{ least }} à {{ most }}"),
    "rdvsp.ants_count_asked": (
        "le site demande pour combien de pré-demandes ANTS ({{ param }}) chercher"),
    "rdvsp.with_ants_count": "{{ detail }} ({{ param }}={{ count }})",
    "rdvsp.motif_needed": (
        "l'adresse s'arrête au choix d'un motif : ajoutez {{ param }}= avec l'un de "
        "{{ offered | map('q') | join(', ') }}"),
    "rdvsp.ants_count_still_asked": (
        "le site demande encore le nombre de pré-demandes ANTS après "
        "{{ param }}={{ count }} : il accepte de {{ least }} à {{ most }} (réglez "
        "ants_pre_demandes_count dans la cible)"),
    "rdvsp.left_search": (
        "le site a envoyé la recherche vers {{ where }} au lieu de l'afficher"
        "{% if public_link is defined %} : sur rdv.anct.gouv.fr, une recherche part du lien "
        "public de la mairie (/org/…) ; copiez l'adresse avec {{ public_link }}=… une fois "
        "le motif choisi{% endif %}"),
    "rdvsp.next_only_announced": (
        "le site annonce une prochaine disponibilité mais n'affiche aucun créneau dans sa "
        "semaine"),
    "rdvsp.week_not_read": "semaine non lue : {{ why }}",
    "rdvsp.refused_or_failed": "le site a refusé ou échoué",
    "rdvsp.max_lieux": "max_lieux = {{ count }}",
    "rdvsp.next_unreadable": "{{ why }} ; sa prochaine disponibilité n'a pas pu être lue",
    "rdvsp.next_only_known": "{{ why }} ; seule sa prochaine disponibilité est connue",
    "rdvsp.place_not_listed": (
        "absent de la liste : le site ne liste que les lieux avec une disponibilité "
        "(listés : {{ listed | join(', ') or 'aucun' }})"),
    "rdvsp.organisation_not_listed": (
        "absente de la liste : le site ne liste que les organisations avec une "
        "disponibilité (listées : {{ listed | join(', ') or 'aucune' }})"),
    "rdvsp.summary": "{{ places }} lieux, {{ slots | counted('créneau', 'créneaux') }}",
    "ants.not_json": "l'API a répondu autre chose que du JSON",
    "ants.invalid_json": "la réponse de l'API n'est pas un JSON valide",
    "ants.api_error": "l'API a répondu une erreur : {{ message | q }}",
    "ants.shape": "réponse de forme inattendue : {{ problem }}",
    "ants.shape.not_a_list": (
        "une liste de points de rendez-vous était attendue, l'API a donné {{ got }}"),
    "ants.shape.not_object": "{{ where }} est {{ got }}, pas un objet",
    "ants.shape.no_usable": "{{ where }} n'a pas de {{ key | q }} utilisable",
    "ants.shape.no_slot_list": "{{ where }} n'a pas de liste {{ key | q }}",
    "ants.shape.not_a_datetime": (
        "{{ where }} : {{ text | q }} n'est pas une date avec une heure"),
    "ants.where.point_number": "le point de rendez-vous n° {{ number }}",
    "ants.where.point": "le point de rendez-vous {{ point }}",
    "ants.where.slot": "le point de rendez-vous {{ point }}, créneau n° {{ number }}",
    "ants.json.object": "un objet",
    "ants.json.list": "une liste",
    "ants.json.string": "une chaîne de caractères",
    "ants.json.boolean": "un booléen",
    "ants.json.null": "null",
    "ants.json.number": "un nombre",
    "ants.free_slots": (
        "{{ slots | counted('créneau libre', 'créneaux libres') }} dans "
        "{{ with_slots | counted('point de rendez-vous', 'points de rendez-vous') }} sur "
        "{{ points }}"),
    "ants.points_without_slot": (
        "{{ points | counted('point de rendez-vous', 'points de rendez-vous') }}, aucun avec "
        "un créneau libre"),
    "ants.no_point": "l'API ne liste aucun point de rendez-vous avec un créneau libre",
    "ants.watched": (
        "{{ slots | counted('créneau libre', 'créneaux libres') }} dans les points de "
        "rendez-vous surveillés ({{ points }})"),
    "ants.not_listed": (
        "absent de la réponse de l'API, qui ne liste que les points de rendez-vous ayant "
        "des créneaux libres"),
    "ants.no_token": "pas de jeton : indiquez le jeton de la cible ({{ header }})",
    "ants.hub_refused": "HTTP 401 : le hub a refusé le jeton de la cible ({{ header }})",
    "ants.unexpected_status": "HTTP {{ status }} renvoyé par l'API",
    "ants.with_message": "{{ detail }} ({{ message | q }})",
    "ants.point": (
        "{{ slots | counted('créneau libre', 'créneaux libres') if slots "
        "else 'aucun créneau libre affiché' }}"
        "{% if distance_km is defined %} · {{ distance_km | number }} km{% endif %}"
        "{% if where is defined %} · {{ where }}{% endif %}"
        "{% if booking is defined %} · réserver sur {{ booking }}"
        "{% elif website is defined %} · {{ website }}{% endif %}"),
    "captcha.not_an_image": (
        "le CAPTCHA du site n'est pas une image PNG, JPEG ou GIF : creneau ne le transmet pas"),
    "captcha.session_not_saved": (
        "le site a accepté le code, mais la session n'a pas pu être enregistrée : {{ error }}"),
    "release.learned": (
        "{{ at | weekday }} vers {{ at | clock }} ±{{ window }} min, "
        "{{ hits }} des {{ weeks }} dernières semaines"),
}  # fmt: skip

TEXTS: dict[str, dict[Code, str]] = {"fr": _FR, "en": _EN}
