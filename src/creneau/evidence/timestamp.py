"""A trusted time-stamp of an export (`creneau evidence … --tsa URL`): an RFC 3161
time-stamping authority signs the SHA-256 of MANIFEST.sha256 with the time, so that the
record, every file of which the manifest hashes, is shown to have existed then.

OpenSSL makes the query (SHA-256, a nonce, the authority's certificate asked for); the
polite client (creneau.fetch.client) POSTs it; the answer is checked (HTTP 200,
application/timestamp-reply, granted, the manifest's hash, our nonce) and verified by
`openssl ts -verify` against the authority's root (`--tsa-ca FILE`, else the system trust
store) before anything is written. Three files join the export:

    MANIFEST.sha256.tsr  the TimeStampResp, as received
    tsa-chain.pem        the certificates of the token, and the root that verified it
    TIMESTAMP.sha256     `sha256sum` lines of the two above: OpenSSL ignores text outside
                         PEM blocks and the unsigned parts of a reply; this shows any change
"""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from creneau.evidence.files import MANIFEST
from creneau.evidence.openssl import (
    Certificate,
    Token,
    certificates,
    fingerprint,
    query_nonce,
    read_reply,
    require_openssl,
    run,
    system_roots,
    token_certificates,
    verify_token,
)
from creneau.evidence.period import EvidenceError
from creneau.redact import public_link, redact

if TYPE_CHECKING:
    from creneau.fetch.client import PoliteClient
    from creneau.fetch.guard import Guard
    from creneau.page import Page

TSR = "MANIFEST.sha256.tsr"
CHAIN = "tsa-chain.pem"
STAMP = "TIMESTAMP.sha256"
STAMP_FILES = (TSR, CHAIN, STAMP)
QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
MAX_CHAIN = 5  # certificates looked for above the token's, towards a root


@dataclass(frozen=True)
class Stamped:
    """What the authority stated and what its token was verified against."""

    token: Token
    authority: str  # the URL asked (secrets masked)
    anchor: Path  # the trust store or --tsa-ca file the token verified against
    root: Certificate
    root_fingerprint: str


def stamp_lines(folder: Path) -> bytes:
    """TIMESTAMP.sha256's content for the token and chain now in `folder`."""
    return "".join(
        f"{hashlib.sha256((folder / name).read_bytes()).hexdigest()}  {name}\n"
        for name in (TSR, CHAIN)
    ).encode("ascii")


async def request_timestamp(
    folder: Path,
    url: str,
    client: PoliteClient,
    *,
    roots: Path | None = None,
    guard: Guard | None = None,
) -> Stamped:
    """Time-stamp `folder`'s MANIFEST.sha256 at the authority `url`, check and verify the
    answer, then write the three files. Raises EvidenceError (one line naming the authority)
    and then writes nothing."""
    from creneau.fetch.guard import Guard

    require_openssl()
    authority = redact(public_link(url))
    guard = guard if guard is not None else Guard(allow_private=True)
    if why := guard.check_url(url):
        raise EvidenceError(f"--tsa {authority}: {why}")
    if any((folder / name).exists() for name in STAMP_FILES):
        raise EvidenceError(f"{folder}: already time-stamped")
    with tempfile.TemporaryDirectory(prefix="creneau-tsa-") as work:
        query = Path(work) / "query.tsq"
        nonce = await asyncio.to_thread(_make_query, folder / MANIFEST, query)
        page = await _ask(client, url, query.read_bytes(), guard)
        return await asyncio.to_thread(_keep, folder, page, Path(work), nonce, roots, authority)


def _make_query(manifest: Path, query: Path) -> str:
    """The query OpenSSL makes (SHA-256, a random nonce, the signer's certificate asked
    for); its nonce."""
    made = run("ts", "-query", "-data", manifest, "-sha256", "-cert", "-out", query)
    if not made.ok:
        raise EvidenceError(f"openssl could not make the time-stamp query ({made.why})")
    return query_nonce(query)


def _keep(
    folder: Path, page: Page, work: Path, nonce: str, roots: Path | None, authority: str
) -> Stamped:
    """The answer checked, its token verified, then the three files written."""
    manifest = folder / MANIFEST
    reply = work / TSR
    reply.write_bytes(page.body)
    token = _check_answer(page, reply, manifest, nonce, authority)
    stamped, chain = _trusted_chain(manifest, reply, roots, token, authority)
    _write(folder, page.body, chain)
    return stamped


async def _ask(client: PoliteClient, url: str, query: bytes, guard: Guard) -> Page:
    """The query POSTed through the polite client: an API, not a page (no robots.txt)."""
    from creneau.fetch.errors import FetchError
    from creneau.targets import host_of

    try:
        async with client.session(
            f"tsa:{host_of(url)}", url, respect_robots=False, guard=guard
        ) as session:
            return await session.post_bytes(url, query, QUERY_TYPE, headers={"Accept": REPLY_TYPE})
    except FetchError as failure:
        raise EvidenceError(
            f"time-stamping authority {redact(public_link(url))}: {failure.detail}"
        ) from None


def _check_answer(page: Page, reply: Path, manifest: Path, nonce: str, authority: str) -> Token:
    def refused(what: str) -> EvidenceError:
        return EvidenceError(f"time-stamping authority {authority}: {what}")

    if page.status != 200:
        raise refused(f"answered HTTP {page.status}")
    kind = page.header("content-type").split(";")[0].strip().lower()
    if kind != REPLY_TYPE:
        raise refused(f"answered {kind or 'no content type'}, not {REPLY_TYPE}")
    try:
        token = read_reply(reply)
    except EvidenceError as failure:
        raise refused(str(failure)) from None
    if not token.granted:
        raise refused(f"refused the request ({token.status} {token.status_text})")
    expected = hashlib.sha256(manifest.read_bytes()).hexdigest()
    if token.hash_algorithm != "sha256" or token.imprint != expected:
        raise refused(f"its token stamps another file ({token.hash_algorithm} {token.imprint})")
    if not _same_nonce(token.nonce, nonce):
        raise refused(f"its token answers another query (nonce {token.nonce or 'missing'})")
    if token.time is None:
        raise refused("its token states no readable time")
    return token


def _same_nonce(given: str, sent: str) -> bool:
    try:
        return int(given, 16) == int(sent, 16)
    except ValueError:
        return False


def _trusted_chain(
    manifest: Path, reply: Path, roots: Path | None, token: Token, authority: str
) -> tuple[Stamped, list[Certificate]]:
    """The token's certificates and those of `roots` (else the system's trust store) that
    lead to a root; the token verified against that root by `openssl ts -verify`."""
    anchor = roots if roots is not None else system_roots()
    if anchor is None:
        raise EvidenceError(
            "no system trust store to verify the time-stamp: "
            "pass --tsa-ca with the authority's root certificate"
        )
    trusted = certificates(anchor.read_bytes())
    chain = _towards_root(token_certificates(reply), trusted)
    path = [cert for cert in chain if not (cert.self_signed and cert in trusted)]
    candidates = [cert for cert in chain if cert.self_signed and cert in trusted]
    root, why = _verifying_root(manifest, reply, path, candidates or [None], anchor)
    if root is None:
        raise EvidenceError(
            f"time-stamping authority {authority}: its token does not verify against {anchor} "
            f"({why}); pass --tsa-ca with the authority's root certificate"
        )
    return Stamped(token, authority, anchor, root, fingerprint(root.pem)), [*path, root]


def _verifying_root(
    manifest: Path,
    reply: Path,
    path: Sequence[Certificate],
    candidates: Sequence[Certificate | None],
    anchor: Path,
) -> tuple[Certificate | None, str]:
    """The first root (several may share a name) on which `openssl ts -verify` accepts the
    token, or None and OpenSSL's reason (None as a candidate: the whole `anchor` file)."""
    why = "no root of the chain is trusted"
    with tempfile.TemporaryDirectory(prefix="creneau-chain-") as work:
        untrusted, roots = Path(work) / CHAIN, Path(work) / "root.pem"
        untrusted.write_bytes(b"".join(cert.pem for cert in path))
        for candidate in candidates:
            if candidate is not None:
                roots.write_bytes(candidate.pem)
            ran = verify_token(manifest, reply, roots if candidate else anchor, untrusted)
            if ran.ok and candidate is not None:
                return candidate, ""
            why = ran.why if not ran.ok else why
    return None, why


def _towards_root(
    certs: Sequence[Certificate], trusted: Sequence[Certificate]
) -> list[Certificate]:
    """`certs` (each once: a token may carry its signer's twice), then the trusted
    certificates that issued them, up to a root."""
    chain = list(dict.fromkeys(certs))
    frontier = list(chain)
    for _ in range(MAX_CHAIN):
        issuers = {cert.issuer for cert in frontier}
        found = [cert for cert in trusted if cert.subject in issuers and cert not in chain]
        chain.extend(found)
        frontier = [cert for cert in found if not cert.self_signed]
        if not frontier:
            break
    return chain


def _write(folder: Path, reply: bytes, chain: Sequence[Certificate]) -> None:
    """The three files, each written beside its name then renamed: all three or none."""
    contents = {TSR: reply, CHAIN: b"".join(cert.pem for cert in chain)}
    written: list[Path] = []
    try:
        for name, content in contents.items():
            partial = folder / f".{name}.partial"
            written.append(partial)
            partial.write_bytes(content)
        for name in contents:
            written.append(folder / name)
            (folder / f".{name}.partial").rename(folder / name)
        written.append(folder / STAMP)
        (folder / STAMP).write_bytes(stamp_lines(folder))
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise


def read_token(folder: Path) -> Token:
    """What the export's token says (`openssl ts -reply -text`)."""
    return read_reply(folder / TSR)
