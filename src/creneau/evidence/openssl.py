"""OpenSSL's `openssl` command, for the RFC 3161 time-stamps of an export (`timestamp`,
`verify`): making a query, reading a reply (`openssl ts -reply -text`), listing certificates
(`openssl pkcs7 -print_certs`) and verifying a token (`openssl ts -verify`). The cryptography
is OpenSSL's, the one a judge's technician runs by hand; creneau only reads what it prints.

What `ts -reply -text` prints (OpenSSL 3, crypto/ts/ts_rsp_print.c):

    Status info:
    Status: Granted.
    ...
    TST info:
    Policy OID: 1.2.3.4.1
    Hash Algorithm: sha256
    Message data:
        0000 - 61 fb 19 72 cf 2f 40 b0-fc dc 98 e6 d6 2c 19 62   a..r./@......,.b
        0010 - ...
    Serial number: 0x02
    Time stamp: Dec  8 01:12:35 2026 GMT
    Nonce: 0x8AA895C391D13800
    TSA: DirName:/CN=Test TSA
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from creneau.evidence.period import EvidenceError

OPENSSL = "openssl"
SYSTEM_ROOTS = Path("/etc/ssl/certs/ca-certificates.crt")  # Debian's ca-certificates bundle
TIMEOUT = 60  # seconds; OpenSSL takes milliseconds
GRANTED = ("Granted.", "Granted with modifications.")

_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----\r?\n.*?-----END CERTIFICATE-----\r?\n?", re.DOTALL)
_FIELD = re.compile(r"^([A-Za-z][A-Za-z ]*): ?(.*)$")
_DUMP = re.compile(r"^\s+[0-9a-f]{4} - (.*)$")
_TIME = re.compile(r"^(\w{3}) +(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.(\d+))? (\d{4}) GMT$")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class OpenSSLMissing(EvidenceError):
    def __init__(self) -> None:
        super().__init__(
            "the openssl command is not installed: time-stamps need it "
            "(Debian, Ubuntu: sudo apt-get install openssl)"
        )


@dataclass(frozen=True)
class Ran:
    code: int
    stdout: bytes
    stderr: str

    @property
    def ok(self) -> bool:
        return self.code == 0

    @property
    def why(self) -> str:
        """OpenSSL's last line of complaint, for a one-line error."""
        lines = [line.strip() for line in self.stderr.splitlines() if line.strip()]
        wanted = [line for line in lines if not line.startswith("Using configuration")]
        if not wanted:
            return f"openssl exited with status {self.code}"
        parts = wanted[-1].split(":", 8)  # "40D7…:error:17800064:lib:func:reason:file:line:…"
        if len(parts) == 9 and parts[1] == "error":
            return f"{parts[5]}: {parts[8]}" if parts[8] else parts[5]
        return wanted[-1]


def require_openssl() -> None:
    if shutil.which(OPENSSL) is None:
        raise OpenSSLMissing()


def run(*args: str | Path, stdin: bytes | None = None) -> Ran:
    """`openssl ARGS`, its output read whole; OpenSSLMissing when there is no such command."""
    program = shutil.which(OPENSSL)
    if program is None:
        raise OpenSSLMissing()
    try:
        done = subprocess.run(
            [program, *(str(arg) for arg in args)],
            input=stdin,
            capture_output=True,
            check=False,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        raise EvidenceError(f"openssl {args[0]} took more than {TIMEOUT} s") from None
    return Ran(done.returncode, done.stdout, done.stderr.decode("utf-8", "replace"))


def system_roots(environ: dict[str, str] | None = None) -> Path | None:
    """The trust store: SSL_CERT_FILE when set (as httpx reads it), else Debian's bundle."""
    named = (environ if environ is not None else dict(os.environ)).get("SSL_CERT_FILE")
    for path in (Path(named) if named else None, SYSTEM_ROOTS):
        if path is not None and path.is_file():
            return path
    return None


@dataclass(frozen=True)
class Token:
    """What a time-stamp reply says, as `openssl ts -reply -text` prints it."""

    status: str  # "Granted.", "Rejected." …
    status_text: str  # the authority's own words, "unspecified" when it gave none
    hash_algorithm: str
    imprint: str  # hex of the message data: the SHA-256 of the stamped file
    serial: str
    time: datetime | None
    nonce: str
    tsa: str  # the authority's name as the token gives it ("unspecified" when it gives none)
    policy: str

    @property
    def granted(self) -> bool:
        return self.status in GRANTED


def read_reply(reply: Path) -> Token:
    """The reply's fields; EvidenceError when OpenSSL cannot read it as a TimeStampResp."""
    ran = run("ts", "-reply", "-in", reply, "-text")
    if not ran.ok:
        raise EvidenceError(f"not a time-stamp reply ({ran.why})")
    return parse_reply_text(ran.stdout.decode("utf-8", "replace"))


def parse_reply_text(text: str) -> Token:
    """Each "Name: value" line under "Status info:" and "TST info:", and the hex dump of
    the message data (the imprint) after "Message data:"."""
    fields: dict[str, str] = {}
    imprint: list[str] = []
    section, in_dump = "", False
    for line in text.splitlines():
        dumped = _DUMP.match(line)
        if dumped and in_dump:  # "    0000 - 61 fb …-fc dc …   a..r./@…": the hex part
            imprint.extend(re.findall(r"[0-9a-f]{2}", dumped.group(1).split("   ")[0]))
            continue
        in_dump = False
        found = _FIELD.match(line)
        if found is None:
            continue
        name, value = found.group(1), found.group(2).strip()
        if name in ("Status info", "TST info") and not value:
            section = name
        elif name == "Message data" and section == "TST info":
            in_dump = True
        else:
            fields.setdefault(f"{section}:{name}", value)
    tst = "TST info:"
    return Token(
        status=fields.get("Status info:Status", ""),
        status_text=fields.get("Status info:Status description", ""),
        hash_algorithm=fields.get(tst + "Hash Algorithm", ""),
        imprint="".join(imprint),
        serial=fields.get(tst + "Serial number", ""),
        time=parse_time(fields.get(tst + "Time stamp", "")),
        nonce=fields.get(tst + "Nonce", ""),
        tsa=fields.get(tst + "TSA", ""),
        policy=fields.get(tst + "Policy OID", ""),
    )


def parse_time(text: str) -> datetime | None:
    """'Dec  8 01:12:35 2026 GMT' (fractions of a second kept) as an aware UTC instant."""
    found = _TIME.match(text)
    if found is None or found.group(1) not in _MONTHS:
        return None
    month, day, hour, minute, second, fraction, year = found.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    return datetime(
        int(year),
        _MONTHS.index(month) + 1,
        int(day),
        int(hour),
        int(minute),
        int(second),
        micro,
        tzinfo=UTC,
    )


def query_nonce(query: Path) -> str:
    """The nonce `openssl ts -query` put in a query ('0x8AA895C391D13800')."""
    ran = run("ts", "-query", "-in", query, "-text")
    found = re.search(r"^Nonce: (\S+)$", ran.stdout.decode("ascii", "replace"), re.MULTILINE)
    if not ran.ok or found is None:
        raise EvidenceError(f"openssl made a time-stamp query without a nonce ({ran.why})")
    return found.group(1)


@dataclass(frozen=True)
class Certificate:
    pem: bytes
    subject: str
    issuer: str

    @property
    def self_signed(self) -> bool:
        return self.subject == self.issuer


def pem_blocks(data: bytes) -> list[bytes]:
    """The PEM certificates of a file, each ending with one newline."""
    return [block.rstrip(b"\r\n") + b"\n" for block in _PEM.findall(data)]


def certificates(pem: bytes) -> list[Certificate]:
    """Each certificate of a PEM bundle with its subject and issuer, as OpenSSL names them
    (one run of `openssl crl2pkcs7 | openssl pkcs7 -print_certs` for the whole bundle)."""
    blocks = pem_blocks(pem)
    if not blocks:
        return []
    with tempfile.TemporaryDirectory(prefix="creneau-certs-") as work:
        bundle = Path(work) / "bundle.pem"
        bundle.write_bytes(b"".join(blocks))
        bundled = run("crl2pkcs7", "-nocrl", "-certfile", bundle)
    listed = run("pkcs7", "-print_certs", stdin=bundled.stdout) if bundled.ok else bundled
    if not listed.ok:
        raise EvidenceError(f"cannot read the certificates ({listed.why})")
    return _printed_certificates(listed.stdout)


def token_certificates(reply: Path) -> list[Certificate]:
    """The certificates the authority put in its token (the signer's, often its chain)."""
    token = run("ts", "-reply", "-in", reply, "-token_out", "-out", "-")
    printed = run("pkcs7", "-inform", "DER", "-print_certs", stdin=token.stdout)
    if not token.ok or not printed.ok:
        raise EvidenceError(f"cannot read the token's certificates ({printed.why})")
    return _printed_certificates(printed.stdout)


def _printed_certificates(printed: bytes) -> list[Certificate]:
    """`pkcs7 -print_certs` writes, per certificate, "subject=…", "issuer=…" and its PEM."""
    text = printed.decode("utf-8", "replace")
    names = re.findall(r"^subject=(.*)\n^issuer=(.*)$", text, re.MULTILINE)
    blocks = pem_blocks(printed)
    if len(names) != len(blocks):
        raise EvidenceError("cannot read the certificates (unexpected openssl output)")
    return [
        Certificate(block, subject.strip(), issuer.strip())
        for block, (subject, issuer) in zip(blocks, names, strict=True)
    ]


def fingerprint(pem: bytes) -> str:
    """'AB:CD:…', the SHA-256 fingerprint authorities publish beside their roots."""
    ran = run("x509", "-noout", "-fingerprint", "-sha256", stdin=pem)
    text = ran.stdout.decode("ascii", "replace").strip()
    if not ran.ok or "=" not in text:
        raise EvidenceError(f"cannot read the certificate ({ran.why})")
    return text.split("=", 1)[1]


def verify_token(data: Path, reply: Path, roots: Path, untrusted: Path | None) -> Ran:
    """`openssl ts -verify -data DATA -in REPLY -CAfile ROOTS [-untrusted CHAIN]`."""
    extra: Sequence[str | Path] = ("-untrusted", untrusted) if untrusted is not None else ()
    return run("ts", "-verify", "-data", data, "-in", reply, "-CAfile", roots, *extra)
