"""What `creneau evidence verify` says, in French and English: what it proved, then one line
per failure ("<file>: <why>"). Plain text; the command escapes it for the terminal (a file
name is data)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from creneau.evidence.files import MANIFEST
from creneau.evidence.times import short_fr, utc_clock
from creneau.evidence.timestamp import STAMP_FILES
from creneau.evidence.verify import RECORD, Failure, Verification

PARIS = ZoneInfo("Europe/Paris")

FAILURES: dict[str, dict[str, str]] = {
    "fr": {
        "missing": "fichier absent",
        "not_utf8": "le fichier n'est pas du texte UTF-8",
        "empty": "le fichier est vide",
        "bad_line": "ligne {line} mal formée (attendu : 64 chiffres hexadécimaux en minuscules, "
        "deux espaces, un chemin relatif)",
        "unsorted": "ligne {line} hors d'ordre ou en double",
        "not_listed": "fichier absent de MANIFEST.sha256",
        "listed_wrongly": "MANIFEST.sha256 ne doit pas lister ce fichier",
        "link": "lien symbolique, pas un fichier",
        "changed": "son SHA-256 diffère de celui de MANIFEST.sha256",
        "record_not_in_manifest": "listé dans RECORD.sha256 mais pas dans MANIFEST.sha256",
        "record_changed": "son SHA-256 diffère de celui de RECORD.sha256",
        "stamp_changed": "son SHA-256 diffère de celui de TIMESTAMP.sha256",
        "stamp_mismatch": "ne correspond pas au jeton et à la chaîne de certificats "
        "(l'un d'eux a changé)",
        "unreadable": "illisible ({why})",
        "not_granted": "l'autorité n'a pas accordé l'horodatage ({status})",
        "not_stamped": "ce n'est pas le fichier que le jeton horodate",
        "does_not_verify": "le jeton ne se vérifie pas ({why})",
    },
    "en": {
        "missing": "missing",
        "not_utf8": "not UTF-8 text",
        "empty": "empty",
        "bad_line": "line {line} malformed (expected: 64 lowercase hexadecimal digits, "
        "two spaces, a relative path)",
        "unsorted": "line {line} out of order or repeated",
        "not_listed": "not listed in MANIFEST.sha256",
        "listed_wrongly": "MANIFEST.sha256 must not list this file",
        "link": "a symbolic link, not a file",
        "changed": "its SHA-256 differs from MANIFEST.sha256's",
        "record_not_in_manifest": "listed in RECORD.sha256 but not in MANIFEST.sha256",
        "record_changed": "its SHA-256 differs from RECORD.sha256's",
        "stamp_changed": "its SHA-256 differs from TIMESTAMP.sha256's",
        "stamp_mismatch": "does not match the token and the certificate chain "
        "(one of them changed)",
        "unreadable": "unreadable ({why})",
        "not_granted": "the authority did not grant the time-stamp ({status})",
        "not_stamped": "not the file the token time-stamps",
        "does_not_verify": "the token does not verify ({why})",
    },
}

WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "checked": "Vérifié : {folder}",
        "manifest": "  {manifest} : {files} fichiers, chacun avec son SHA-256 "
        "(SHA-256 de {manifest} : {sha256})",
        "record": "  {record} : {files} fichiers, le relevé que présente le dossier "
        "(SHA-256 : {sha256})",
        "stamped": "  Horodatage : {utc} UTC ({paris}, heure de Paris), par {tsa}, "
        "numéro {serial}, politique {policy}",
        "unstamped": "  Pas d'horodatage qualifié (export fait sans --tsa).",
        "given": "  Vérifié avec le certificat racine donné par --ca {path} ({subject})",
        "system": "  Vérifié avec le magasin de certificats du système {path} ({subject})",
        "folder": "  Vérifié avec le certificat racine enregistré dans le dossier : cela ne "
        "prouve l'intégrité que si l'on a confiance en cette racine. Comparez son empreinte "
        "avec celle que publie l'autorité : {subject}, SHA-256 {fingerprint}",
        "proved": "Tout est prouvé.",
        "failed": "ÉCHEC : {count} problème(s)",
    },
    "en": {
        "checked": "Verified: {folder}",
        "manifest": "  {manifest}: {files} files, each with its SHA-256 "
        "(SHA-256 of {manifest}: {sha256})",
        "record": "  {record}: {files} files, the record the dossier presents (SHA-256: {sha256})",
        "stamped": "  Time-stamp: {utc} UTC ({paris}, Paris time), by {tsa}, "
        "serial {serial}, policy {policy}",
        "unstamped": "  No trusted time-stamp (exported without --tsa).",
        "given": "  Verified on the root certificate given with --ca {path} ({subject})",
        "system": "  Verified on the system's trust store {path} ({subject})",
        "folder": "  Verified on the root certificate stored in the folder: this proves "
        "integrity only if you trust that root. Compare its fingerprint with the one the "
        "authority publishes: {subject}, SHA-256 {fingerprint}",
        "proved": "Everything is proved.",
        "failed": "FAILED: {count} problem(s)",
    },
}


def failure_line(failure: Failure, language: str) -> str:
    why = FAILURES[language][failure.code].format(**dict(failure.values))
    return f"{failure.file or '.'}: {why}"


def report_lines(done: Verification, language: str) -> list[str]:
    """What was proved, then the verdict, then one line per failure."""
    words = WORDS[language]
    lines = [words["checked"].format(folder=done.folder)]
    if done.manifest_sha256:
        lines.append(
            words["manifest"].format(
                manifest=MANIFEST, files=done.files, sha256=done.manifest_sha256
            )
        )
    if done.record_files is not None:
        lines.append(
            words["record"].format(
                record=RECORD, files=done.record_files, sha256=done.record_sha256
            )
        )
    lines.extend(_stamp_lines(done, language))
    if done.ok:
        lines.append(words["proved"])
    else:
        lines.append(words["failed"].format(count=len(done.failures)))
        lines.extend(f"  {failure_line(failure, language)}" for failure in done.failures)
    return lines


def _stamp_lines(done: Verification, language: str) -> list[str]:
    words = WORDS[language]
    token, anchor = done.token, done.anchor
    if token is None:
        stamp_failed = any(failure.file in STAMP_FILES for failure in done.failures)
        return [] if stamp_failed else [words["unstamped"]]
    lines = []
    if token.time is not None:
        lines.append(
            words["stamped"].format(
                utc=utc_clock(token.time),
                paris=short_fr(token.time, PARIS),
                tsa=token.tsa,
                serial=token.serial,
                policy=token.policy,
            )
        )
    if anchor is not None:
        lines.append(
            words[anchor.kind].format(
                path=anchor.path, subject=anchor.subject, fingerprint=anchor.fingerprint
            )
        )
    return lines
